package core

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// This file belongs to the ENI work package. The signatures eniSpec,
// createENI, attachENI, eniOut, instanceENIOut and eniFilters are shared with
// RunInstances (instance.go) and must keep their meaning.

// ENI limits that do not depend on an instance type.
const (
	// eniMaxGroups is the default quota of security groups per ENI.
	eniMaxGroups = 5
	// eniUnattachedMaxIPs caps the private IPv4 (and, separately, IPv6)
	// addresses of an ENI that is not attached to an instance, where no
	// instance type bounds them. AWS's real cap is unverified; 50 is the
	// largest per-ENI limit of any instance type.
	eniUnattachedMaxIPs = 50
)

// eniMaxDescriptionLen bounds an ENI's description, as the EC2 console does.
const eniMaxDescriptionLen = 255

func eniCheckDescription(d string) error {
	if len(d) > eniMaxDescriptionLen {
		return errorf(CodeInvalidParameterValue, "Value for parameter description is invalid. Length exceeds maximum of %d.", eniMaxDescriptionLen)
	}
	return nil
}

// eniInterfaceTypes are the InterfaceType values a client may create.
var eniInterfaceTypes = []string{"interface", "efa", "efa-only", "trunk"}

// eniSpec describes a new ENI.
type eniSpec struct {
	Subnet           *Subnet
	Description      string
	PrimaryIP        string   // "" = allocate from the subnet
	SecondaryIPs     []string // explicit secondary private IPv4s
	SecondaryCount   int      // secondary private IPv4s to allocate
	IPv6             []string // explicit IPv6 addresses
	IPv6Count        int      // IPv6 addresses to allocate; -1 = the subnet's AssignIpv6AddressOnCreation default
	IPv4Prefixes     []string // explicit delegated /28s
	IPv4PrefixCount  int      // /28s to delegate
	IPv6Prefixes     []string // explicit delegated /80s
	IPv6PrefixCount  int      // /80s to delegate
	ConnTrack        *ConnTrack
	Groups           []string // security group ids; empty = the VPC's default group
	InterfaceType    string   // "" = "interface"
	RequesterManaged bool
	RequesterID      string // "" = the caller's account
	Tags             Tags
}

// requestedPrefixes takes the Ipv4Prefix.N / Ipv6Prefix.N of a create or
// launch request into the spec.
func (spec *eniSpec) requestedPrefixes(v4 []ec2wire.Ipv4PrefixSpecificationRequest, v6 []ec2wire.Ipv6PrefixSpecificationRequest) error {
	for _, pf := range v4 {
		if str(pf.Ipv4Prefix) == "" {
			return errorf(CodeMissingParameter, "The request must contain the parameter ipv4Prefix")
		}
		spec.IPv4Prefixes = append(spec.IPv4Prefixes, str(pf.Ipv4Prefix))
	}
	for _, pf := range v6 {
		if str(pf.Ipv6Prefix) == "" {
			return errorf(CodeMissingParameter, "The request must contain the parameter ipv6Prefix")
		}
		spec.IPv6Prefixes = append(spec.IPv6Prefixes, str(pf.Ipv6Prefix))
	}
	return nil
}

// createENI validates spec, allocates addresses and a MAC and puts a new,
// available ENI. Explicit addresses must be inside the subnet, not reserved
// and free; groups default to the VPC's default group and must belong to the
// subnet's VPC.
func (tx *Tx) createENI(spec eniSpec) (*ENI, error) {
	s := spec.Subnet
	if s == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter subnetId")
	}
	typ, ipv6Count, err := spec.check(s)
	if err != nil {
		return nil, err
	}
	groups, err := tx.eniCheckGroups(s, spec.Groups, false)
	if err != nil {
		return nil, err
	}
	requester := spec.RequesterID
	if requester == "" {
		requester = tx.Account
	}
	e := &ENI{
		ConnTrack: spec.ConnTrack,
		ID:        tx.newID("eni"), Owner: tx.Account, SubnetID: s.ID, VpcID: s.VpcID, AZ: s.AZ,
		Description: spec.Description, InterfaceType: typ, Groups: groups, SourceDestCheck: true,
		RequesterManaged: spec.RequesterManaged, RequesterID: requester, Tags: spec.Tags, CreatedAt: tx.Now(),
	}
	// Put the ENI first: the address allocator sees the addresses it already
	// took in this transaction's overlay.
	tx.enis.Put(e)
	if typ != "efa-only" {
		if err := tx.createENIIPv4(e, s, &spec); err != nil {
			return nil, err
		}
	}
	if err := tx.createENIIPv6(e, s, &spec, ipv6Count); err != nil {
		return nil, err
	}
	e.MAC = tx.nextMAC()
	return e, nil
}

// check validates a new ENI's spec in subnet s and returns its interface
// type and how many IPv6 addresses to allocate.
func (spec *eniSpec) check(s *Subnet) (typ string, ipv6Count int, err error) {
	typ = spec.InterfaceType
	if typ == "" {
		typ = "interface"
	}
	if !spec.RequesterManaged && !slices.Contains(eniInterfaceTypes, typ) {
		return "", 0, errorf(CodeInvalidParameterValue, "Value (%s) for parameter interfaceType is invalid. Allowed values are [%s].", typ, strings.Join(eniInterfaceTypes, ", "))
	}
	if err := eniCheckDescription(spec.Description); err != nil {
		return "", 0, err
	}
	if spec.SecondaryCount < 0 {
		return "", 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter secondaryPrivateIpAddressCount is invalid. Expecting a non-negative value.", spec.SecondaryCount)
	}
	if spec.IPv6Count < -1 {
		return "", 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv6AddressCount is invalid. Expecting a non-negative value.", spec.IPv6Count)
	}
	if len(spec.SecondaryIPs) > 0 && spec.SecondaryCount > 0 {
		return "", 0, errorf(CodeInvalidParameterCombination, "The parameters privateIpAddresses and secondaryPrivateIpAddressCount cannot be specified together.")
	}
	if len(spec.IPv6) > 0 && spec.IPv6Count > 0 {
		return "", 0, errorf(CodeInvalidParameterCombination, "The parameters ipv6Addresses and ipv6AddressCount cannot be specified together.")
	}
	if spec.IPv4PrefixCount < 0 {
		return "", 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv4PrefixCount is invalid. Expecting a non-negative value.", spec.IPv4PrefixCount)
	}
	if len(spec.IPv4Prefixes) > 0 && spec.IPv4PrefixCount > 0 {
		return "", 0, errorf(CodeInvalidParameterCombination, "The parameters ipv4Prefixes and ipv4PrefixCount cannot be specified together.")
	}
	if spec.IPv6PrefixCount < 0 {
		return "", 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv6PrefixCount is invalid. Expecting a non-negative value.", spec.IPv6PrefixCount)
	}
	if len(spec.IPv6Prefixes) > 0 && spec.IPv6PrefixCount > 0 {
		return "", 0, errorf(CodeInvalidParameterCombination, "The parameters ipv6Prefixes and ipv6PrefixCount cannot be specified together.")
	}
	nPrefixes := len(spec.IPv4Prefixes) + spec.IPv4PrefixCount
	nPrefixes6 := len(spec.IPv6Prefixes) + spec.IPv6PrefixCount
	if nPrefixes6 > 0 && s.Ipv6CidrBlock == "" {
		return "", 0, errorf(CodeInvalidParameterValue, "Subnet %s does not have an IPv6 CIDR block", s.ID)
	}
	if typ == "efa-only" && nPrefixes+nPrefixes6 > 0 {
		return "", 0, errorf(CodeInvalidParameterCombination, "An efa-only network interface cannot have IP addresses.")
	}
	ipv6Count = spec.IPv6Count
	if ipv6Count < 0 {
		ipv6Count = 0
		if s.AssignIpv6AddressOnCreation && len(spec.IPv6) == 0 && typ != "efa-only" {
			ipv6Count = 1
		}
	}
	if typ == "efa-only" && (spec.PrimaryIP != "" || len(spec.SecondaryIPs) > 0 || spec.SecondaryCount > 0 || len(spec.IPv6) > 0 || ipv6Count > 0) {
		return "", 0, errorf(CodeInvalidParameterCombination, "An efa-only network interface cannot have IP addresses.")
	}
	if n := 1 + len(spec.SecondaryIPs) + spec.SecondaryCount + nPrefixes; typ != "efa-only" && n > eniUnattachedMaxIPs {
		return "", 0, errorf(CodePrivateIPLimitExceeded, "Number of private addresses will exceed limit.")
	}
	if n := len(spec.IPv6) + ipv6Count + nPrefixes6; n > eniUnattachedMaxIPs {
		return "", 0, errorf(CodePrivateIPLimitExceeded, "Number of IPv6 addresses will exceed limit.")
	}
	return typ, ipv6Count, nil
}

// createENIIPv4 gives e its IPv4 addresses and prefixes: explicit ones
// first, then what is allocated, so that an allocation never takes what the
// request names.
func (tx *Tx) createENIIPv4(e *ENI, s *Subnet, spec *eniSpec) error {
	if spec.PrimaryIP != "" {
		if err := tx.eniTakeIPv4(e, spec.PrimaryIP, true); err != nil {
			return err
		}
	}
	for _, ip := range spec.SecondaryIPs {
		if err := tx.eniTakeIPv4(e, ip, false); err != nil {
			return err
		}
	}
	if dup := prefixDuplicate(spec.IPv4Prefixes); dup != "" {
		return errorf(CodeInvalidParameterValue, "The prefix %s is specified more than once.", dup)
	}
	for _, pf := range spec.IPv4Prefixes {
		if err := tx.eniTakeIPv4Prefix(e, pf); err != nil {
			return err
		}
	}
	if spec.PrimaryIP == "" && !s.Ipv6Native { // IPv6-only: no IPv4 at all
		a, err := tx.allocIPv4(s)
		if err != nil {
			return err
		}
		// The primary comes first.
		e.PrivateIPs = append([]PrivateIP{{Address: a.String(), Primary: true}}, e.PrivateIPs...)
	}
	for range spec.SecondaryCount {
		a, err := tx.allocIPv4(s)
		if err != nil {
			return err
		}
		e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Address: a.String()})
	}
	for range spec.IPv4PrefixCount {
		pf, err := tx.allocIPv4Prefix(s)
		if err != nil {
			return err
		}
		e.IPv4Prefixes = append(e.IPv4Prefixes, pf.String())
	}
	return nil
}

