package core

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The records below are the persisted VPC model of one region. Each has an id
// (its key) and a deep clone; names follow AWS. JSON is their stored form.

// Tags are a resource's key/value tags.
type Tags map[string]string

// Meta is per-region bookkeeping: counters that must never go backwards and
// the accounts whose default resources exist.
type Meta struct {
	Region     string          `json:"region"`
	MACCounter uint64          `json:"macCounter"`
	Accounts   map[string]bool `json:"accounts"` // bootstrapped accounts
	// DhcpDefaults are the accounts' default DHCP options sets (kept once
	// the set is deleted: the account is bootstrapped).
	DhcpDefaults map[string]string `json:"dhcpDefaults,omitempty"`
	// Defaults is, per account, the defaultsVersion its default resources
	// were last brought to (see upgradeDefaults).
	Defaults map[string]int `json:"defaults,omitempty"`
}

func (m *Meta) key() string { return "meta" }
func (m *Meta) clone() *Meta {
	c := *m
	c.Accounts = maps.Clone(m.Accounts)
	c.DhcpDefaults = maps.Clone(m.DhcpDefaults)
	c.Defaults = maps.Clone(m.Defaults)
	return &c
}

// CidrAssoc is an IPv4 or IPv6 CIDR block associated with a VPC or subnet.
type CidrAssoc struct {
	ID    string `json:"id"`
	Cidr  string `json:"cidr"`
	State string `json:"state"`
	// GoneAt is when a disassociated block was disassociated.
	GoneAt time.Time `json:"goneAt,omitzero"`
}

// VPC is a virtual private cloud.
type VPC struct {
	ID                 string      `json:"id"`
	Owner              string      `json:"owner"`
	CidrBlock          string      `json:"cidrBlock"`
	CidrAssocs         []CidrAssoc `json:"cidrAssocs"`
	Ipv6Assocs         []CidrAssoc `json:"ipv6Assocs,omitempty"`
	IsDefault          bool        `json:"isDefault,omitempty"`
	InstanceTenancy    string      `json:"instanceTenancy"`
	DhcpOptionsID      string      `json:"dhcpOptionsId"`
	EnableDnsSupport   bool        `json:"enableDnsSupport"`
	EnableDnsHostnames bool        `json:"enableDnsHostnames"`
	// EnableNAUMetrics is enableNetworkAddressUsageMetrics.
	EnableNAUMetrics bool   `json:"enableNauMetrics,omitempty"`
	Tags             Tags   `json:"tags,omitempty"`
	Seq              uint64 `json:"seq"` // creation order
	// CidrGone and Ipv6Gone are blocks disassociated lately, which
	// DescribeVpcs still shows, as AWS does, as "disassociated".
	CidrGone []CidrAssoc `json:"cidrGone,omitempty"`
	Ipv6Gone []CidrAssoc `json:"ipv6Gone,omitempty"`
}

func (v *VPC) key() string { return v.ID }
func (v *VPC) clone() *VPC {
	c := *v
	c.CidrAssocs = slices.Clone(v.CidrAssocs)
	c.Ipv6Assocs = slices.Clone(v.Ipv6Assocs)
	c.CidrGone = slices.Clone(v.CidrGone)
	c.Ipv6Gone = slices.Clone(v.Ipv6Gone)
	c.Tags = maps.Clone(v.Tags)
	return &c
}

// Subnet is a range of a VPC in one availability zone.
type Subnet struct {
	ID                          string `json:"id"`
	Owner                       string `json:"owner"`
	VpcID                       string `json:"vpcId"`
	AZ                          string `json:"az"`
	CidrBlock                   string `json:"cidrBlock"`
	Ipv6CidrBlock               string `json:"ipv6CidrBlock,omitempty"`
	Ipv6AssocID                 string `json:"ipv6AssocId,omitempty"`
	DefaultForAz                bool   `json:"defaultForAz,omitempty"`
	MapPublicIpOnLaunch         bool   `json:"mapPublicIpOnLaunch,omitempty"`
	AssignIpv6AddressOnCreation bool   `json:"assignIpv6AddressOnCreation,omitempty"`
	Tags                        Tags   `json:"tags,omitempty"`
	// DNS options a client may set with ModifySubnetAttribute.
	EnableDns64         bool   `json:"enableDns64,omitempty"`
	HostnameType        string `json:"hostnameType,omitempty"` // "" = ip-name
	EnableDnsARecord    bool   `json:"enableDnsARecord,omitempty"`
	EnableDnsAAAARecord bool   `json:"enableDnsAAAARecord,omitempty"`
	// Ipv6Gone are IPv6 blocks disassociated lately, shown as
	// "disassociated" for a while (subnetcidr.go).
	Ipv6Gone []CidrAssoc `json:"ipv6Gone,omitempty"`
	// Ipv6Native marks an IPv6-only subnet (no IPv4 block).
	Ipv6Native bool `json:"ipv6Native,omitempty"`
}

