package core

// Network ACLs: every VPC's default ACL, custom ACLs, their numbered entries
// and their subnet associations, with AWS's rules. The API only: the data
// plane does not enforce them.
//
// Every subnet is associated with exactly one ACL of its VPC. Until
// ReplaceNetworkAclAssociation moves it, that is its VPC's default ACL, under
// an association id derived from the subnet's id (aclassoc-<the subnet id's
// hex>), so that every way a subnet comes to be (CreateSubnet, a default
// subnet, a subnet stored before ACLs existed) has its association without a
// write of its own. An association made by ReplaceNetworkAclAssociation is
// stored on the ACL it points to, under a new id.

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// ACLEntry is one numbered rule of a network ACL.
type ACLEntry struct {
	RuleNumber    int32  `json:"n"`
	Egress        bool   `json:"egress,omitempty"`
	Protocol      string `json:"proto"`  // "-1" or a protocol number
	Action        string `json:"action"` // allow | deny
	CidrBlock     string `json:"cidr,omitempty"`
	Ipv6CidrBlock string `json:"cidr6,omitempty"`
	// Ports are kept for TCP and UDP, the ICMP type and code for ICMP and
	// for ICMPv6 with an IPv6 block: AWS ignores them otherwise.
	Ports *ACLPorts `json:"ports,omitempty"`
	Icmp  *ACLIcmp  `json:"icmp,omitempty"`
}

// ACLPorts is an entry's port range.
type ACLPorts struct {
	From int32 `json:"from"`
	To   int32 `json:"to"`
}

// ACLIcmp is an entry's ICMP type and code (-1: all).
type ACLIcmp struct {
	Type int32 `json:"type"`
	Code int32 `json:"code"`
}

// ACLAssoc is a subnet's association with an ACL, made by
// ReplaceNetworkAclAssociation.
type ACLAssoc struct {
	ID       string `json:"id"` // aclassoc-...
	SubnetID string `json:"subnetId"`
}

// NetworkACL is a VPC's network ACL.
type NetworkACL struct {
	ID           string     `json:"id"`
	Owner        string     `json:"owner"`
	VpcID        string     `json:"vpcId"`
	IsDefault    bool       `json:"isDefault,omitempty"`
	Entries      []ACLEntry `json:"entries"`
	Associations []ACLAssoc `json:"associations,omitempty"`
	Tags         Tags       `json:"tags,omitempty"`
	// Edited says a client changed the default ACL's entries: AWS then
	// adds no IPv6 allow rules when the VPC gains an IPv6 block.
	Edited bool `json:"edited,omitempty"`
}

func (a *NetworkACL) key() string { return a.ID }
func (a *NetworkACL) clone() *NetworkACL {
	c := *a
	c.Entries = slices.Clone(a.Entries)
	for i := range c.Entries {
		if e := c.Entries[i].Ports; e != nil {
			v := *e
			c.Entries[i].Ports = &v
		}
		if e := c.Entries[i].Icmp; e != nil {
			v := *e
			c.Entries[i].Icmp = &v
		}
	}
	c.Associations = slices.Clone(a.Associations)
	c.Tags = maps.Clone(a.Tags)
	return &c
}

const (
	// aclLastRule is the highest rule number a client may use; the rules
	// after it are every ACL's catch-all denies (shown as "*" by the
	// console): aclDenyAll for IPv4, aclDenyAll6 for IPv6.
	aclLastRule = 32766
	aclDenyAll  = 32767
	aclDenyAll6 = 32768
	// aclMaxRules is AWS's default quota of rules per ACL and direction,
	// the catch-all denies included.
	aclMaxRules = 20
	// aclMaxPerVPC is AWS's default quota of network ACLs per VPC.
	aclMaxPerVPC = 200
)

// aclAll returns the allow-all or deny-all entry of a direction and family.
func aclAll(n int32, egress, ipv6 bool, action string) ACLEntry {
	e := ACLEntry{RuleNumber: n, Egress: egress, Protocol: "-1", Action: action, CidrBlock: "0.0.0.0/0"}
	if ipv6 {
		e.CidrBlock, e.Ipv6CidrBlock = "", "::/0"
	}
	return e
}

