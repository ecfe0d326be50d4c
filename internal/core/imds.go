package core

import (
	"slices"
	"time"
)

// What the instance metadata service (IMDS) shows an instance: plain data
// read from the model, one view per request, so that an attach, a detach, an
// address assignment or an Elastic IP shows in the metadata as soon as the
// API has answered. internal/imds turns a view into AWS's tree of paths; the
// listener that decides which instance asks is the data plane's.

// MetadataView is one instance's metadata.
type MetadataView struct {
	InstanceID, InstanceType, ImageID, ReservationID string
	AccountID, Region, AZ, AZID, Architecture        string
	LaunchIndex                                      int32
	PendingTime                                      time.Time
	// Of the primary ENI (device 0): private and public addresses and names,
	// MAC, group names, first IPv6 address.
	PrivateIP, PrivateDNS, PublicIP, PublicDNS, MAC, IPv6 string
	SecurityGroups                                        []string
	UserData                                              string // base64, as given to RunInstances
	KeyName, PublicKey                                    string // the key pair of the launch (OpenSSH line)
	Options                                               MetadataOptions
	Interfaces                                            []MetadataInterface // by device index
	IAM                                                   *MetadataIAM        // nil: no instance profile (iaminstanceprofile.go)
}

// MetadataInterface is one attached ENI as network/interfaces/macs/<mac>/ shows it.
type MetadataInterface struct {
	ID, MAC, OwnerID, SubnetID, VpcID    string
	DeviceNumber, NetworkCard            int32
	LocalHostname, PublicHostname        string
	LocalIPv4s, IPv6s                    []string // primary first
	PublicIPv4s                          []string
	IPv4Associations                     map[string]string // public -> private
	IPv4Prefixes, IPv6Prefixes           []string
	SecurityGroupIDs, SecurityGroupNames []string
	SubnetIPv4CIDR                       string
	SubnetIPv6CIDRs, VpcIPv4CIDRs        []string // VpcIPv4CIDRs: primary block first
	VpcIPv6CIDRs                         []string
	VpcIPv4CIDR                          string
}

// InstanceMetadataOf returns the metadata of the instance the ENI eniID is
// attached to, in region; false when the ENI is not attached to a pending or
// running instance (a task's ENI, a detached one). It is what the metadata
// service answers to a request that came in through that ENI.
func (c *Core) InstanceMetadataOf(regionName, eniID string) (MetadataView, bool) {
	if !c.ServesRegion(regionName) {
		return MetadataView{}, false
	}
	r := c.region(regionName)
	r.mu.RLock()
	defer r.mu.RUnlock()
	tx := c.newTx(r, Caller{Region: regionName}, true)
	e := tx.enis.Get(eniID)
	if e == nil || e.Attachment == nil {
		return MetadataView{}, false
	}
	inst := tx.instances.Get(e.Attachment.InstanceID)
	if inst == nil || (inst.State != "pending" && inst.State != "running") {
		return MetadataView{}, false
	}
	tx.Account = inst.Owner
	return tx.metadataView(inst), true
}

// metadataView builds the view of inst.
func (tx *Tx) metadataView(inst *Instance) MetadataView {
	v := MetadataView{InstanceID: inst.ID, InstanceType: inst.InstanceType, ImageID: inst.ImageID,
		ReservationID: inst.ReservationID, AccountID: inst.Owner, Region: tx.Region, AZ: inst.AZ,
		AZID: tx.zoneID(inst.AZ), Architecture: instanceArch(inst), LaunchIndex: inst.AmiLaunchIndex,
		PendingTime: inst.LaunchTime, UserData: inst.UserData, KeyName: inst.KeyName, Options: instanceMetadata(inst),
		IAM: tx.metadataIAM(inst)}
	if inst.KeyName != "" {
		if k := tx.keyByName(inst.KeyName); k != nil {
			v.PublicKey = k.PublicKey
		}
	}
	enis := tx.enisOfInstance(inst.ID)
	for _, e := range enis {
		v.Interfaces = append(v.Interfaces, tx.metadataInterface(e))
	}
	if e := tx.instancePrimaryENI(enis); e != nil {
		v.PrivateIP = e.PrimaryIP()
		v.PrivateDNS = tx.instancePrivateDNS(v.PrivateIP)
		if v.PrivateIP == "" && inst.DNSNames.HostnameType == "resource-name" { // IPv6-only, as DescribeInstances
			v.PrivateDNS = tx.instanceResourceDNS(inst.ID)
		}
		v.PublicIP = tx.instancePublicIP(e)
		v.PublicDNS = tx.instancePublicDNS(v.PublicIP, e.VpcID)
		v.MAC = e.MAC
		v.SecurityGroups = tx.groupNames(e.Groups)
		if len(e.IPv6) > 0 {
			v.IPv6 = e.IPv6[0]
		}
	}
	return v
}

// metadataInterface is e as its MAC's directory shows it.
func (tx *Tx) metadataInterface(e *ENI) MetadataInterface {
	mi := MetadataInterface{ID: e.ID, MAC: e.MAC, OwnerID: e.Owner, SubnetID: e.SubnetID, VpcID: e.VpcID,
		DeviceNumber: e.Attachment.DeviceIndex, NetworkCard: e.Attachment.NetworkCardIndex,
		LocalHostname: tx.instancePrivateDNS(e.PrimaryIP()), IPv6s: slices.Clone(e.IPv6),
		IPv4Prefixes: slices.Clone(e.IPv4Prefixes), IPv6Prefixes: slices.Clone(e.IPv6Prefixes),
		SecurityGroupIDs: slices.Clone(e.Groups), SecurityGroupNames: tx.groupNames(e.Groups),
		IPv4Associations: map[string]string{}}
	for _, ip := range e.PrivateIPs {
		mi.LocalIPv4s = append(mi.LocalIPv4s, ip.Address) // primary first
	}
	if pub := tx.instancePublicIP(e); pub != "" {
		mi.PublicIPv4s = append(mi.PublicIPv4s, pub)
		mi.IPv4Associations[pub] = e.PrimaryIP()
		mi.PublicHostname = tx.instancePublicDNS(pub, e.VpcID)
	}
	for _, a := range tx.addressesOfENI(e.ID) {
		if _, ok := mi.IPv4Associations[a.PublicIP]; !ok {
			mi.PublicIPv4s = append(mi.PublicIPv4s, a.PublicIP)
			mi.IPv4Associations[a.PublicIP] = a.PrivateIP
		}
	}
	if s := tx.subnets.Get(e.SubnetID); s != nil {
		mi.SubnetIPv4CIDR = s.CidrBlock
		if s.Ipv6CidrBlock != "" {
			mi.SubnetIPv6CIDRs = []string{s.Ipv6CidrBlock}
		}
	}
	if vpc := tx.vpcs.Get(e.VpcID); vpc != nil {
		mi.VpcIPv4CIDR = vpc.CidrBlock
		for _, a := range vpc.CidrAssocs {
			if a.State == "associated" {
				mi.VpcIPv4CIDRs = append(mi.VpcIPv4CIDRs, a.Cidr)
			}
		}
		for _, a := range vpc.Ipv6Assocs {
			if a.State == "associated" {
				mi.VpcIPv6CIDRs = append(mi.VpcIPv6CIDRs, a.Cidr)
			}
		}
	}
	return mi
}

// groupNames are the names of the security groups ids, in order.
func (tx *Tx) groupNames(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if g := tx.groups.Get(id); g != nil {
			out = append(out, g.Name)
		}
	}
	return out
}