func (s *Subnet) key() string { return s.ID }
func (s *Subnet) clone() *Subnet {
	c := *s
	c.Ipv6Gone = slices.Clone(s.Ipv6Gone)
	c.Tags = maps.Clone(s.Tags)
	return &c
}

// Rule is one security group rule with exactly one peer (CIDR, IPv6 CIDR,
// prefix list or group), as DescribeSecurityGroupRules shows it.
type Rule struct {
	ID           string `json:"id"` // sgr-...
	Egress       bool   `json:"egress,omitempty"`
	Protocol     string `json:"protocol"` // "-1", "tcp", "udp", "icmp", "icmpv6" or a number
	FromPort     int32  `json:"fromPort"`
	ToPort       int32  `json:"toPort"`
	CidrIpv4     string `json:"cidrIpv4,omitempty"`
	CidrIpv6     string `json:"cidrIpv6,omitempty"`
	PrefixListID string `json:"prefixListId,omitempty"`
	GroupID      string `json:"groupId,omitempty"`
	GroupOwner   string `json:"groupOwner,omitempty"`
	Description  string `json:"description,omitempty"`
	Tags         Tags   `json:"tags,omitempty"`
}

// SecurityGroup is a VPC security group.
type SecurityGroup struct {
	ID          string `json:"id"`
	Owner       string `json:"owner"`
	VpcID       string `json:"vpcId"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Ingress     []Rule `json:"ingress,omitempty"`
	Egress      []Rule `json:"egress,omitempty"`
	Tags        Tags   `json:"tags,omitempty"`
}

func (g *SecurityGroup) key() string { return g.ID }
func (g *SecurityGroup) clone() *SecurityGroup {
	c := *g
	c.Ingress = cloneRules(g.Ingress)
	c.Egress = cloneRules(g.Egress)
	c.Tags = maps.Clone(g.Tags)
	return &c
}

func cloneRules(rs []Rule) []Rule {
	if rs == nil {
		return nil
	}
	out := make([]Rule, len(rs))
	for i, r := range rs {
		r.Tags = maps.Clone(r.Tags)
		out[i] = r
	}
	return out
}

// PrivateIP is one private IPv4 address of an ENI.
type PrivateIP struct {
	Address string `json:"address"`
	Primary bool   `json:"primary,omitempty"`
}

// Attachment ties an ENI to an instance.
type Attachment struct {
	ID                  string    `json:"id"` // eni-attach-...
	InstanceID          string    `json:"instanceId"`
	InstanceOwner       string    `json:"instanceOwner"`
	DeviceIndex         int32     `json:"deviceIndex"`
	NetworkCardIndex    int32     `json:"networkCardIndex"`
	Status              string    `json:"status"` // attaching | attached | detaching
	AttachTime          time.Time `json:"attachTime"`
	DeleteOnTermination bool      `json:"deleteOnTermination"`
}

// ENI is an elastic network interface.
type ENI struct {
	ID            string      `json:"id"`
	Owner         string      `json:"owner"`
	SubnetID      string      `json:"subnetId"`
	VpcID         string      `json:"vpcId"`
	AZ            string      `json:"az"`
	Description   string      `json:"description"`
	InterfaceType string      `json:"interfaceType"`
	MAC           string      `json:"mac"`
	PrivateIPs    []PrivateIP `json:"privateIps"` // primary first
	IPv6          []string    `json:"ipv6,omitempty"`
	IPv4Prefixes  []string    `json:"ipv4Prefixes,omitempty"` // delegated /28s
	IPv6Prefixes  []string    `json:"ipv6Prefixes,omitempty"` // delegated /80s
	// ConnTrack is the ENI's connection tracking configuration (nil: AWS's
	// defaults, not shown).
	ConnTrack        *ConnTrack `json:"connTrack,omitempty"`
	Groups           []string   `json:"groups"`
	SourceDestCheck  bool       `json:"sourceDestCheck"`
	RequesterManaged bool       `json:"requesterManaged,omitempty"`
	RequesterID      string     `json:"requesterId"`
	// PublicIP is the auto-assigned (not Elastic) public IPv4 of the primary
	// private address, if any.
	PublicIP   string      `json:"publicIp,omitempty"`
	Attachment *Attachment `json:"attachment,omitempty"`
	Tags       Tags        `json:"tags,omitempty"`
	CreatedAt  time.Time   `json:"createdAt"`
}

func (e *ENI) key() string { return e.ID }
func (e *ENI) clone() *ENI {
	c := *e
	c.PrivateIPs = slices.Clone(e.PrivateIPs)
	c.IPv6 = slices.Clone(e.IPv6)
	c.IPv4Prefixes = slices.Clone(e.IPv4Prefixes)
	c.IPv6Prefixes = slices.Clone(e.IPv6Prefixes)
	if e.ConnTrack != nil {
		ct := *e.ConnTrack
		c.ConnTrack = &ct
	}
	c.Groups = slices.Clone(e.Groups)
	if e.Attachment != nil {
		a := *e.Attachment
		c.Attachment = &a
	}
	c.Tags = maps.Clone(e.Tags)
	return &c
}

// PrimaryIP returns the ENI's primary private IPv4 address.
func (e *ENI) PrimaryIP() string {
	for _, p := range e.PrivateIPs {
		if p.Primary {
			return p.Address
		}
	}
	return ""
}

// HasIPv4Prefix reports whether the /28 prefix (in canonical form) is
// delegated to the ENI.
func (e *ENI) HasIPv4Prefix(prefix string) bool { return slices.Contains(e.IPv4Prefixes, prefix) }

// HasIPv6Prefix reports whether the /80 prefix (in canonical form) is
// delegated to the ENI.
func (e *ENI) HasIPv6Prefix(prefix string) bool { return slices.Contains(e.IPv6Prefixes, prefix) }

// HasIP reports whether addr is one of the ENI's private IPv4 addresses.
func (e *ENI) HasIP(addr string) bool {
	for _, p := range e.PrivateIPs {
		if p.Address == addr {
			return true
		}
	}
	return false
}

// Instance is an EC2 instance. Its ENIs are the ENIs attached to it.
type Instance struct {
	ID               string    `json:"id"`
	Owner            string    `json:"owner"`
	ReservationID    string    `json:"reservationId"`
	ImageID          string    `json:"imageId"`
	InstanceType     string    `json:"instanceType"`
	AZ               string    `json:"az"`
	SubnetID         string    `json:"subnetId"`
	VpcID            string    `json:"vpcId"`
	State            string    `json:"state"` // pending|running|stopping|stopped|shutting-down|terminated
	StateReason      string    `json:"stateReason,omitempty"`
	KeyName          string    `json:"keyName,omitempty"`
	UserData         string    `json:"userData,omitempty"`
	LaunchTime       time.Time `json:"launchTime"`
	AmiLaunchIndex   int32     `json:"amiLaunchIndex"`
	ClientToken      string    `json:"clientToken,omitempty"`
	DisableApiTerm   bool      `json:"disableApiTermination,omitempty"`
	ShutdownBehavior string    `json:"shutdownBehavior,omitempty"`
	Tags             Tags      `json:"tags,omitempty"`
	TerminatedAt     time.Time `json:"terminatedAt,omitzero"`
	// Host is the cluster host it is placed on (cluster.go); "" on a
	// single host.
	Host string `json:"host,omitempty"`
	// AutoPublicIP says the instance was launched with an auto-assigned
	// public IPv4, so StartInstances gives it a new one (AWS §3.5).
	AutoPublicIP   bool `json:"autoPublicIp,omitempty"`
	DisableApiStop bool `json:"disableApiStop,omitempty"`
	// Metadata is the instance's metadata options (nil: its image's
	// defaults, for instances stored before they were kept).
	Metadata *MetadataOptions `json:"metadata,omitempty"`
	// As launched (RunInstances or its launch template): stored and
	// described, with no effect here.
	EbsOptimized bool `json:"ebsOptimized,omitempty"`
	Monitoring   bool `json:"monitoring,omitempty"`  // detailed monitoring
	Hibernation  bool `json:"hibernation,omitempty"` // HibernationOptions.Configured
	// CPUCredits is a burstable instance's CPU credit option ("": its
	// type's default); AutoRecovery its maintenance option ("": default).
	CPUCredits   string `json:"cpuCredits,omitempty"`
	AutoRecovery string `json:"autoRecovery,omitempty"`
	// CapacityPreference is its Capacity Reservation preference ("": open).
	CapacityPreference string `json:"capacityPreference,omitempty"`
	// CPU is the CpuOptions it was launched with (nil: its type's defaults),
	// see instancecpu.go.
	CPU *CPUOptions `json:"cpu,omitempty"`

	// DNSNames are the instance's hostname options, from its subnet or the
	// launch (zero for instances launched before they were kept: ip-name).
	DNSNames InstanceDNSNames `json:"dnsNames,omitzero"`
	// Profile is the instance's IAM instance profile association (nil:
	// none), see iaminstanceprofile.go.
	Profile *ProfileAssoc `json:"profile,omitempty"`
}

// MetadataOptions are an instance's instance metadata service options.
type MetadataOptions struct {
	HttpTokens   string `json:"httpTokens"`   // optional | required
	HopLimit     int32  `json:"hopLimit"`     // 1-64
	HttpEndpoint string `json:"httpEndpoint"` // enabled | disabled
	HttpIPv6     string `json:"httpIpv6"`     // enabled | disabled
	Tags         string `json:"tags"`         // enabled | disabled
}

func (i *Instance) key() string { return i.ID }
func (i *Instance) clone() *Instance {
	c := *i
	c.Tags = maps.Clone(i.Tags)
	if i.Metadata != nil {
		m := *i.Metadata
		c.Metadata = &m
	}
	if i.Profile != nil {
		a := *i.Profile
		c.Profile = &a
	}
	if i.CPU != nil {
		o := *i.CPU
		c.CPU = &o
	}
	return &c
}

// Address is an Elastic IP address.
type Address struct {
	AllocationID  string `json:"allocationId"`
	Owner         string `json:"owner"`
	PublicIP      string `json:"publicIp"`
	AssociationID string `json:"associationId,omitempty"`
	ENIID         string `json:"eniId,omitempty"`
	PrivateIP     string `json:"privateIp,omitempty"`
	Tags          Tags   `json:"tags,omitempty"`
	// PtrRecord is the reverse DNS name set with ModifyAddressAttribute
	// ("": AWS's default name).
	PtrRecord string `json:"ptrRecord,omitempty"`
}

func (a *Address) key() string { return a.AllocationID }
func (a *Address) clone() *Address {
	c := *a
	c.Tags = maps.Clone(a.Tags)
	return &c
}

// IGWAttachment is an internet gateway's attachment to a VPC.
type IGWAttachment struct {
	VpcID string `json:"vpcId"`
	State string `json:"state"`
}

// InternetGateway is an internet gateway.
type InternetGateway struct {
	ID          string          `json:"id"`
	Owner       string          `json:"owner"`
	Attachments []IGWAttachment `json:"attachments,omitempty"`
	Tags        Tags            `json:"tags,omitempty"`
}

func (g *InternetGateway) key() string { return g.ID }
func (g *InternetGateway) clone() *InternetGateway {
	c := *g
	c.Attachments = slices.Clone(g.Attachments)
	c.Tags = maps.Clone(g.Tags)
	return &c
}

// Route is one route of a route table.
type Route struct {
	DestinationCidrBlock     string `json:"dest,omitempty"`
	DestinationIpv6CidrBlock string `json:"dest6,omitempty"`
	GatewayID                string `json:"gatewayId,omitempty"` // "local" or igw-...
	NetworkInterfaceID       string `json:"eniId,omitempty"`
	InstanceID               string `json:"instanceId,omitempty"`
	EgressOnlyIGWID          string `json:"eigwId,omitempty"`
	NatGatewayID             string `json:"natId,omitempty"`
	VpcPeeringConnectionID   string `json:"pcxId,omitempty"`
	// DestinationPrefixListID is the destination of a route to a managed
	// prefix list (neither CIDR is set then).
	DestinationPrefixListID string `json:"destPl,omitempty"`
	// Local says the route replaces the target of the VPC's local route to
	// its destination (ReplaceRoute of a local route).
	Local  bool   `json:"local,omitempty"`
	Origin string `json:"origin"` // CreateRouteTable | CreateRoute
}

// RouteTableAssoc associates a route table with a subnet (or marks it main).
type RouteTableAssoc struct {
	ID       string `json:"id"` // rtbassoc-...
	SubnetID string `json:"subnetId,omitempty"`
	Main     bool   `json:"main,omitempty"`
	// GatewayID is the internet gateway of an edge association.
	GatewayID string `json:"gatewayId,omitempty"`
}

// RouteTable is a VPC route table.
type RouteTable struct {
	ID           string            `json:"id"`
	Owner        string            `json:"owner"`
	VpcID        string            `json:"vpcId"`
	Routes       []Route           `json:"routes"`
	Associations []RouteTableAssoc `json:"associations,omitempty"`
	Tags         Tags              `json:"tags,omitempty"`
	// PropagatingVgws are the VPN gateways whose routes it propagates (vpngateway.go).
	PropagatingVgws []string `json:"vgws,omitempty"`
	// GoneGatewayAssoc is the last gateway association disassociated from it,
	// described as disassociated (AWS lists one for a while).
	GoneGatewayAssoc *RouteTableAssoc `json:"goneGatewayAssoc,omitempty"`
}

func (r *RouteTable) key() string { return r.ID }
func (r *RouteTable) clone() *RouteTable {
	c := *r
	c.Routes = slices.Clone(r.Routes)
	c.Associations = slices.Clone(r.Associations)
	c.PropagatingVgws = slices.Clone(r.PropagatingVgws)
	c.Tags = maps.Clone(r.Tags)
	return &c
}

// Permission is a network interface permission (eni-perm-...).
type Permission struct {
	ID         string `json:"id"`
	Owner      string `json:"owner"`
	ENIID      string `json:"eniId"`
	Account    string `json:"account,omitempty"`
	Service    string `json:"service,omitempty"`
	Permission string `json:"permission"` // INSTANCE-ATTACH | EIP-ASSOCIATE
	State      string `json:"state"`
}

func (p *Permission) key() string        { return p.ID }
func (p *Permission) clone() *Permission { c := *p; return &c }

// Token remembers the reply to a request with a ClientToken, for
// TokenLifetime.
type Token struct {
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Deflated says Output is stored compressed (replies are XML and shrink
	// five-fold, which makes loading a large store much faster).
	Deflated bool `json:"deflated,omitempty"`
	// Dict is the preset dictionary of the compressed Output: 0 none, 1
	// tokenDictV1.
	Dict   uint8  `json:"dict,omitempty"`
	Key    string `json:"key"` // account/action/token
	Hash   string `json:"hash"`
	Output []byte `json:"output"`
}

func (t *Token) key() string { return t.Key }

// tokenFormat is the first byte of a token's binary form.
const tokenFormat = 1

// MarshalBinary stores a token compactly: format, creation time, flags
// (deflated, dictionary), then key, hash and reply, each with its length.
func (t *Token) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 16+len(t.Key)+len(t.Hash)+len(t.Output))
	b = append(b, tokenFormat)
	b = binary.AppendVarint(b, t.CreatedAt.UnixNano())
	flags := t.Dict << 1 // bit 0: deflated; bits 1-7: the dictionary
	if t.Deflated {
		flags |= 1
	}
	b = append(b, flags)
	for _, f := range [][]byte{[]byte(t.Key), []byte(t.Hash), t.Output} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b, nil
}

// UnmarshalBinary reads MarshalBinary's form.
func (t *Token) UnmarshalBinary(b []byte) error {
	bad := errors.New("token: bad binary form")
	if len(b) < 2 || b[0] != tokenFormat {
		return bad
	}
	b = b[1:]
	ns, n := binary.Varint(b)
	if n <= 0 || len(b) < n+1 {
		return bad
	}
	t.CreatedAt = time.Unix(0, ns).UTC()
	t.Deflated, t.Dict = b[n]&1 == 1, b[n]>>1
	b = b[n+1:]
	var fields [3][]byte
	for i := range fields {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return bad
		}
		fields[i] = b[n : n+int(l)]
		b = b[n+int(l):]
	}
	t.Key, t.Hash, t.Output = string(fields[0]), string(fields[1]), bytes.Clone(fields[2])
	return nil
}
func (t *Token) clone() *Token { c := *t; return &c }

// ConnTrack is an ENI's ConnectionTrackingSpecification: idle timeouts, in
// seconds, of its tracked TCP connections, UDP streams and other UDP flows.
type ConnTrack struct {
	TCPEstablished int32 `json:"tcpEstablished"`
	UDPStream      int32 `json:"udpStream"`
	UDP            int32 `json:"udp"`
}

// Volume is an EBS volume: an instance's root volume, created at launch
// from its image's block device mapping, or another volume of the launch.
type Volume struct {
	ID         string    `json:"id"` // vol-...
	Owner      string    `json:"owner"`
	AZ         string    `json:"az"`
	Size       int32     `json:"size"` // GiB
	Type       string    `json:"type"` // gp2 | gp3 | io1 | io2 | st1 | sc1 | standard
	Iops       int32     `json:"iops,omitempty"`
	Throughput int32     `json:"throughput,omitempty"` // MiB/s, gp3 only
	SnapshotID string    `json:"snapshotId,omitempty"`
	Encrypted  bool      `json:"encrypted,omitempty"`
	KmsKeyID   string    `json:"kmsKeyId,omitempty"`
	CreateTime time.Time `json:"createTime"`
	// Attachment is nil for an available volume.
	Attachment *VolumeAttachment `json:"attachment,omitempty"`
	Tags       Tags              `json:"tags,omitempty"`
	// Modification is the volume's latest ModifyVolume (nil: never
	// modified); what it asked for is already the volume's.
	Modification *VolumeModification `json:"modification,omitempty"`
}

// VolumeModification is a ModifyVolume of a volume: what the volume was,
// and when. Its state follows from the time (see volumeModState).
type VolumeModification struct {
	StartTime      time.Time `json:"startTime"`
	OrigSize       int32     `json:"origSize"`
	OrigType       string    `json:"origType"`
	OrigIops       int32     `json:"origIops,omitempty"`
	OrigThroughput int32     `json:"origThroughput,omitempty"`
}

// VolumeAttachment ties a volume to an instance at a device name.
type VolumeAttachment struct {
	InstanceID          string    `json:"instanceId"`
	Device              string    `json:"device"`
	AttachTime          time.Time `json:"attachTime"`
	DeleteOnTermination bool      `json:"deleteOnTermination"`
}

func (v *Volume) key() string { return v.ID }
func (v *Volume) clone() *Volume {
	c := *v
	if v.Attachment != nil {
		a := *v.Attachment
		c.Attachment = &a
	}
	if v.Modification != nil {
		m := *v.Modification
		c.Modification = &m
	}
	c.Tags = maps.Clone(v.Tags)
	return &c
}

// KeyPair is an EC2 key pair: its public key only (the private key of a
// created pair is returned once and not kept).
type KeyPair struct {
	ID          string    `json:"id"` // key-...
	Owner       string    `json:"owner"`
	Name        string    `json:"name"`
	Type        string    `json:"type"` // rsa | ed25519
	Fingerprint string    `json:"fingerprint"`
	PublicKey   string    `json:"publicKey"` // OpenSSH authorized_keys line
	CreateTime  time.Time `json:"createTime"`
	Tags        Tags      `json:"tags,omitempty"`
}

func (k *KeyPair) key() string { return k.ID }
func (k *KeyPair) clone() *KeyPair {
	c := *k
	c.Tags = maps.Clone(k.Tags)
	return &c
}

// LaunchTemplate is a launch template and its versions. A version's data is
// kept as it was given (the request's shape); numbers are never reused.
type LaunchTemplate struct {
	ID             string                  `json:"id"` // lt-...
	Owner          string                  `json:"owner"`
	Name           string                  `json:"name"`
	CreateTime     time.Time               `json:"createTime"`
	DefaultVersion int64                   `json:"defaultVersion"`
	NextVersion    int64                   `json:"nextVersion"` // the number the next version gets
	Versions       []LaunchTemplateVersion `json:"versions"`    // by number, ascending
	Tags           Tags                    `json:"tags,omitempty"`
}

// LaunchTemplateVersion is one version of a launch template. Versions are
// never changed once made, so clones share them.
type LaunchTemplateVersion struct {
	Number      int64                             `json:"number"`
	Description string                            `json:"description,omitempty"`
	CreateTime  time.Time                         `json:"createTime"`
	Data        ec2wire.RequestLaunchTemplateData `json:"data"`
}

func (t *LaunchTemplate) key() string { return t.ID }
func (t *LaunchTemplate) clone() *LaunchTemplate {
	c := *t
	c.Versions = slices.Clone(t.Versions)
	c.Tags = maps.Clone(t.Tags)
	return &c
}