// aclEntriesFor returns the entries a new ACL starts with: a default ACL
// allows everything (rule 100, and 101 for IPv6), and every ACL ends with
// the catch-all denies; the IPv6 ones when the VPC has an IPv6 block.
func aclEntriesFor(isDefault, ipv6 bool) []ACLEntry {
	var out []ACLEntry
	for _, egress := range []bool{true, false} {
		if isDefault {
			out = append(out, aclAll(100, egress, false, "allow"))
			if ipv6 {
				out = append(out, aclAll(101, egress, true, "allow"))
			}
		}
		out = append(out, aclAll(aclDenyAll, egress, false, "deny"))
		if ipv6 {
			out = append(out, aclAll(aclDenyAll6, egress, true, "deny"))
		}
	}
	return out
}

// aclCreateDefault gives a new VPC its default ACL. Every path that creates
// a VPC calls it (through createVPC).
func (tx *Tx) aclCreateDefault(v *VPC) *NetworkACL {
	a := &NetworkACL{ID: tx.newID("acl"), Owner: v.Owner, VpcID: v.ID, IsDefault: true,
		Entries: aclEntriesFor(true, len(v.Ipv6Assocs) > 0)}
	tx.acls.Put(a)
	return a
}

// aclVPCGainedIpv6 adds IPv6 entries when a VPC gains its first IPv6 block,
// as AWS does: the IPv6 catch-all denies to every ACL of the VPC, and to the
// default ACL, unless a client changed its entries, the IPv6 allow rules.
func (tx *Tx) aclVPCGainedIpv6(vpcID string) {
	for _, a := range tx.acls.Sorted(func(a *NetworkACL) bool { return a.VpcID == vpcID }) {
		m := tx.acls.Mut(a.ID)
		for _, egress := range []bool{true, false} {
			if m.IsDefault && !m.Edited && aclFind(m.Entries, 101, egress) < 0 {
				m.Entries = append(m.Entries, aclAll(101, egress, true, "allow"))
			}
			if aclFind(m.Entries, aclDenyAll6, egress) < 0 {
				m.Entries = append(m.Entries, aclAll(aclDenyAll6, egress, true, "deny"))
			}
		}
	}
}

// aclDefaultOf returns a VPC's default ACL, or nil.
func (tx *Tx) aclDefaultOf(vpcID string) *NetworkACL {
	var out *NetworkACL
	tx.acls.Each(func(a *NetworkACL) bool {
		if a.VpcID == vpcID && a.IsDefault {
			out = a
		}
		return out == nil
	})
	return out
}

func aclFind(entries []ACLEntry, n int32, egress bool) int {
	return slices.IndexFunc(entries, func(e ACLEntry) bool { return e.RuleNumber == n && e.Egress == egress })
}

// aclDerivedAssocID is the id of a subnet's association with its VPC's
// default ACL until it is replaced.
func aclDerivedAssocID(subnetID string) string {
	return "aclassoc-" + strings.TrimPrefix(subnetID, "subnet-")
}

// aclExplicit returns, for the ACLs of a VPC, which subnets have a stored
// association.
func (tx *Tx) aclExplicit(vpcID string) map[string]bool {
	out := map[string]bool{}
	tx.acls.Each(func(a *NetworkACL) bool {
		if a.VpcID == vpcID {
			for _, as := range a.Associations {
				out[as.SubnetID] = true
			}
		}
		return true
	})
	return out
}

// aclAssociations returns an ACL's subnet associations: its stored ones and,
// for the default ACL, the derived ones of the VPC's other subnets.
func (tx *Tx) aclAssociations(a *NetworkACL, explicit map[string]bool) []ACLAssoc {
	out := slices.Clone(a.Associations)
	if a.IsDefault {
		for _, s := range tx.subnets.Sorted(func(s *Subnet) bool { return s.VpcID == a.VpcID && !explicit[s.ID] }) {
			out = append(out, ACLAssoc{ID: aclDerivedAssocID(s.ID), SubnetID: s.ID})
		}
	}
	return out
}