// createENIIPv6 gives e its IPv6 addresses and prefixes, explicit ones first.
func (tx *Tx) createENIIPv6(e *ENI, s *Subnet, spec *eniSpec, ipv6Count int) error {
	for _, ip := range spec.IPv6 {
		if err := tx.eniTakeIPv6(e, ip); err != nil {
			return err
		}
	}
	if dup := prefixDuplicate(spec.IPv6Prefixes); dup != "" {
		return errorf(CodeInvalidParameterValue, "The prefix %s is specified more than once.", dup)
	}
	for _, pf := range spec.IPv6Prefixes {
		if err := tx.eniTakeIPv6Prefix(e, pf); err != nil {
			return err
		}
	}
	for range ipv6Count {
		a, err := tx.allocIPv6(s)
		if err != nil {
			return err
		}
		e.IPv6 = append(e.IPv6, a.String())
	}
	for range spec.IPv6PrefixCount {
		pf, err := tx.allocIPv6Prefix(s)
		if err != nil {
			return err
		}
		e.IPv6Prefixes = append(e.IPv6Prefixes, pf.String())
	}
	return nil
}

// eniTakeIPv4 adds the explicit address ip to e (which must be in the
// transaction's overlay) after checking it is valid and free.
func (tx *Tx) eniTakeIPv4(e *ENI, ip string, primary bool) error {
	s := tx.subnets.Get(e.SubnetID)
	a, err := tx.checkIPv4(s, ip)
	if err != nil {
		return err
	}
	if owner := tx.ipv4Owner(s.ID, a); owner != "" {
		return errorf(CodeInvalidIPAddressInUse, "Address %s is in use.", a)
	}
	e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Address: a.String(), Primary: primary})
	return nil
}

// eniTakeIPv4Prefix delegates the explicit /28 prefix to e (which must be in
// the transaction's overlay) after checking it is valid and that neither it
// nor any address in it is taken.
func (tx *Tx) eniTakeIPv4Prefix(e *ENI, prefix string) error {
	s := tx.subnets.Get(e.SubnetID)
	pf, err := checkIPv4Prefix(s, prefix)
	if err != nil {
		return err
	}
	if !tx.ipv4PrefixFree(s.ID, pf) {
		return errorf(CodeInvalidIPAddressInUse, "Prefix %s is in use.", pf)
	}
	e.IPv4Prefixes = append(e.IPv4Prefixes, pf.String())
	return nil
}

// eniTakeIPv6Prefix delegates the explicit /80 prefix to e, as
// eniTakeIPv4Prefix does a /28.
func (tx *Tx) eniTakeIPv6Prefix(e *ENI, prefix string) error {
	s := tx.subnets.Get(e.SubnetID)
	pf, err := checkIPv6Prefix(s, prefix)
	if err != nil {
		return err
	}
	if !tx.ipv6PrefixFree(s.ID, pf) {
		return errorf(CodeInvalidIPAddressInUse, "Prefix %s is in use.", pf)
	}
	e.IPv6Prefixes = append(e.IPv6Prefixes, pf.String())
	return nil
}

// eniTakeIPv6 adds the explicit IPv6 address ip to e after checking it.
func (tx *Tx) eniTakeIPv6(e *ENI, ip string) error {
	s := tx.subnets.Get(e.SubnetID)
	a, err := tx.checkIPv6(s, ip)
	if err != nil {
		return err
	}
	if owner := tx.ipv6Owner(s.ID, a); owner != "" {
		return errorf(CodeInvalidIPAddressInUse, "Address %s is in use.", a)
	}
	e.IPv6 = append(e.IPv6, a.String())
	return nil
}

// eniCheckGroups validates the security groups of an ENI in subnet s: at most
// five distinct groups of the subnet's VPC; none means the VPC's default
// group. A group of another VPC is InvalidParameter at creation and
// InvalidGroup.NotFound when modifying, as AWS answers.
func (tx *Tx) eniCheckGroups(s *Subnet, ids []string, modify bool) ([]string, error) {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > eniMaxGroups {
		return nil, errorf(CodeSGsPerInterfaceLimitExceeded, "The maximum number of security groups per interface has been reached.")
	}
	for _, id := range out {
		g, err := tx.getGroup(id)
		if err != nil {
			return nil, err
		}
		if g.VpcID != s.VpcID {
			if modify {
				return nil, errorf(CodeInvalidGroupNotFound, "The security group '%s' does not exist in VPC '%s'", id, s.VpcID)
			}
			return nil, errorf(CodeInvalidParameter, "Security group %s and subnet %s belong to different networks.", id, s.ID)
		}
	}
	if len(out) == 0 {
		def := tx.eniDefaultGroup(s.VpcID)
		if def == "" {
			return nil, errorf(CodeInvalidGroupNotFound, "The VPC '%s' has no default security group", s.VpcID)
		}
		out = []string{def}
	}
	return out, nil
}

// eniDefaultGroup returns the id of the VPC's default security group.
func (tx *Tx) eniDefaultGroup(vpcID string) string {
	id := ""
	tx.groups.Each(func(g *SecurityGroup) bool {
		if g.VpcID == vpcID && g.Name == "default" {
			id = g.ID
			return false
		}
		return true
	})
	return id
}

// eniTypeLimits returns an instance type's ENI limits.
func eniTypeLimits(typ string) (maxENIs, ipv4PerENI, ipv6PerENI int, ok bool) {
	return instanceTypeLimits(typ)
}

// eniIPLimits returns how many private IPv4 and IPv6 addresses e may hold:
// the per-ENI limits of its instance's type when attached, else the cap for
// unattached ENIs.
func (tx *Tx) eniIPLimits(e *ENI) (ipv4, ipv6 int, typ string) {
	if e.Attachment != nil {
		if inst := tx.instances.Get(e.Attachment.InstanceID); inst != nil {
			if _, v4, v6, ok := eniTypeLimits(inst.InstanceType); ok {
				return v4, v6, inst.InstanceType
			}
		}
	}
	return eniUnattachedMaxIPs, eniUnattachedMaxIPs, ""
}

// attachENI checks every attachment rule (state, AZ, slot, type limits,
// account) and attaches e to inst. It puts the changed ENI.
//
// The instance must be running or stopped; pending is accepted too because
// RunInstances attaches at launch (the attachment is then "attaching" until
// the instance runs). AttachNetworkInterface refuses pending instances itself.
func (tx *Tx) attachENI(e *ENI, inst *Instance, deviceIndex, cardIndex int32, deleteOnTermination bool) (*Attachment, error) {
	if e.RequesterManaged {
		return nil, errorf(CodeOperationNotPermitted, "You are not allowed to attach the requester-managed network interface '%s'.", e.ID)
	}
	if e.Attachment != nil {
		return nil, errorf(CodeInvalidENIInUse, "Interface: [%s] in use.", e.ID)
	}
	switch inst.State {
	case "running", "stopped", "pending":
	default:
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	if e.Owner != inst.Owner && !tx.eniPermitted(e.ID, inst.Owner, "INSTANCE-ATTACH") {
		return nil, errorf(CodeInvalidENINotFound, "The networkInterface ID '%s' does not exist", e.ID)
	}
	if e.AZ != inst.AZ {
		return nil, errorf(CodeInvalidParameterValue, "Network interface '%s' is in availability zone %s and instance '%s' is in availability zone %s. They must be in the same availability zone.", e.ID, e.AZ, inst.ID, inst.AZ)
	}
	if deviceIndex < 0 {
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter deviceIndex is invalid.", deviceIndex)
	}
	info, known := instanceType(inst.InstanceType)
	if cardIndex < 0 || (known && info.CardMaxENIs(int(cardIndex)) == 0) || (!known && cardIndex != 0) {
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter networkCardIndex is invalid. The instance type %s does not have that network card.", cardIndex, inst.InstanceType)
	}
	attached := tx.enisOfInstance(inst.ID)
	onCard := 0
	for _, o := range attached {
		if o.ID == e.ID {
			continue
		}
		if o.Attachment.NetworkCardIndex == cardIndex {
			onCard++
			if o.Attachment.DeviceIndex == deviceIndex {
				return nil, errorf(CodeInvalidParameterValue, "Instance '%s' already has an interface attached at device index '%d'.", inst.ID, deviceIndex)
			}
		}
	}
	// A secondary ENI may come from another VPC: of the same account
	// (multi-VPC attachments), or of the account that granted the
	// INSTANCE-ATTACH permission checked above (cross-account interfaces).
	if maxENIs, v4, v6, ok := eniTypeLimits(inst.InstanceType); ok {
		if n := len(attached) + 1; n > maxENIs || (known && onCard+1 > info.CardMaxENIs(int(cardIndex))) {
			return nil, errorf(CodeAttachmentLimitExceeded, "Interface count %d exceeds the limit for %s", n, inst.InstanceType)
		}
		if n := len(e.PrivateIPs) + len(e.IPv4Prefixes); n > v4 { // a prefix counts as one address
			return nil, errorf(CodeInterfaceIPLimitExceeded, "The network interface '%s' has %d private IPv4 addresses and prefixes, more than the limit of %d for %s.", e.ID, n, v4, inst.InstanceType)
		}
		if n := len(e.IPv6) + len(e.IPv6Prefixes); n > v6 {
			return nil, errorf(CodeInterfaceIPLimitExceeded, "The network interface '%s' has %d IPv6 addresses and prefixes, more than the limit of %d for %s.", e.ID, n, v6, inst.InstanceType)
		}
	}
	status := "attached"
	if inst.State == "pending" {
		status = "attaching"
	}
	m := tx.enis.Mut(e.ID)
	if m == nil { // not stored yet
		m = e
		tx.enis.Put(m)
	}
	m.Attachment = &Attachment{
		ID: tx.newID("eni-attach"), InstanceID: inst.ID, InstanceOwner: inst.Owner,
		DeviceIndex: deviceIndex, NetworkCardIndex: cardIndex, Status: status,
		AttachTime: tx.Now(), DeleteOnTermination: deleteOnTermination,
	}
	return m.Attachment, nil
}

// eniPermitted reports whether account holds a granted permission of kind on
// the ENI.
func (tx *Tx) eniPermitted(eniID, account, kind string) bool {
	ok := false
	tx.perms.Each(func(pm *Permission) bool {
		if pm.ENIID == eniID && pm.Account == account && pm.Permission == kind && pm.State == "granted" {
			ok = true
		}
		return !ok
	})
	return ok
}

// eniStatus is the ENI's status as DescribeNetworkInterfaces shows it.
func eniStatus(e *ENI) string {
	if e.Attachment == nil {
		return "available"
	}
	if e.Attachment.Status == "detaching" {
		return "detaching"
	}
	return "in-use"
}

// eniDNSName returns the private DNS name of an IPv4 address.
func (tx *Tx) eniDNSName(ip string) string { return eniPrivateDNS(tx.Region, ip) }

// eniPublicDNSName returns the public DNS name of a public IPv4 address.
func (tx *Tx) eniPublicDNSName(ip string) string { return eniPublicDNS(tx.Region, ip) }

// eniPrivateDNS is ip-10-0-1-23.ec2.internal in us-east-1 and
// ip-10-0-1-23.<region>.compute.internal elsewhere.
func eniPrivateDNS(region, ip string) string {
	if ip == "" {
		return ""
	}
	name := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return name + ".ec2.internal"
	}
	return name + "." + region + ".compute.internal"
}