// SubnetNetworkACL returns the ACL a subnet is associated with and the
// association's id ("" and nil if the subnet does not exist).
func (tx *Tx) SubnetNetworkACL(subnetID string) (*NetworkACL, string) {
	s := tx.subnets.Get(subnetID)
	if s == nil {
		return nil, ""
	}
	var found *NetworkACL
	var id string
	tx.acls.Each(func(a *NetworkACL) bool {
		for _, as := range a.Associations {
			if as.SubnetID == subnetID {
				found, id = a, as.ID
			}
		}
		return found == nil
	})
	if found != nil {
		return found, id
	}
	return tx.aclDefaultOf(s.VpcID), aclDerivedAssocID(subnetID)
}

// aclForgetSubnet drops a deleted subnet's stored association.
func (tx *Tx) aclForgetSubnet(subnetID string) {
	if a, id := tx.SubnetNetworkACL(subnetID); a != nil && id != aclDerivedAssocID(subnetID) {
		m := tx.acls.Mut(a.ID)
		m.Associations = slices.DeleteFunc(m.Associations, func(as ACLAssoc) bool { return as.SubnetID == subnetID })
	}
}

// aclBlockingVPC returns a custom ACL that keeps a VPC from being deleted,
// or "".
func (tx *Tx) aclBlockingVPC(vpcID string) string {
	var id string
	tx.acls.Each(func(a *NetworkACL) bool {
		if a.VpcID == vpcID && !a.IsDefault {
			id = a.ID
		}
		return id == ""
	})
	return id
}

// aclDeleteVPC deletes a deleted VPC's default ACL.
func (tx *Tx) aclDeleteVPC(vpcID string) {
	if a := tx.aclDefaultOf(vpcID); a != nil {
		tx.acls.Delete(a.ID)
	}
}

func (tx *Tx) getACL(id string) (*NetworkACL, error) {
	if !validID(id, "acl") {
		return nil, errorf(CodeInvalidNetworkACLIDMalformed, "Invalid id: \"%s\" (expecting \"acl-...\")", id)
	}
	a := tx.acls.Get(id)
	if a == nil || a.Owner != tx.Account {
		return nil, errorf(CodeInvalidNetworkACLIDNotFound, "The networkAcl ID '%s' does not exist", id)
	}
	return a, nil
}

// CreateNetworkAcl creates a custom ACL, which denies everything until
// entries are added.
func (tx *Tx) CreateNetworkAcl(in *ec2wire.CreateNetworkAclInput) (*ec2wire.CreateNetworkAclOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "network-acl")
	if err != nil {
		return nil, err
	}
	n := 0
	tx.acls.Each(func(a *NetworkACL) bool {
		if a.VpcID == v.ID {
			n++
		}
		return true
	})
	if n >= aclMaxPerVPC {
		return nil, errorf(CodeNetworkACLLimitExceeded, "The maximum number of network ACLs has been reached.")
	}
	a := &NetworkACL{ID: tx.newID("acl"), Owner: tx.Account, VpcID: v.ID, Entries: aclEntriesFor(false, len(v.Ipv6Assocs) > 0), Tags: tags}
	tx.acls.Put(a)
	return &ec2wire.CreateNetworkAclOutput{NetworkAcl: tx.aclOut(a, nil), ClientToken: in.ClientToken}, nil
}

// DeleteNetworkAcl deletes a custom ACL no subnet is associated with.
func (tx *Tx) DeleteNetworkAcl(in *ec2wire.DeleteNetworkAclInput) (*ec2wire.DeleteNetworkAclOutput, error) {
	a, err := tx.getACL(str(in.NetworkAclId))
	if err != nil {
		return nil, err
	}
	if a.IsDefault {
		return nil, errorf(CodeInvalidParameterValue, "cannot delete default network ACL %s", a.ID)
	}
	if len(a.Associations) > 0 {
		return nil, errorf(CodeDependencyViolation, "The networkAcl '%s' has dependencies and cannot be deleted.", a.ID)
	}
	tx.acls.Delete(a.ID)
	return &ec2wire.DeleteNetworkAclOutput{Return: p(true)}, nil
}