// eniPublicDNS is ec2-203-0-113-25.compute-1.amazonaws.com in us-east-1 and
// ec2-203-0-113-25.<region>.compute.amazonaws.com elsewhere.
func eniPublicDNS(region, ip string) string {
	if ip == "" {
		return ""
	}
	return "ec2-" + strings.ReplaceAll(ip, ".", "-") + publicDNSDomain(region)
}

// eniRegion is the region of the ENI's availability zone.
func eniRegion(e *ENI) string {
	if len(e.AZ) < 2 {
		return ""
	}
	return e.AZ[:len(e.AZ)-1]
}

// eniAddrLookup finds the Elastic IP on an ENI's private address.
type eniAddrLookup func(eniID, ip string) *Address

// eniAssoc returns the public IPv4 of one private address of e: its Elastic
// IP, else (for the primary address) the auto-assigned public IP.
func (tx *Tx) eniAssoc(e *ENI, ip string, primary bool, addr eniAddrLookup) *ec2wire.NetworkInterfaceAssociation {
	if ip == "" {
		return nil
	}
	if a := addr(e.ID, ip); a != nil {
		return &ec2wire.NetworkInterfaceAssociation{
			AllocationId: p(a.AllocationID), AssociationId: p(a.AssociationID), IpOwnerId: p(a.Owner),
			PublicIp: p(a.PublicIP), PublicDnsName: p(tx.eniPublicDNSName(a.PublicIP)),
		}
	}
	if primary && e.PublicIP != "" {
		return &ec2wire.NetworkInterfaceAssociation{
			IpOwnerId: p("amazon"), PublicIp: p(e.PublicIP), PublicDnsName: p(tx.eniPublicDNSName(e.PublicIP)),
		}
	}
	return nil
}

// eniGroupsOut renders security group ids with their names.
func (tx *Tx) eniGroupsOut(ids []string) []ec2wire.GroupIdentifier { return tx.GroupNames(ids) }

func eniAttachmentOut(a *Attachment) *ec2wire.NetworkInterfaceAttachment {
	if a == nil {
		return nil
	}
	return &ec2wire.NetworkInterfaceAttachment{
		AttachTime: ec2wire.NewTime(a.AttachTime), AttachmentId: p(a.ID), DeleteOnTermination: p(a.DeleteOnTermination),
		DeviceIndex: p(a.DeviceIndex), InstanceId: nonEmpty(a.InstanceID), InstanceOwnerId: p(a.InstanceOwner),
		NetworkCardIndex: p(a.NetworkCardIndex), Status: p(a.Status),
	}
}

// nonEmpty is p(s), or nil for "" (an attachment to a task's host has no
// instance id, as ECS's do not).
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// eniOut renders an ENI as DescribeNetworkInterfaces shows it.
func (tx *Tx) eniOut(e *ENI) ec2wire.NetworkInterface {
	return tx.eniRender(e, tx.addressFor)
}

func (tx *Tx) eniRender(e *ENI, addr eniAddrLookup) ec2wire.NetworkInterface {
	primary := e.PrimaryIP()
	out := ec2wire.NetworkInterface{
		NetworkInterfaceId: p(e.ID), SubnetId: p(e.SubnetID), VpcId: p(e.VpcID), AvailabilityZone: p(e.AZ),
		AvailabilityZoneId: p(tx.zoneID(e.AZ)), Description: p(e.Description), Groups: tx.eniGroupsOut(e.Groups), InterfaceType: p(e.InterfaceType),
		MacAddress: p(e.MAC), OwnerId: p(e.Owner), RequesterId: p(e.RequesterID), RequesterManaged: p(e.RequesterManaged),
		SourceDestCheck: p(e.SourceDestCheck), Status: p(eniStatus(e)), TagSet: tagsOut(e.Tags),
		Attachment: eniAttachmentOut(e.Attachment), Association: tx.eniAssoc(e, primary, true, addr),
	}
	if primary != "" {
		out.PrivateIpAddress = p(primary)
		out.PrivateDnsName = p(tx.eniDNSName(primary))
	}
	for _, ip := range e.PrivateIPs {
		out.PrivateIpAddresses = append(out.PrivateIpAddresses, ec2wire.NetworkInterfacePrivateIpAddress{
			PrivateIpAddress: p(ip.Address), PrivateDnsName: p(tx.eniDNSName(ip.Address)), Primary: p(ip.Primary),
			Association: tx.eniAssoc(e, ip.Address, ip.Primary, addr),
		})
	}
	for _, a := range e.IPv6 {
		out.Ipv6Addresses = append(out.Ipv6Addresses, ec2wire.NetworkInterfaceIpv6Address{Ipv6Address: p(a)})
	}
	for _, pf := range e.IPv4Prefixes {
		out.Ipv4Prefixes = append(out.Ipv4Prefixes, ec2wire.Ipv4PrefixSpecification{Ipv4Prefix: p(pf)})
	}
	for _, pf := range e.IPv6Prefixes {
		out.Ipv6Prefixes = append(out.Ipv6Prefixes, ec2wire.Ipv6PrefixSpecification{Ipv6Prefix: p(pf)})
	}
	if ct := e.ConnTrack; ct != nil {
		out.ConnectionTrackingConfiguration = &ec2wire.ConnectionTrackingConfiguration{
			TcpEstablishedTimeout: p(ct.TCPEstablished), UdpStreamTimeout: p(ct.UDPStream), UdpTimeout: p(ct.UDP)}
	}
	return out
}

func instanceAssocOut(a *ec2wire.NetworkInterfaceAssociation) *ec2wire.InstanceNetworkInterfaceAssociation {
	if a == nil {
		return nil
	}
	return &ec2wire.InstanceNetworkInterfaceAssociation{IpOwnerId: a.IpOwnerId, PublicDnsName: a.PublicDnsName, PublicIp: a.PublicIp}
}

// instanceENIOut renders an attached ENI as DescribeInstances shows it.
func (tx *Tx) instanceENIOut(e *ENI) ec2wire.InstanceNetworkInterface {
	n := tx.eniOut(e)
	out := ec2wire.InstanceNetworkInterface{
		NetworkInterfaceId: n.NetworkInterfaceId, SubnetId: n.SubnetId, VpcId: n.VpcId, Description: n.Description,
		Groups: n.Groups, InterfaceType: n.InterfaceType, MacAddress: n.MacAddress, OwnerId: n.OwnerId,
		PrivateDnsName: n.PrivateDnsName, PrivateIpAddress: n.PrivateIpAddress, SourceDestCheck: n.SourceDestCheck,
		Status: n.Status, Association: instanceAssocOut(n.Association),
	}
	if a := e.Attachment; a != nil {
		out.Attachment = &ec2wire.InstanceNetworkInterfaceAttachment{
			AttachTime: ec2wire.NewTime(a.AttachTime), AttachmentId: p(a.ID), DeleteOnTermination: p(a.DeleteOnTermination),
			DeviceIndex: p(a.DeviceIndex), NetworkCardIndex: p(a.NetworkCardIndex), Status: p(a.Status),
		}
	}
	for _, ip := range n.PrivateIpAddresses {
		out.PrivateIpAddresses = append(out.PrivateIpAddresses, ec2wire.InstancePrivateIpAddress{
			PrivateIpAddress: ip.PrivateIpAddress, PrivateDnsName: ip.PrivateDnsName, Primary: ip.Primary,
			Association: instanceAssocOut(ip.Association),
		})
	}
	for _, a := range e.IPv6 {
		out.Ipv6Addresses = append(out.Ipv6Addresses, ec2wire.InstanceIpv6Address{Ipv6Address: p(a)})
	}
	for _, pf := range e.IPv4Prefixes {
		out.Ipv4Prefixes = append(out.Ipv4Prefixes, ec2wire.InstanceIpv4Prefix{Ipv4Prefix: p(pf)})
	}
	for _, pf := range e.IPv6Prefixes {
		out.Ipv6Prefixes = append(out.Ipv6Prefixes, ec2wire.InstanceIpv6Prefix{Ipv6Prefix: p(pf)})
	}
	if c := n.ConnectionTrackingConfiguration; c != nil {
		out.ConnectionTrackingConfiguration = &ec2wire.ConnectionTrackingSpecificationResponse{
			TcpEstablishedTimeout: c.TcpEstablishedTimeout, UdpStreamTimeout: c.UdpStreamTimeout, UdpTimeout: c.UdpTimeout}
	}
	return out
}

// eniZoneID derives an AZ id from its name as region.go names zones:
// us-east-1a -> use1-az1.
func eniZoneID(az string) string {
	if len(az) < 2 {
		return ""
	}
	c := az[len(az)-1]
	if c < 'a' || c > 'z' {
		return ""
	}
	return fmt.Sprintf("%s-az%d", zoneIDPrefix(az[:len(az)-1]), c-'a'+1)
}

func eniAttach[T any](get func(*Attachment) T, f func(T) string) func(*ENI) []string {
	return func(e *ENI) []string {
		if e.Attachment == nil {
			return nil
		}
		return []string{f(get(e.Attachment))}
	}
}

func eniOne(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func eniI32(n int32) string    { return fmt.Sprint(n) }
func eniIdent(s string) string { return s }

// eniFilters are DescribeNetworkInterfaces' filters; DescribeInstances uses
// them as network-interface.<name>. The association filters here only see the
// auto-assigned public IPv4: eniFilterSet adds Elastic IPs (it needs the
// transaction) and the group-name filter.
var eniFilters = filterSet[ENI]{
	"addresses.private-ip-address": func(e *ENI) []string {
		out := make([]string, 0, len(e.PrivateIPs))
		for _, ip := range e.PrivateIPs {
			out = append(out, ip.Address)
		}
		return out
	},
	"addresses.primary": func(e *ENI) []string {
		out := make([]string, 0, len(e.PrivateIPs))
		for _, ip := range e.PrivateIPs {
			out = append(out, bstr(ip.Primary))
		}
		return out
	},
	"addresses.association.public-ip":  func(e *ENI) []string { return eniOne(e.PublicIP) },
	"addresses.association.owner-id":   func(e *ENI) []string { return eniIf(e.PublicIP != "", "amazon") },
	"association.allocation-id":        func(e *ENI) []string { return nil },
	"association.association-id":       func(e *ENI) []string { return nil },
	"association.ip-owner-id":          func(e *ENI) []string { return eniIf(e.PublicIP != "", "amazon") },
	"association.public-ip":            func(e *ENI) []string { return eniOne(e.PublicIP) },
	"association.public-dns-name":      func(e *ENI) []string { return eniOne(eniPublicDNS(eniRegion(e), e.PublicIP)) },
	"attachment.attach-time":           eniAttach(func(a *Attachment) string { return a.AttachTime.UTC().Format(ec2wire.TimeFormat) }, eniIdent),
	"attachment.attachment-id":         eniAttach(func(a *Attachment) string { return a.ID }, eniIdent),
	"attachment.delete-on-termination": eniAttach(func(a *Attachment) bool { return a.DeleteOnTermination }, bstr),
	"attachment.device-index":          eniAttach(func(a *Attachment) int32 { return a.DeviceIndex }, eniI32),
	"attachment.network-card-index":    eniAttach(func(a *Attachment) int32 { return a.NetworkCardIndex }, eniI32),
	"attachment.instance-id":           eniAttach(func(a *Attachment) string { return a.InstanceID }, eniIdent),
	"attachment.instance-owner-id":     eniAttach(func(a *Attachment) string { return a.InstanceOwner }, eniIdent),
	"attachment.status":                eniAttach(func(a *Attachment) string { return a.Status }, eniIdent),
	"attachment.nat-gateway-id":        natOfENI,
	"availability-zone":                func(e *ENI) []string { return []string{e.AZ} },
	"availability-zone-id":             func(e *ENI) []string { return eniOne(eniZoneID(e.AZ)) },
	"description":                      func(e *ENI) []string { return []string{e.Description} },
	"group-id":                         func(e *ENI) []string { return e.Groups },
	"interface-type":                   func(e *ENI) []string { return []string{e.InterfaceType} },
	"ipv6-addresses.ipv6-address":      func(e *ENI) []string { return e.IPv6 },
	"mac-address":                      func(e *ENI) []string { return []string{e.MAC} },
	"network-interface-id":             func(e *ENI) []string { return []string{e.ID} },
	"operator.managed":                 func(e *ENI) []string { return []string{"false"} },
	"operator.principal":               func(e *ENI) []string { return nil },
	"owner-id":                         func(e *ENI) []string { return []string{e.Owner} },
	"private-dns-name":                 func(e *ENI) []string { return eniOne(eniPrivateDNS(eniRegion(e), e.PrimaryIP())) },
	"private-ip-address": func(e *ENI) []string {
		out := make([]string, 0, len(e.PrivateIPs))
		for _, ip := range e.PrivateIPs {
			out = append(out, ip.Address)
		}
		return out
	},
	"requester-id":      func(e *ENI) []string { return []string{e.RequesterID} },
	"requester-managed": func(e *ENI) []string { return []string{bstr(e.RequesterManaged)} },
	"source-dest-check": func(e *ENI) []string { return []string{bstr(e.SourceDestCheck)} },
	"status":            func(e *ENI) []string { return []string{eniStatus(e)} },
	"subnet-id":         func(e *ENI) []string { return []string{e.SubnetID} },
	"vpc-id":            func(e *ENI) []string { return []string{e.VpcID} },
	"group-name":        func(e *ENI) []string { return nil }, // replaced in eniFilterSet
}

func eniIf(cond bool, s string) []string {
	if cond {
		return []string{s}
	}
	return nil
}

// eniFilterSet returns eniFilters completed with the filters that need the
// transaction: Elastic IP associations, security group names and DNS names.
func (tx *Tx) eniFilterSet(addr eniAddrLookup) filterSet[ENI] {
	fs := make(filterSet[ENI], len(eniFilters)+4)
	for k, v := range eniFilters {
		fs[k] = v
	}
	assoc := func(e *ENI) *ec2wire.NetworkInterfaceAssociation { return tx.eniAssoc(e, e.PrimaryIP(), true, addr) }
	field := func(get func(*ec2wire.NetworkInterfaceAssociation) *string) func(*ENI) []string {
		return func(e *ENI) []string {
			if a := assoc(e); a != nil {
				return eniOne(str(get(a)))
			}
			return nil
		}
	}
	fs["association.allocation-id"] = field(func(a *ec2wire.NetworkInterfaceAssociation) *string { return a.AllocationId })
	fs["association.association-id"] = field(func(a *ec2wire.NetworkInterfaceAssociation) *string { return a.AssociationId })
	fs["association.ip-owner-id"] = field(func(a *ec2wire.NetworkInterfaceAssociation) *string { return a.IpOwnerId })
	fs["association.public-ip"] = field(func(a *ec2wire.NetworkInterfaceAssociation) *string { return a.PublicIp })
	fs["association.public-dns-name"] = field(func(a *ec2wire.NetworkInterfaceAssociation) *string { return a.PublicDnsName })
	each := func(get func(*ec2wire.NetworkInterfaceAssociation) *string) func(*ENI) []string {
		return func(e *ENI) []string {
			var out []string
			for _, ip := range e.PrivateIPs {
				if a := tx.eniAssoc(e, ip.Address, ip.Primary, addr); a != nil {
					out = append(out, str(get(a)))
				}
			}
			return out
		}
	}
	fs["addresses.association.public-ip"] = each(func(a *ec2wire.NetworkInterfaceAssociation) *string { return a.PublicIp })
	fs["addresses.association.owner-id"] = each(func(a *ec2wire.NetworkInterfaceAssociation) *string { return a.IpOwnerId })
	fs["group-name"] = func(e *ENI) []string {
		out := make([]string, 0, len(e.Groups))
		for _, id := range e.Groups {
			if g := tx.groups.Get(id); g != nil {
				out = append(out, g.Name)
			}
		}
		return out
	}
	return fs
}

// ---- Operations ----

// eniMutable returns a private copy of the caller's ENI id for a change its
// owner may make: requester-managed ENIs can be read and tagged only.
func (tx *Tx) eniMutable(id string) (*ENI, error) {
	e, err := tx.getENI(id)
	if err != nil {
		return nil, err
	}
	if e.RequesterManaged {
		return nil, errorf(CodeOperationNotPermitted, "You do not have permission to modify the requester-managed network interface '%s'.", e.ID)
	}
	return tx.enis.Mut(e.ID), nil
}

// CreateNetworkInterface creates an available ENI in a subnet.
func (tx *Tx) CreateNetworkInterface(in *ec2wire.CreateNetworkInterfaceInput) (*ec2wire.CreateNetworkInterfaceOutput, error) {
	if str(in.SubnetId) == "" {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter subnetId")
	}
	s, err := tx.getSubnet(str(in.SubnetId))
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "network-interface")
	if err != nil {
		return nil, err
	}
	spec := eniSpec{
		Subnet: s, Description: str(in.Description), PrimaryIP: str(in.PrivateIpAddress),
		SecondaryCount: int(i32(in.SecondaryPrivateIpAddressCount)), Groups: in.Groups,
		InterfaceType: str(in.InterfaceType), Tags: tags, IPv6Count: -1,
		IPv4PrefixCount: int(i32(in.Ipv4PrefixCount)), IPv6PrefixCount: int(i32(in.Ipv6PrefixCount)),
	}
	if err := spec.requestedPrefixes(in.Ipv4Prefixes, in.Ipv6Prefixes); err != nil {
		return nil, err
	}
	if spec.ConnTrack, err = connTrackSpec(in.ConnectionTrackingSpecification, nil); err != nil {
		return nil, err
	}
	// PrivateIpAddresses.N: at most one primary, which must agree with
	// PrivateIpAddress; without any, the first listed address is the primary.
	for _, a := range in.PrivateIpAddresses {
		ip := str(a.PrivateIpAddress)
		if ip == "" {
			return nil, errorf(CodeMissingParameter, "The request must contain the parameter privateIpAddresses.privateIpAddress")
		}
		if boolv(a.Primary) {
			if spec.PrimaryIP != "" && spec.PrimaryIP != ip {
				return nil, errorf(CodeInvalidParameterCombination, "Only one primary private IP address can be specified.")
			}
			spec.PrimaryIP = ip
			continue
		}
		if ip == spec.PrimaryIP {
			continue
		}
		spec.SecondaryIPs = append(spec.SecondaryIPs, ip)
	}
	if spec.PrimaryIP == "" && len(spec.SecondaryIPs) > 0 {
		spec.PrimaryIP, spec.SecondaryIPs = spec.SecondaryIPs[0], spec.SecondaryIPs[1:]
	}
	if dup := eniDuplicate(append([]string{spec.PrimaryIP}, spec.SecondaryIPs...)); dup != "" {
		return nil, errorf(CodeInvalidParameterValue, "The address %s is specified more than once.", dup)
	}
	if in.SecondaryPrivateIpAddressCount != nil && len(in.PrivateIpAddresses) > 1 {
		return nil, errorf(CodeInvalidParameterCombination, "The parameters privateIpAddresses and secondaryPrivateIpAddressCount cannot be specified together.")
	}
	for _, a := range in.Ipv6Addresses {
		spec.IPv6 = append(spec.IPv6, str(a.Ipv6Address))
	}
	if in.Ipv6AddressCount != nil {
		if len(spec.IPv6) > 0 {
			return nil, errorf(CodeInvalidParameterCombination, "The parameters ipv6Addresses and ipv6AddressCount cannot be specified together.")
		}
		spec.IPv6Count = int(*in.Ipv6AddressCount)
		if spec.IPv6Count < 0 {
			return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv6AddressCount is invalid. Expecting a non-negative value.", spec.IPv6Count)
		}
	} else if len(spec.IPv6) > 0 {
		spec.IPv6Count = 0
	}
	if dup := eniDuplicate(spec.IPv6); dup != "" {
		return nil, errorf(CodeInvalidParameterValue, "The address %s is specified more than once.", dup)
	}
	e, err := tx.createENI(spec)
	if err != nil {
		return nil, err
	}
	n := tx.eniOut(e)
	return &ec2wire.CreateNetworkInterfaceOutput{NetworkInterface: &n, ClientToken: in.ClientToken}, nil
}