// aclEntryIn is what CreateNetworkAclEntry and ReplaceNetworkAclEntry give.
type aclEntryIn struct {
	rule             *int32
	egress           *bool
	protocol, action *string
	cidr, cidr6      *string
	ports            *ec2wire.PortRange
	icmp             *ec2wire.IcmpTypeCode
}

// aclRuleNumber checks a rule number a client names.
func aclRuleNumber(n *int32) (int32, error) {
	if n == nil {
		return 0, errorf(CodeMissingParameter, "The request must contain the parameter ruleNumber")
	}
	if *n < 1 || *n > aclLastRule {
		return 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter ruleNumber is invalid. Rulenumber must be in range 1..%d", *n, aclLastRule)
	}
	return *n, nil
}

// aclProtocol normalises an entry's protocol to "-1" or its number; names
// of the common protocols are accepted as AWS accepts them.
func aclProtocol(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	switch l {
	case "":
		return "", errorf(CodeMissingParameter, "The request must contain the parameter protocol")
	case "-1", "all":
		return "-1", nil
	case "tcp":
		return "6", nil
	case "udp":
		return "17", nil
	case "icmp":
		return "1", nil
	case "icmpv6":
		return "58", nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < -1 || n > 255 {
		return "", errorf(CodeInvalidParameterValue, "Invalid value '%s' for IP protocol. Unknown protocol.", s)
	}
	return strconv.Itoa(n), nil
}

// aclProtocolNames are the names the entry.protocol filter also matches.
var aclProtocolNames = map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "-1": "all"}

// aclCidr parses an entry's one IPv4 or IPv6 block.
func aclCidr(e *ACLEntry, v4, v6 *string) error {
	switch {
	case v4 != nil && v6 != nil:
		return errorf(CodeInvalidParameterCombination, "Only one of cidrBlock and ipv6CidrBlock may be specified.")
	case v4 != nil:
		pfx, err := netip.ParsePrefix(*v4)
		if err != nil || !pfx.Addr().Is4() {
			return errorf(CodeInvalidParameterValue, "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", *v4)
		}
		e.CidrBlock = pfx.Masked().String()
	case v6 != nil:
		pfx, err := netip.ParsePrefix(*v6)
		if err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
			return errorf(CodeInvalidParameterValue, "Value (%s) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.", *v6)
		}
		e.Ipv6CidrBlock = pfx.Masked().String()
	default:
		return errorf(CodeMissingParameter, "The request must contain the parameter cidrBlock or ipv6CidrBlock")
	}
	return nil
}

// aclPortsAndIcmp keeps the port range of TCP and UDP entries and the ICMP
// type and code of ICMP (and ICMPv6 with an IPv6 block) entries, which AWS
// requires for them; it ignores them for other protocols, as AWS does.
func aclPortsAndIcmp(e *ACLEntry, ports *ec2wire.PortRange, icmp *ec2wire.IcmpTypeCode) error {
	switch {
	case e.Protocol == "6" || e.Protocol == "17":
		if ports == nil || ports.From == nil || ports.To == nil {
			return errorf(CodeInvalidParameterValue, "Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
		}
		for _, v := range []int32{*ports.From, *ports.To} {
			if v < 0 || v > 65535 {
				return errorf(CodeInvalidParameterValue, "Invalid value for portRange. Port (%d) must be between 0 and 65535.", v)
			}
		}
		if *ports.From > *ports.To {
			return errorf(CodeInvalidParameterValue, "Invalid value for portRange. From port (%d) must not be greater than to port (%d).", *ports.From, *ports.To)
		}
		e.Ports = &ACLPorts{From: *ports.From, To: *ports.To}
	case e.Protocol == "1" || e.Protocol == "58" && e.Ipv6CidrBlock != "":
		if icmp == nil || icmp.Type == nil || icmp.Code == nil {
			return errorf(CodeInvalidParameterValue, "Invalid value for icmpTypeCode. Must specify both ICMP type and code with ICMP.")
		}
		for _, v := range []int32{*icmp.Type, *icmp.Code} {
			if v < -1 || v > 255 {
				return errorf(CodeInvalidParameterValue, "Invalid value for icmpTypeCode. ICMP type and code (%d) must be between -1 and 255.", v)
			}
		}
		e.Icmp = &ACLIcmp{Type: *icmp.Type, Code: *icmp.Code}
	}
	return nil
}

// aclEntry validates a requested entry.
func aclEntry(in aclEntryIn) (ACLEntry, error) {
	n, err := aclRuleNumber(in.rule)
	if err != nil {
		return ACLEntry{}, err
	}
	e := ACLEntry{RuleNumber: n, Egress: boolv(in.egress)}
	if e.Protocol, err = aclProtocol(str(in.protocol)); err != nil {
		return ACLEntry{}, err
	}
	switch e.Action = strings.ToLower(str(in.action)); e.Action {
	case "allow", "deny":
	case "":
		return ACLEntry{}, errorf(CodeMissingParameter, "The request must contain the parameter ruleAction")
	default:
		return ACLEntry{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter ruleAction is invalid. Valid values are allow and deny.", str(in.action))
	}
	if err := aclCidr(&e, in.cidr, in.cidr6); err != nil {
		return ACLEntry{}, err
	}
	return e, aclPortsAndIcmp(&e, in.ports, in.icmp)
}

// CreateNetworkAclEntry adds a numbered entry to an ACL.
func (tx *Tx) CreateNetworkAclEntry(in *ec2wire.CreateNetworkAclEntryInput) (*ec2wire.CreateNetworkAclEntryOutput, error) {
	a, err := tx.getACL(str(in.NetworkAclId))
	if err != nil {
		return nil, err
	}
	e, err := aclEntry(aclEntryIn{in.RuleNumber, in.Egress, in.Protocol, in.RuleAction, in.CidrBlock, in.Ipv6CidrBlock, in.PortRange, in.IcmpTypeCode})
	if err != nil {
		return nil, err
	}
	if aclFind(a.Entries, e.RuleNumber, e.Egress) >= 0 {
		return nil, errorf(CodeNetworkACLEntryAlreadyExists, "The network acl entry identified by %d already exists.", e.RuleNumber)
	}
	n := 0
	for _, o := range a.Entries {
		if o.Egress == e.Egress {
			n++
		}
	}
	if n >= aclMaxRules {
		return nil, errorf(CodeRulesPerACLLimitExceeded, "The maximum number of rules per network ACL has been reached.")
	}
	m := tx.acls.Mut(a.ID)
	m.Entries = append(m.Entries, e)
	m.Edited = true
	return &ec2wire.CreateNetworkAclEntryOutput{Return: p(true)}, nil
}

// ReplaceNetworkAclEntry replaces an existing entry.
func (tx *Tx) ReplaceNetworkAclEntry(in *ec2wire.ReplaceNetworkAclEntryInput) (*ec2wire.ReplaceNetworkAclEntryOutput, error) {
	a, err := tx.getACL(str(in.NetworkAclId))
	if err != nil {
		return nil, err
	}
	e, err := aclEntry(aclEntryIn{in.RuleNumber, in.Egress, in.Protocol, in.RuleAction, in.CidrBlock, in.Ipv6CidrBlock, in.PortRange, in.IcmpTypeCode})
	if err != nil {
		return nil, err
	}
	i := aclFind(a.Entries, e.RuleNumber, e.Egress)
	if i < 0 {
		return nil, errorf(CodeInvalidNetworkACLEntryNotFound, "The network acl entry identified by %d does not exist", e.RuleNumber)
	}
	m := tx.acls.Mut(a.ID)
	m.Entries[i] = e
	m.Edited = true
	return &ec2wire.ReplaceNetworkAclEntryOutput{Return: p(true)}, nil
}

// DeleteNetworkAclEntry removes an entry; the catch-all denies stay.
func (tx *Tx) DeleteNetworkAclEntry(in *ec2wire.DeleteNetworkAclEntryInput) (*ec2wire.DeleteNetworkAclEntryOutput, error) {
	a, err := tx.getACL(str(in.NetworkAclId))
	if err != nil {
		return nil, err
	}
	n, err := aclRuleNumber(in.RuleNumber)
	if err != nil {
		return nil, err
	}
	i := aclFind(a.Entries, n, boolv(in.Egress))
	if i < 0 {
		return nil, errorf(CodeInvalidNetworkACLEntryNotFound, "The network acl entry identified by %d does not exist", n)
	}
	m := tx.acls.Mut(a.ID)
	m.Entries = slices.Delete(m.Entries, i, i+1)
	m.Edited = true
	return &ec2wire.DeleteNetworkAclEntryOutput{Return: p(true)}, nil
}

// aclFindAssoc returns the subnet of an association id and the ACL holding
// it when it is stored (nil for a derived association with the default ACL).
func (tx *Tx) aclFindAssoc(id string) (*Subnet, *NetworkACL, error) {
	if !validID(id, "aclassoc") {
		return nil, nil, errorf(CodeInvalidAssociationIDMalformed, "Invalid id: \"%s\" (expecting \"aclassoc-...\")", id)
	}
	var holder *NetworkACL
	var subnetID string
	tx.acls.Each(func(a *NetworkACL) bool {
		for _, as := range a.Associations {
			if as.ID == id && a.Owner == tx.Account {
				holder, subnetID = a, as.SubnetID
			}
		}
		return holder == nil
	})
	if holder == nil {
		subnetID = "subnet-" + strings.TrimPrefix(id, "aclassoc-")
	}
	s := tx.subnets.Get(subnetID)
	if s == nil || s.Owner != tx.Account {
		return nil, nil, errorf(CodeInvalidAssociationIDNotFound, "The association ID '%s' does not exist", id)
	}
	if _, cur := tx.SubnetNetworkACL(s.ID); cur != id {
		return nil, nil, errorf(CodeInvalidAssociationIDNotFound, "The association ID '%s' does not exist", id)
	}
	return s, holder, nil
}

// ReplaceNetworkAclAssociation moves a subnet to another ACL of its VPC; the
// association gets a new id.
func (tx *Tx) ReplaceNetworkAclAssociation(in *ec2wire.ReplaceNetworkAclAssociationInput) (*ec2wire.ReplaceNetworkAclAssociationOutput, error) {
	a, err := tx.getACL(str(in.NetworkAclId))
	if err != nil {
		return nil, err
	}
	s, holder, err := tx.aclFindAssoc(str(in.AssociationId))
	if err != nil {
		return nil, err
	}
	if s.VpcID != a.VpcID {
		return nil, errorf(CodeInvalidParameterValue, "Network ACL %s and subnet %s belong to different networks", a.ID, s.ID)
	}
	if holder != nil {
		m := tx.acls.Mut(holder.ID)
		m.Associations = slices.DeleteFunc(m.Associations, func(as ACLAssoc) bool { return as.SubnetID == s.ID })
	}
	as := ACLAssoc{ID: tx.newID("aclassoc"), SubnetID: s.ID}
	m := tx.acls.Mut(a.ID)
	m.Associations = append(m.Associations, as)
	return &ec2wire.ReplaceNetworkAclAssociationOutput{NewAssociationId: p(as.ID)}, nil
}

// aclEntryOut renders an entry.
func aclEntryOut(e ACLEntry) ec2wire.NetworkAclEntry {
	o := ec2wire.NetworkAclEntry{Egress: p(e.Egress), Protocol: p(e.Protocol), RuleAction: p(e.Action), RuleNumber: p(e.RuleNumber)}
	if e.CidrBlock != "" {
		o.CidrBlock = p(e.CidrBlock)
	}
	if e.Ipv6CidrBlock != "" {
		o.Ipv6CidrBlock = p(e.Ipv6CidrBlock)
	}
	if e.Ports != nil {
		o.PortRange = &ec2wire.PortRange{From: p(e.Ports.From), To: p(e.Ports.To)}
	}
	if e.Icmp != nil {
		o.IcmpTypeCode = &ec2wire.IcmpTypeCode{Type: p(e.Icmp.Type), Code: p(e.Icmp.Code)}
	}
	return o
}

// aclSortedEntries orders entries as AWS lists them: egress first, each
// direction by rule number.
func aclSortedEntries(entries []ACLEntry) []ACLEntry {
	out := slices.Clone(entries)
	slices.SortStableFunc(out, func(x, y ACLEntry) int {
		if x.Egress != y.Egress {
			if x.Egress {
				return -1
			}
			return 1
		}
		return int(x.RuleNumber) - int(y.RuleNumber)
	})
	return out
}

// aclOut renders an ACL; explicit is aclExplicit of its VPC (nil: compute).
func (tx *Tx) aclOut(a *NetworkACL, explicit map[string]bool) *ec2wire.NetworkAcl {
	if explicit == nil {
		explicit = tx.aclExplicit(a.VpcID)
	}
	out := &ec2wire.NetworkAcl{NetworkAclId: p(a.ID), VpcId: p(a.VpcID), OwnerId: p(a.Owner), IsDefault: p(a.IsDefault), Tags: tagsOut(a.Tags)}
	for _, e := range aclSortedEntries(a.Entries) {
		out.Entries = append(out.Entries, aclEntryOut(e))
	}
	for _, as := range tx.aclAssociations(a, explicit) {
		out.Associations = append(out.Associations, ec2wire.NetworkAclAssociation{
			NetworkAclAssociationId: p(as.ID), NetworkAclId: p(a.ID), SubnetId: p(as.SubnetID),
		})
	}
	return out
}

// aclFilters are DescribeNetworkAcls' filters; assocs gives an ACL's
// associations.
func aclFilters(assocs func(*NetworkACL) []ACLAssoc) filterSet[NetworkACL] {
	assoc := func(f func(ACLAssoc) string) func(*NetworkACL) []string {
		return func(a *NetworkACL) []string {
			var out []string
			for _, as := range assocs(a) {
				out = append(out, f(as))
			}
			return out
		}
	}
	entry := func(f func(ACLEntry) []string) func(*NetworkACL) []string {
		return func(a *NetworkACL) []string {
			var out []string
			for _, e := range a.Entries {
				out = append(out, f(e)...)
			}
			return out
		}
	}
	num := func(f func(ACLEntry) (int32, bool)) func(*NetworkACL) []string {
		return entry(func(e ACLEntry) []string {
			if v, ok := f(e); ok {
				return []string{strconv.Itoa(int(v))}
			}
			return nil
		})
	}
	nonEmpty := func(f func(ACLEntry) string) func(*NetworkACL) []string {
		return entry(func(e ACLEntry) []string {
			if v := f(e); v != "" {
				return []string{v}
			}
			return nil
		})
	}
	return filterSet[NetworkACL]{
		"network-acl-id":             func(a *NetworkACL) []string { return []string{a.ID} },
		"vpc-id":                     func(a *NetworkACL) []string { return []string{a.VpcID} },
		"owner-id":                   func(a *NetworkACL) []string { return []string{a.Owner} },
		"default":                    func(a *NetworkACL) []string { return []string{bstr(a.IsDefault)} },
		"association.association-id": assoc(func(as ACLAssoc) string { return as.ID }),
		"association.subnet-id":      assoc(func(as ACLAssoc) string { return as.SubnetID }),
		"association.network-acl-id": func(a *NetworkACL) []string {
			if len(assocs(a)) == 0 {
				return nil
			}
			return []string{a.ID}
		},
		"entry.cidr":        nonEmpty(func(e ACLEntry) string { return e.CidrBlock }),
		"entry.ipv6-cidr":   nonEmpty(func(e ACLEntry) string { return e.Ipv6CidrBlock }),
		"entry.rule-action": nonEmpty(func(e ACLEntry) string { return e.Action }),
		"entry.egress":      entry(func(e ACLEntry) []string { return []string{bstr(e.Egress)} }),
		"entry.rule-number": num(func(e ACLEntry) (int32, bool) { return e.RuleNumber, true }),
		"entry.protocol": entry(func(e ACLEntry) []string {
			if name, ok := aclProtocolNames[e.Protocol]; ok {
				return []string{e.Protocol, name}
			}
			return []string{e.Protocol}
		}),
		"entry.port-range.from": num(func(e ACLEntry) (int32, bool) { return aclPort(e, true) }),
		"entry.port-range.to":   num(func(e ACLEntry) (int32, bool) { return aclPort(e, false) }),
		"entry.icmp.type":       num(func(e ACLEntry) (int32, bool) { return aclIcmpField(e, true) }),
		"entry.icmp.code":       num(func(e ACLEntry) (int32, bool) { return aclIcmpField(e, false) }),
	}
}

func aclPort(e ACLEntry, from bool) (int32, bool) {
	if e.Ports == nil {
		return 0, false
	}
	if from {
		return e.Ports.From, true
	}
	return e.Ports.To, true
}

func aclIcmpField(e ACLEntry, typ bool) (int32, bool) {
	if e.Icmp == nil {
		return 0, false
	}
	if typ {
		return e.Icmp.Type, true
	}
	return e.Icmp.Code, true
}

// DescribeNetworkAcls lists ACLs.
func (tx *Tx) DescribeNetworkAcls(in *ec2wire.DescribeNetworkAclsInput) (*ec2wire.DescribeNetworkAclsOutput, error) {
	explicit := map[string]map[string]bool{} // VPC -> subnets with a stored association
	explicitOf := func(vpcID string) map[string]bool {
		if explicit[vpcID] == nil {
			explicit[vpcID] = tx.aclExplicit(vpcID)
		}
		return explicit[vpcID]
	}
	assocs := func(a *NetworkACL) []ACLAssoc { return tx.aclAssociations(a, explicitOf(a.VpcID)) }
	m, err := newMatcher(aclFilters(assocs), func(a *NetworkACL) Tags { return a.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.NetworkAclIds {
		if _, err := tx.getACL(id); err != nil {
			return nil, err
		}
	}
	items := tx.acls.Sorted(func(a *NetworkACL) bool {
		return a.Owner == tx.Account && (len(in.NetworkAclIds) == 0 || contains(in.NetworkAclIds, a.ID)) && m.match(a)
	})
	page, next, err := paginate(items, func(a *NetworkACL) string { return a.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeNetworkAclsOutput{NextToken: next}
	for _, a := range page {
		out.NetworkAcls = append(out.NetworkAcls, *tx.aclOut(a, explicitOf(a.VpcID)))
	}
	return out, nil
}

// checkACLs verifies the ACLs: each in a live VPC, each VPC with exactly one
// default ACL, each stored association naming a live subnet of the ACL's VPC
// and no subnet associated twice.
func (d *db) checkACLs(bad func(string, ...any)) {
	defaults := map[string]int{}
	assoc := map[string]string{}
	for _, a := range d.acls.rows {
		if d.vpcs.rows[a.VpcID] == nil {
			bad("network ACL %s in missing VPC %s", a.ID, a.VpcID)
		}
		if a.IsDefault {
			defaults[a.VpcID]++
		}
		for _, as := range a.Associations {
			s := d.subnets.rows[as.SubnetID]
			if s == nil || s.VpcID != a.VpcID {
				bad("network ACL %s associated with subnet %s, not one of VPC %s", a.ID, as.SubnetID, a.VpcID)
			}
			if o, ok := assoc[as.SubnetID]; ok {
				bad("subnet %s associated with network ACLs %s and %s", as.SubnetID, o, a.ID)
			}
			assoc[as.SubnetID] = a.ID
		}
	}
	for _, v := range d.vpcs.rows {
		if defaults[v.ID] != 1 {
			bad("VPC %s has %d default network ACLs", v.ID, defaults[v.ID])
		}
	}
}