// prefixDuplicate returns a prefix listed twice, or "".
func prefixDuplicate(prefixes []string) string {
	seen := map[netip.Prefix]bool{}
	for _, s := range prefixes {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			continue // reported by the prefix check
		}
		if seen[pf] {
			return s
		}
		seen[pf] = true
	}
	return ""
}

// eniDuplicate returns an address listed twice (ignoring ""), or "".
func eniDuplicate(addrs []string) string {
	seen := map[netip.Addr]bool{}
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue // reported by the address check
		}
		if seen[a] {
			return s
		}
		seen[a] = true
	}
	return ""
}

// DeleteNetworkInterface deletes a detached ENI. Its addresses are freed and
// Elastic IPs on it are disassociated (they stay allocated).
func (tx *Tx) DeleteNetworkInterface(in *ec2wire.DeleteNetworkInterfaceInput) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
	e, err := tx.getENI(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	if e.RequesterManaged {
		return nil, errorf(CodeOperationNotPermitted, "You do not have permission to delete the requester-managed network interface '%s'.", e.ID)
	}
	if e.Attachment != nil {
		return nil, errorf(CodeInvalidParameterValue, "Network interface '%s' is currently in use.", e.ID)
	}
	tx.deleteENI(e.ID)
	return &ec2wire.DeleteNetworkInterfaceOutput{Return: p(true)}, nil
}

// deleteENI removes an ENI, the Elastic IP associations on it and its
// permissions.
func (tx *Tx) deleteENI(id string) {
	tx.addressDisassociateENI(id)
	tx.perms.Each(func(pm *Permission) bool {
		if pm.ENIID == id {
			tx.perms.Delete(pm.ID)
		}
		return true
	})
	tx.enis.Delete(id)
}

// eniIndexable are the filters whose literal values select candidates from
// the indexes instead of a scan.
var eniIndexable = []string{"network-interface-id", "attachment.attachment-id", "attachment.instance-id", "private-ip-address", "addresses.private-ip-address", "subnet-id"}

// eniCandidates returns the ids an indexable filter allows, and whether one
// applied.
func (tx *Tx) eniCandidates(filters []ec2wire.Filter) ([]string, bool) {
	for _, name := range eniIndexable {
		if name == "subnet-id" { // a tag usually selects fewer ENIs than a subnet
			if ids, ok := tx.eniTagCandidates(filters); ok {
				return ids, true
			}
		}
		for _, f := range filters {
			if str(f.Name) != name || len(f.Values) == 0 || slices.ContainsFunc(f.Values, func(v string) bool { return strings.ContainsAny(v, `*?\`) }) {
				continue
			}
			var ids []string
			for _, v := range f.Values {
				switch name {
				case "network-interface-id":
					ids = append(ids, v)
				case "attachment.attachment-id":
					if id, ok := tx.db.idx.byAttachment[v]; ok {
						ids = append(ids, id)
					}
				case "attachment.instance-id":
					for id := range tx.db.idx.byInstance[v] {
						ids = append(ids, id)
					}
				case "subnet-id":
					for id := range tx.db.idx.bySubnet[v] {
						ids = append(ids, id)
					}
				default: // private addresses
					a, err := netip.ParseAddr(v)
					if err != nil {
						continue
					}
					for _, m := range tx.db.idx.ipv4 {
						if id, ok := m[a]; ok {
							ids = append(ids, id)
						}
					}
				}
			}
			return ids, true
		}
	}
	return nil, false
}

// eniTagCandidates returns the ids of the ENIs a tag:<key> filter with
// literal values allows (from the tag index), and whether there is one.
func (tx *Tx) eniTagCandidates(filters []ec2wire.Filter) ([]string, bool) {
	for _, f := range filters {
		name := str(f.Name)
		if !strings.HasPrefix(name, "tag:") || len(f.Values) == 0 || slices.ContainsFunc(f.Values, func(v string) bool { return strings.ContainsAny(v, `*?\`) }) {
			continue
		}
		byValue := tx.db.idx.eniByTag[name[len("tag:"):]]
		var ids []string
		for _, v := range f.Values {
			for id := range byValue[v] {
				ids = append(ids, id)
			}
		}
		return ids, true
	}
	return nil, false
}

// DescribeNetworkInterfaces lists the caller's ENIs. Listed ids must all
// exist; filters are those of §5 plus the legacy group-name, tag-value and
// attachment.nat-gateway-id.
func (tx *Tx) DescribeNetworkInterfaces(in *ec2wire.DescribeNetworkInterfacesInput) (*ec2wire.DescribeNetworkInterfacesOutput, error) {
	if len(in.NetworkInterfaceIds) > 0 && in.MaxResults != nil {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter NetworkInterfaceIds cannot be used with the parameter maxResults")
	}
	addr := tx.addressFor
	m, err := newMatcher(tx.eniFilterSet(addr), func(e *ENI) Tags { return e.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.NetworkInterfaceIds {
		if _, err := tx.getENI(id); err != nil {
			return nil, err
		}
	}
	keep := func(e *ENI) bool { return e.Owner == tx.Account && m.match(e) }
	var items []*ENI
	if len(in.NetworkInterfaceIds) > 0 {
		items = tx.enis.Pick(in.NetworkInterfaceIds, func(e *ENI) bool {
			return slices.Contains(in.NetworkInterfaceIds, e.ID) && keep(e)
		})
	} else if ids, ok := tx.eniCandidates(in.Filters); ok {
		items = tx.enis.Pick(ids, keep) // the matcher re-checks the indexed filter
	} else {
		items = tx.enis.Sorted(keep)
	}
	page, next, err := paginate(items, func(e *ENI) string { return e.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeNetworkInterfacesOutput{NextToken: next, NetworkInterfaces: make([]ec2wire.NetworkInterface, 0, len(page))}
	for _, e := range page {
		out.NetworkInterfaces = append(out.NetworkInterfaces, tx.eniRender(e, addr))
	}
	return out, nil
}

// eniForAttach returns an ENI the caller may attach: its own, or one whose
// owner granted it INSTANCE-ATTACH.
func (tx *Tx) eniForAttach(id string) (*ENI, error) {
	if !validID(id, "eni") {
		return nil, errorf(CodeInvalidENIMalformed, "Invalid id: \"%s\" (expecting \"eni-...\")", id)
	}
	e := tx.enis.Get(id)
	if e == nil || (e.Owner != tx.Account && !tx.eniPermitted(id, tx.Account, "INSTANCE-ATTACH")) {
		return nil, errorf(CodeInvalidENINotFound, "The networkInterface ID '%s' does not exist", id)
	}
	return e, nil
}

// AttachNetworkInterface attaches an available ENI to a running or stopped
// instance in the same availability zone. DeleteOnTermination is false.
func (tx *Tx) AttachNetworkInterface(in *ec2wire.AttachNetworkInterfaceInput) (*ec2wire.AttachNetworkInterfaceOutput, error) {
	if in.DeviceIndex == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter deviceIndex")
	}
	e, err := tx.eniForAttach(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	if inst.State != "running" && inst.State != "stopped" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	a, err := tx.attachENI(e, inst, *in.DeviceIndex, i32(in.NetworkCardIndex), false)
	if err != nil {
		return nil, err
	}
	return &ec2wire.AttachNetworkInterfaceOutput{AttachmentId: p(a.ID), NetworkCardIndex: p(a.NetworkCardIndex)}, nil
}

// eniByAttachment returns the ENI with the attachment id that the caller
// may detach (it owns the ENI or the instance).
func (tx *Tx) eniByAttachment(id string) (*ENI, error) {
	if validID(id, "ela-attach") { // an AWS service's (a task's, an endpoint's)
		return nil, errorf(CodeOperationNotPermitted, "You are not allowed to manage 'ela-attach' attachments.")
	}
	if !validID(id, "eni-attach") {
		return nil, errorf(CodeInvalidAttachmentMalformed, "Invalid id: \"%s\" (expecting \"eni-attach-...\")", id)
	}
	ok := func(e *ENI) bool {
		return e != nil && e.Attachment != nil && e.Attachment.ID == id && (e.Owner == tx.Account || e.Attachment.InstanceOwner == tx.Account)
	}
	if eid, found := tx.db.idx.byAttachment[id]; found {
		if e := tx.enis.Get(eid); ok(e) {
			return e, nil
		}
	}
	for _, e := range tx.enis.over {
		if ok(e) {
			return e, nil
		}
	}
	return nil, errorf(CodeInvalidAttachmentNotFound, "The interface attachment '%s' does not exist.", id)
}

// DetachNetworkInterface detaches a secondary ENI. The primary ENI (device
// index 0 on card 0) never detaches; Force skips the instance state check.
func (tx *Tx) DetachNetworkInterface(in *ec2wire.DetachNetworkInterfaceInput) (*ec2wire.DetachNetworkInterfaceOutput, error) {
	e, err := tx.eniByAttachment(str(in.AttachmentId))
	if err != nil {
		return nil, err
	}
	if err := tx.detachENI(e, boolv(in.Force)); err != nil {
		return nil, err
	}
	return &ec2wire.DetachNetworkInterfaceOutput{Return: p(true)}, nil
}

// detachENI checks the detach rules and detaches e, keeping every other
// attribute (addresses, MAC, groups, Elastic IPs, tags).
func (tx *Tx) detachENI(e *ENI, force bool) error {
	a := e.Attachment
	if e.RequesterManaged {
		kind, _, _ := strings.Cut(strings.TrimPrefix(a.ID, "eni-"), "-") // eni-attach-... -> attach
		return errorf(CodeOperationNotPermitted, "You are not allowed to manage 'ela-%s' attachments.", kind)
	}
	if a.DeviceIndex == 0 && a.NetworkCardIndex == 0 {
		return errorf(CodeOperationNotPermitted, "The network interface at device index 0 and networkCard index 0 cannot be detached.")
	}
	if inst := tx.instances.Get(a.InstanceID); inst != nil && !force && inst.State != "running" && inst.State != "stopped" {
		return errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	tx.enis.Mut(e.ID).Attachment = nil
	return nil
}

// ModifyNetworkInterfaceAttribute changes exactly one attribute.
func (tx *Tx) ModifyNetworkInterfaceAttribute(in *ec2wire.ModifyNetworkInterfaceAttributeInput) (*ec2wire.ModifyNetworkInterfaceAttributeOutput, error) {
	n := 0
	for _, set := range []bool{in.Description != nil, in.SourceDestCheck != nil, len(in.Groups) > 0, in.Attachment != nil, in.EnaSrdSpecification != nil,
		in.AssociatePublicIpAddress != nil, in.ConnectionTrackingSpecification != nil} {
		if set {
			n++
		}
	}
	e, err := tx.eniMutable(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	switch {
	case n == 0:
		return nil, errorf(CodeMissingParameter, "You must specify one attribute to modify: description, sourceDestCheck, groupSet or attachment.")
	case n > 1:
		return nil, errorf(CodeInvalidParameterCombination, "Fields for multiple attribute types specified: only one attribute may be modified per call.")
	case in.ConnectionTrackingSpecification != nil:
		ct, err := connTrackSpec(in.ConnectionTrackingSpecification, e.ConnTrack)
		if err != nil {
			return nil, err
		}
		e.ConnTrack = ct
	case in.Description != nil:
		if err := eniCheckDescription(str(in.Description.Value)); err != nil {
			return nil, err
		}
		e.Description = str(in.Description.Value)
	case in.SourceDestCheck != nil:
		if in.SourceDestCheck.Value == nil {
			return nil, errorf(CodeMissingParameter, "The request must contain the parameter sourceDestCheck.value")
		}
		e.SourceDestCheck = *in.SourceDestCheck.Value
	case len(in.Groups) > 0:
		groups, err := tx.eniCheckGroups(tx.subnets.Get(e.SubnetID), in.Groups, true)
		if err != nil {
			return nil, err
		}
		e.Groups = groups
	case in.Attachment != nil:
		id := str(in.Attachment.AttachmentId)
		if id == "" {
			return nil, errorf(CodeMissingParameter, "The request must contain the parameter attachment.attachmentId")
		}
		if !validID(id, "eni-attach") {
			return nil, errorf(CodeInvalidAttachmentMalformed, "Invalid id: \"%s\" (expecting \"eni-attach-...\")", id)
		}
		if e.Attachment == nil || e.Attachment.ID != id {
			return nil, errorf(CodeInvalidAttachmentNotFound, "The interface attachment '%s' does not exist.", id)
		}
		if in.Attachment.DeleteOnTermination == nil {
			return nil, errorf(CodeMissingParameter, "The request must contain the parameter attachment.deleteOnTermination")
		}
		e.Attachment.DeleteOnTermination = *in.Attachment.DeleteOnTermination
	case in.EnaSrdSpecification != nil:
		// ENA Express has no effect here; accepted and not recorded.
	case in.AssociatePublicIpAddress != nil:
		// The newer API's switch for the auto-assigned public IPv4 of the
		// primary address; an Elastic IP there takes precedence.
		switch {
		case *in.AssociatePublicIpAddress && e.PrimaryIP() == "":
			return nil, errorf(CodeInvalidParameterValue, "Network interface %s has no private IPv4 address to map a public IPv4 address to.", e.ID)
		case *in.AssociatePublicIpAddress && e.PublicIP == "" && tx.addressFor(e.ID, e.PrimaryIP()) == nil:
			a, err := tx.allocPublicIP()
			if err != nil {
				return nil, err
			}
			e.PublicIP = a.String()
		case !*in.AssociatePublicIpAddress:
			e.PublicIP = ""
		}
	}
	return &ec2wire.ModifyNetworkInterfaceAttributeOutput{Return: p(true)}, nil
}

// ResetNetworkInterfaceAttribute sets SourceDestCheck back to true (the only
// resettable attribute; the value given is ignored).
func (tx *Tx) ResetNetworkInterfaceAttribute(in *ec2wire.ResetNetworkInterfaceAttributeInput) (*ec2wire.ResetNetworkInterfaceAttributeOutput, error) {
	e, err := tx.eniMutable(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	e.SourceDestCheck = true
	return &ec2wire.ResetNetworkInterfaceAttributeOutput{Return: p(true)}, nil
}

// DescribeNetworkInterfaceAttribute answers one attribute.
func (tx *Tx) DescribeNetworkInterfaceAttribute(in *ec2wire.DescribeNetworkInterfaceAttributeInput) (*ec2wire.DescribeNetworkInterfaceAttributeOutput, error) {
	e, err := tx.getENI(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeNetworkInterfaceAttributeOutput{NetworkInterfaceId: p(e.ID)}
	switch attr := str(in.Attribute); attr {
	case "description":
		out.Description = &ec2wire.AttributeValue{Value: p(e.Description)}
	case "groupSet":
		out.Groups = tx.eniGroupsOut(e.Groups)
	case "sourceDestCheck":
		out.SourceDestCheck = &ec2wire.AttributeBooleanValue{Value: p(e.SourceDestCheck)}
	case "attachment":
		out.Attachment = eniAttachmentOut(e.Attachment)
	case "associatePublicIpAddress":
		out.AssociatePublicIpAddress = p(e.PublicIP != "")
	case "":
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter attribute")
	default:
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	return out, nil
}

// AssignPrivateIpAddresses adds secondary private IPv4 addresses, explicit or
// counted. With AllowReassignment an address that is a secondary of another
// ENI of the subnet moves here, with its Elastic IP.
func (tx *Tx) AssignPrivateIpAddresses(in *ec2wire.AssignPrivateIpAddressesInput) (*ec2wire.AssignPrivateIpAddressesOutput, error) {
	e, err := tx.eniMutable(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	if err := checkAssignPrivateIPParams(in); err != nil {
		return nil, err
	}
	count, prefixCount := int(i32(in.SecondaryPrivateIpAddressCount)), int(i32(in.Ipv4PrefixCount))
	s := tx.subnets.Get(e.SubnetID)
	// Validate every explicit address before counting: the new ones and the
	// ENIs they would move from.
	add, err := tx.assignableIPv4s(s, e, in.PrivateIpAddresses, boolv(in.AllowReassignment))
	if err != nil {
		return nil, err
	}
	addPrefixes, err := tx.assignableIPv4Prefixes(s, e, in.Ipv4Prefixes, add)
	if err != nil {
		return nil, err
	}
	v4, _, _ := tx.eniIPLimits(e) // a prefix counts as one address
	if len(e.PrivateIPs)+len(e.IPv4Prefixes)+len(add)+count+len(addPrefixes)+prefixCount > v4 {
		return nil, errorf(CodePrivateIPLimitExceeded, "Number of private addresses will exceed limit.")
	}
	out := &ec2wire.AssignPrivateIpAddressesOutput{NetworkInterfaceId: p(e.ID)}
	// Named prefixes first, so that no counted address lands in one.
	for _, pf := range addPrefixes {
		e.IPv4Prefixes = append(e.IPv4Prefixes, pf.String())
		out.AssignedIpv4Prefixes = append(out.AssignedIpv4Prefixes, ec2wire.Ipv4PrefixSpecification{Ipv4Prefix: p(pf.String())})
	}
	for _, a := range add {
		if owner := tx.ipv4Owner(s.ID, a); owner != "" {
			o := tx.enis.Mut(owner)
			o.PrivateIPs = slices.DeleteFunc(o.PrivateIPs, func(pi PrivateIP) bool { return pi.Address == a.String() })
			tx.addressMoveIP(owner, a.String(), e.ID)
		}
		e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Address: a.String()})
		out.AssignedPrivateIpAddresses = append(out.AssignedPrivateIpAddresses, ec2wire.AssignedPrivateIpAddress{PrivateIpAddress: p(a.String())})
	}
	if err := tx.assignCounted(s, e, out, count, prefixCount); err != nil {
		return nil, err
	}
	return out, nil
}

// checkAssignPrivateIPParams: AssignPrivateIpAddresses' parameters, each kind
// named or counted, never both, at least one, counts above zero, no duplicates.
func checkAssignPrivateIPParams(in *ec2wire.AssignPrivateIpAddressesInput) error {
	if len(in.PrivateIpAddresses) > 0 && in.SecondaryPrivateIpAddressCount != nil {
		return errorf(CodeInvalidParameterCombination, "The parameters privateIpAddresses and secondaryPrivateIpAddressCount cannot be specified together.")
	}
	if len(in.Ipv4Prefixes) > 0 && in.Ipv4PrefixCount != nil {
		return errorf(CodeInvalidParameterCombination, "The parameters ipv4Prefixes and ipv4PrefixCount cannot be specified together.")
	}
	if len(in.PrivateIpAddresses) == 0 && in.SecondaryPrivateIpAddressCount == nil && len(in.Ipv4Prefixes) == 0 && in.Ipv4PrefixCount == nil {
		return errorf(CodeMissingParameter, "Either privateIpAddresses, secondaryPrivateIpAddressCount, ipv4Prefixes or ipv4PrefixCount must be specified.")
	}
	if n := int(i32(in.Ipv4PrefixCount)); in.Ipv4PrefixCount != nil && n < 1 {
		return errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv4PrefixCount is invalid. Expecting a value greater than 0.", n)
	}
	if dup := prefixDuplicate(in.Ipv4Prefixes); dup != "" {
		return errorf(CodeInvalidParameterValue, "The prefix %s is specified more than once.", dup)
	}
	if n := int(i32(in.SecondaryPrivateIpAddressCount)); in.SecondaryPrivateIpAddressCount != nil && n < 1 {
		return errorf(CodeInvalidParameterValue, "Value (%d) for parameter secondaryPrivateIpAddressCount is invalid. Expecting a value greater than 0.", n)
	}
	if dup := eniDuplicate(in.PrivateIpAddresses); dup != "" {
		return errorf(CodeInvalidParameterValue, "The address %s is specified more than once.", dup)
	}
	return nil
}

// assignableIPv4s checks the named addresses for ENI e in subnet s and returns
// those it does not hold yet; an address another ENI holds moves only with
// allowReassignment, and never a primary or a requester-managed ENI's.
func (tx *Tx) assignableIPv4s(s *Subnet, e *ENI, ips []string, allowReassignment bool) ([]netip.Addr, error) {
	var add []netip.Addr
	for _, ip := range ips {
		a, err := tx.checkIPv4(s, ip)
		if err != nil {
			return nil, err
		}
		if e.HasIP(a.String()) {
			continue // already here: nothing to do
		}
		if owner := tx.ipv4Owner(s.ID, a); owner != "" {
			o := tx.enis.Get(owner)
			// An address inside a delegated prefix (even this ENI's) is not
			// reassignable: it is not one of the owner's addresses.
			if !allowReassignment && o.HasIP(a.String()) {
				return nil, errorf(CodeInvalidParameterValue, "Address %s is already assigned and move is not allowed.", a)
			}
			if !allowReassignment || !o.HasIP(a.String()) || o.PrimaryIP() == a.String() || o.RequesterManaged {
				return nil, errorf(CodeInvalidIPAddressInUse, "Address %s is in use.", a)
			}
		}
		add = append(add, a)
	}
	return add, nil
}

// assignableIPv4Prefixes checks the named prefixes for ENI e in subnet s and
// returns those it does not hold yet; each must be free and hold none of add.
func (tx *Tx) assignableIPv4Prefixes(s *Subnet, e *ENI, prefixes []string, add []netip.Addr) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, pfs := range prefixes {
		pf, err := checkIPv4Prefix(s, pfs)
		if err != nil {
			return nil, err
		}
		if e.HasIPv4Prefix(pf.String()) {
			continue // already here
		}
		if !tx.ipv4PrefixFree(s.ID, pf) || slices.ContainsFunc(add, pf.Contains) {
			return nil, errorf(CodeInvalidIPAddressInUse, "Prefix %s is in use.", pf)
		}
		out = append(out, pf)
	}
	return out, nil
}

// assignCounted allocates count addresses and prefixCount prefixes in s for
// e, adding them to out.
func (tx *Tx) assignCounted(s *Subnet, e *ENI, out *ec2wire.AssignPrivateIpAddressesOutput, count, prefixCount int) error {
	for range count {
		a, err := tx.allocIPv4(s)
		if err != nil {
			return err
		}
		e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Address: a.String()})
		out.AssignedPrivateIpAddresses = append(out.AssignedPrivateIpAddresses, ec2wire.AssignedPrivateIpAddress{PrivateIpAddress: p(a.String())})
	}
	for range prefixCount {
		pf, err := tx.allocIPv4Prefix(s)
		if err != nil {
			return err
		}
		e.IPv4Prefixes = append(e.IPv4Prefixes, pf.String())
		out.AssignedIpv4Prefixes = append(out.AssignedIpv4Prefixes, ec2wire.Ipv4PrefixSpecification{Ipv4Prefix: p(pf.String())})
	}
	return nil
}

// UnassignPrivateIpAddresses removes secondary private IPv4 addresses; Elastic
// IPs on them are disassociated.
func (tx *Tx) UnassignPrivateIpAddresses(in *ec2wire.UnassignPrivateIpAddressesInput) (*ec2wire.UnassignPrivateIpAddressesOutput, error) {
	e, err := tx.eniMutable(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	if len(in.PrivateIpAddresses) == 0 && len(in.Ipv4Prefixes) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter privateIpAddress")
	}
	for _, pfs := range in.Ipv4Prefixes {
		pf, err := netip.ParsePrefix(pfs)
		if err != nil || !e.HasIPv4Prefix(pf.Masked().String()) || pf != pf.Masked() {
			return nil, errorf(CodeInvalidParameterValue, "Some of the specified prefixes are not assigned to interface %s", e.ID)
		}
	}
	for _, ip := range in.PrivateIpAddresses {
		a, err := netip.ParseAddr(ip)
		if err != nil || !e.HasIP(a.String()) {
			return nil, errorf(CodeInvalidParameterValue, "Some of the specified addresses are not assigned to interface %s", e.ID)
		}
		if e.PrimaryIP() == a.String() {
			return nil, errorf(CodeInvalidParameterValue, "The primary private IP address %s of interface %s cannot be unassigned.", a, e.ID)
		}
	}
	for _, ip := range in.PrivateIpAddresses {
		a := netip.MustParseAddr(ip).String()
		e.PrivateIPs = slices.DeleteFunc(e.PrivateIPs, func(pi PrivateIP) bool { return pi.Address == a })
		tx.addressDisassociateIP(e.ID, a)
	}
	for _, pfs := range in.Ipv4Prefixes {
		pf := netip.MustParsePrefix(pfs).String()
		e.IPv4Prefixes = slices.DeleteFunc(e.IPv4Prefixes, func(x string) bool { return x == pf })
	}
	return &ec2wire.UnassignPrivateIpAddressesOutput{Return: p(true)}, nil
}

// AssignIpv6Addresses adds IPv6 addresses, explicit or counted (the count is
// additional); the subnet needs an IPv6 block.
func (tx *Tx) AssignIpv6Addresses(in *ec2wire.AssignIpv6AddressesInput) (*ec2wire.AssignIpv6AddressesOutput, error) {
	e, err := tx.eniMutable(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	if len(in.Ipv6Addresses) > 0 && in.Ipv6AddressCount != nil {
		return nil, errorf(CodeInvalidParameterCombination, "The parameters ipv6Addresses and ipv6AddressCount cannot be specified together.")
	}
	if len(in.Ipv6Prefixes) > 0 && in.Ipv6PrefixCount != nil {
		return nil, errorf(CodeInvalidParameterCombination, "The parameters ipv6Prefixes and ipv6PrefixCount cannot be specified together.")
	}
	if len(in.Ipv6Addresses) == 0 && in.Ipv6AddressCount == nil && len(in.Ipv6Prefixes) == 0 && in.Ipv6PrefixCount == nil {
		return nil, errorf(CodeMissingParameter, "Either ipv6Addresses, ipv6AddressCount, ipv6Prefixes or ipv6PrefixCount must be specified.")
	}
	count := int(i32(in.Ipv6AddressCount))
	if in.Ipv6AddressCount != nil && count < 1 {
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv6AddressCount is invalid. Expecting a value greater than 0.", count)
	}
	prefixCount := int(i32(in.Ipv6PrefixCount))
	if in.Ipv6PrefixCount != nil && prefixCount < 1 {
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv6PrefixCount is invalid. Expecting a value greater than 0.", prefixCount)
	}
	if dup := prefixDuplicate(in.Ipv6Prefixes); dup != "" {
		return nil, errorf(CodeInvalidParameterValue, "The prefix %s is specified more than once.", dup)
	}
	if dup := eniDuplicate(in.Ipv6Addresses); dup != "" {
		return nil, errorf(CodeInvalidParameterValue, "The address %s is specified more than once.", dup)
	}
	s := tx.subnets.Get(e.SubnetID)
	if s.Ipv6CidrBlock == "" {
		return nil, errorf(CodeInvalidParameterValue, "Subnet %s does not have an IPv6 CIDR block", s.ID)
	}
	var add []string
	for _, ip := range in.Ipv6Addresses {
		a, err := tx.checkIPv6(s, ip)
		if err != nil {
			return nil, err
		}
		if slices.Contains(e.IPv6, a.String()) {
			continue
		}
		if tx.ipv6Owner(s.ID, a) != "" {
			return nil, errorf(CodeInvalidIPAddressInUse, "Address %s is in use.", a)
		}
		add = append(add, a.String())
	}
	var addPrefixes []string
	for _, ps := range in.Ipv6Prefixes {
		pf, err := checkIPv6Prefix(s, ps)
		if err != nil {
			return nil, err
		}
		if e.HasIPv6Prefix(pf.String()) {
			continue
		}
		if !tx.ipv6PrefixFree(s.ID, pf) || slices.ContainsFunc(add, func(a string) bool { return pf.Contains(netip.MustParseAddr(a)) }) {
			return nil, errorf(CodeInvalidIPAddressInUse, "Prefix %s is in use.", pf)
		}
		addPrefixes = append(addPrefixes, pf.String())
	}
	_, v6, typ := tx.eniIPLimits(e) // a prefix counts as one address
	if len(e.IPv6)+len(e.IPv6Prefixes)+len(add)+count+len(addPrefixes)+prefixCount > v6 {
		if typ != "" && v6 == 0 {
			return nil, errorf(CodeInvalidParameterValue, "Instance type %s does not support IPv6 addresses.", typ)
		}
		return nil, errorf(CodePrivateIPLimitExceeded, "Number of IPv6 addresses will exceed limit.")
	}
	out := &ec2wire.AssignIpv6AddressesOutput{NetworkInterfaceId: p(e.ID)}
	e.IPv6Prefixes = append(e.IPv6Prefixes, addPrefixes...)
	out.AssignedIpv6Prefixes = append(out.AssignedIpv6Prefixes, addPrefixes...)
	e.IPv6 = append(e.IPv6, add...)
	out.AssignedIpv6Addresses = append(out.AssignedIpv6Addresses, add...)
	for range count {
		a, err := tx.allocIPv6(s)
		if err != nil {
			return nil, err
		}
		e.IPv6 = append(e.IPv6, a.String())
		out.AssignedIpv6Addresses = append(out.AssignedIpv6Addresses, a.String())
	}
	for range prefixCount {
		pf, err := tx.allocIPv6Prefix(s)
		if err != nil {
			return nil, err
		}
		e.IPv6Prefixes = append(e.IPv6Prefixes, pf.String())
		out.AssignedIpv6Prefixes = append(out.AssignedIpv6Prefixes, pf.String())
	}
	return out, nil
}

// UnassignIpv6Addresses removes IPv6 addresses of the ENI.
func (tx *Tx) UnassignIpv6Addresses(in *ec2wire.UnassignIpv6AddressesInput) (*ec2wire.UnassignIpv6AddressesOutput, error) {
	e, err := tx.eniMutable(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	if len(in.Ipv6Addresses) == 0 && len(in.Ipv6Prefixes) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter ipv6Addresses")
	}
	out := &ec2wire.UnassignIpv6AddressesOutput{NetworkInterfaceId: p(e.ID)}
	for _, ps := range in.Ipv6Prefixes {
		pf, err := netip.ParsePrefix(ps)
		if err != nil || pf != pf.Masked() || !e.HasIPv6Prefix(pf.String()) {
			return nil, errorf(CodeInvalidParameterValue, "Some of the specified prefixes are not assigned to interface %s", e.ID)
		}
		e.IPv6Prefixes = slices.DeleteFunc(e.IPv6Prefixes, func(s string) bool { return s == pf.String() })
		out.UnassignedIpv6Prefixes = append(out.UnassignedIpv6Prefixes, pf.String())
	}
	for _, ip := range in.Ipv6Addresses {
		a, err := netip.ParseAddr(ip)
		if err != nil || !slices.Contains(e.IPv6, a.String()) {
			return nil, errorf(CodeInvalidParameterValue, "Some of the specified addresses are not assigned to interface %s", e.ID)
		}
		e.IPv6 = slices.DeleteFunc(e.IPv6, func(s string) bool { return s == a.String() })
		out.UnassignedIpv6Addresses = append(out.UnassignedIpv6Addresses, a.String())
	}
	return out, nil
}

// eniPermissionKinds are the permissions an ENI owner may grant.
var eniPermissionKinds = []string{"INSTANCE-ATTACH", "EIP-ASSOCIATE"}

func eniPermOut(pm *Permission) ec2wire.NetworkInterfacePermission {
	out := ec2wire.NetworkInterfacePermission{
		NetworkInterfacePermissionId: p(pm.ID), NetworkInterfaceId: p(pm.ENIID), Permission: p(pm.Permission),
		PermissionState: &ec2wire.NetworkInterfacePermissionState{State: p(pm.State)},
	}
	if pm.Account != "" {
		out.AwsAccountId = p(pm.Account)
	}
	if pm.Service != "" {
		out.AwsService = p(pm.Service)
	}
	return out
}

// CreateNetworkInterfacePermission lets another account attach the ENI to its
// instance (INSTANCE-ATTACH) or associate an Elastic IP with it.
func (tx *Tx) CreateNetworkInterfacePermission(in *ec2wire.CreateNetworkInterfacePermissionInput) (*ec2wire.CreateNetworkInterfacePermissionOutput, error) {
	e, err := tx.getENI(str(in.NetworkInterfaceId))
	if err != nil {
		return nil, err
	}
	kind := str(in.Permission)
	if !slices.Contains(eniPermissionKinds, kind) {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter permission is invalid. Allowed values are [INSTANCE-ATTACH, EIP-ASSOCIATE].", kind)
	}
	account := str(in.AwsAccountId)
	switch {
	case account != "" && in.AwsService != nil:
		return nil, errorf(CodeInvalidParameterCombination, "Only one of awsAccountId and awsService may be specified.")
	case in.AwsService != nil:
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter awsService is invalid.", str(in.AwsService))
	case account == "":
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter awsAccountId")
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter awsAccountId is invalid. It must be a 12-digit account id.", account)
	}
	pm := &Permission{ID: tx.newID("eni-perm"), Owner: tx.Account, ENIID: e.ID, Account: account, Permission: kind, State: "granted"}
	tx.perms.Put(pm)
	o := eniPermOut(pm)
	return &ec2wire.CreateNetworkInterfacePermissionOutput{InterfacePermission: &o}, nil
}

var eniPermFilters = filterSet[Permission]{
	"network-interface-permission.network-interface-permission-id": func(pm *Permission) []string { return []string{pm.ID} },
	"network-interface-permission.network-interface-id":            func(pm *Permission) []string { return []string{pm.ENIID} },
	"network-interface-permission.aws-account-id":                  func(pm *Permission) []string { return eniOne(pm.Account) },
	"network-interface-permission.aws-service":                     func(pm *Permission) []string { return eniOne(pm.Service) },
	"network-interface-permission.permission":                      func(pm *Permission) []string { return []string{pm.Permission} },
}

// eniPermVisible reports whether the caller granted or holds the permission.
func (tx *Tx) eniPermVisible(pm *Permission) bool {
	return pm.Owner == tx.Account || pm.Account == tx.Account
}

// DescribeNetworkInterfacePermissions lists the permissions the caller
// granted or holds, 50 a page unless MaxResults (5-255) says otherwise.
func (tx *Tx) DescribeNetworkInterfacePermissions(in *ec2wire.DescribeNetworkInterfacePermissionsInput) (*ec2wire.DescribeNetworkInterfacePermissionsOutput, error) {
	m, err := newMatcher(eniPermFilters, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.NetworkInterfacePermissionIds {
		if _, err := tx.getENIPerm(id); err != nil {
			return nil, err
		}
	}
	items := tx.perms.Sorted(func(pm *Permission) bool {
		return tx.eniPermVisible(pm) && (len(in.NetworkInterfacePermissionIds) == 0 || slices.Contains(in.NetworkInterfacePermissionIds, pm.ID)) && m.match(pm)
	})
	maxResults := in.MaxResults
	if maxResults == nil {
		maxResults = p(int32(50))
	}
	page, next, err := paginate(items, func(pm *Permission) string { return pm.ID }, maxResults, in.NextToken, 5, 255)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeNetworkInterfacePermissionsOutput{NextToken: next}
	for _, pm := range page {
		out.NetworkInterfacePermissions = append(out.NetworkInterfacePermissions, eniPermOut(pm))
	}
	return out, nil
}

func (tx *Tx) getENIPerm(id string) (*Permission, error) {
	if !validID(id, "eni-perm") {
		return nil, errorf(CodeInvalidPermIDMalformed, "Invalid id: \"%s\" (expecting \"eni-perm-...\")", id)
	}
	pm := tx.perms.Get(id)
	if pm == nil || !tx.eniPermVisible(pm) {
		return nil, errorf(CodeInvalidPermIDNotFound, "The networkInterfacePermission ID '%s' does not exist", id)
	}
	return pm, nil
}

// DeleteNetworkInterfacePermission removes a permission the caller granted.
func (tx *Tx) DeleteNetworkInterfacePermission(in *ec2wire.DeleteNetworkInterfacePermissionInput) (*ec2wire.DeleteNetworkInterfacePermissionOutput, error) {
	pm, err := tx.getENIPerm(str(in.NetworkInterfacePermissionId))
	if err != nil {
		return nil, err
	}
	if pm.Owner != tx.Account {
		return nil, errorf(CodeOperationNotPermitted, "You are not allowed to delete the network interface permission '%s'.", pm.ID)
	}
	tx.perms.Delete(pm.ID)
	return &ec2wire.DeleteNetworkInterfacePermissionOutput{Return: p(true)}, nil
}

// AWS's connection tracking timeouts (seconds): defaults and ranges.
const (
	connTrackTCPDefault, connTrackTCPMin, connTrackTCPMax                   = 432000, 60, 432000
	connTrackUDPStreamDefault, connTrackUDPStreamMin, connTrackUDPStreamMax = 180, 60, 180
	connTrackUDPDefault, connTrackUDPMin, connTrackUDPMax                   = 30, 30, 60
)

// connTrackSpec applies a ConnectionTrackingSpecification to cur (nil: the
// defaults): the fields given change, each within AWS's range.
func connTrackSpec(in *ec2wire.ConnectionTrackingSpecificationRequest, cur *ConnTrack) (*ConnTrack, error) {
	if in == nil {
		return cur, nil
	}
	out := ConnTrack{TCPEstablished: connTrackTCPDefault, UDPStream: connTrackUDPStreamDefault, UDP: connTrackUDPDefault}
	if cur != nil {
		out = *cur
	}
	for _, f := range []struct {
		name     string
		v        *int32
		min, max int32
		dst      *int32
	}{
		{"TcpEstablishedTimeout", in.TcpEstablishedTimeout, connTrackTCPMin, connTrackTCPMax, &out.TCPEstablished},
		{"UdpStreamTimeout", in.UdpStreamTimeout, connTrackUDPStreamMin, connTrackUDPStreamMax, &out.UDPStream},
		{"UdpTimeout", in.UdpTimeout, connTrackUDPMin, connTrackUDPMax, &out.UDP},
	} {
		if f.v == nil {
			continue
		}
		if *f.v < f.min || *f.v > f.max {
			return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter %s is invalid. It must be between %d and %d seconds.", *f.v, f.name, f.min, f.max)
		}
		*f.dst = *f.v
	}
	return &out, nil
}
