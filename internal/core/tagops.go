package core

// This file belongs to the tags work package: CreateTags, DeleteTags and
// DescribeTags over every taggable resource, found by its id prefix.

import (
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

func tagPrefix(id string) string {
	pre, _, _ := strings.Cut(id, "-")
	return pre
}

// tagFindRule returns the caller's security group holding rule id, and the
// rule's index in its Ingress or Egress list.
func (tx *Tx) tagFindRule(id string) (g *SecurityGroup, egress bool, i int, err error) {
	if !validID(id, "sgr") {
		return nil, false, 0, errorf(CodeSecurityGroupRuleIDMalformed, "Invalid id: \"%s\" (expecting \"sgr-...\")", id)
	}
	tx.groups.Each(func(sg *SecurityGroup) bool {
		if sg.Owner != tx.Account {
			return true
		}
		for j := range sg.Ingress {
			if sg.Ingress[j].ID == id {
				g, egress, i = sg, false, j
				return false
			}
		}
		for j := range sg.Egress {
			if sg.Egress[j].ID == id {
				g, egress, i = sg, true, j
				return false
			}
		}
		return true
	})
	if g == nil {
		return nil, false, 0, errorf(CodeSecurityGroupRuleIDNotFound, "The security group rule ID '%s' does not exist", id)
	}
	return g, egress, i, nil
}

// tagGet returns the current tags of the caller's resource id, with the
// resource type's Malformed/NotFound errors.
func (tx *Tx) tagGet(id string) (Tags, error) {
	if get, ok := tagGetters[tagPrefix(id)]; ok {
		return get(tx, id)
	}
	return nil, errorf(CodeInvalidID, "The ID '%s' is not valid", id)
}

// tagsVia makes a tag getter of a resource's lookup (its Malformed/NotFound
// errors) and its tags.
func tagsVia[R any](get func(*Tx, string) (R, error), tags func(R) Tags) func(*Tx, string) (Tags, error) {
	return func(tx *Tx, id string) (Tags, error) {
		r, err := get(tx, id)
		if err != nil {
			return nil, err
		}
		return tags(r), nil
	}
}

// tagGetters find the tags of the caller's resources, by id prefix.
var tagGetters map[string]func(*Tx, string) (Tags, error)

func init() {
	tagGetters = map[string]func(*Tx, string) (Tags, error){
		"vpc":      tagsVia((*Tx).getVPC, func(v *VPC) Tags { return v.Tags }),
		"subnet":   tagsVia((*Tx).getSubnet, func(v *Subnet) Tags { return v.Tags }),
		"sg":       tagsVia((*Tx).getGroup, func(v *SecurityGroup) Tags { return v.Tags }),
		"sgr":      (*Tx).tagsOfRule,
		"eni":      tagsVia((*Tx).getENI, func(v *ENI) Tags { return v.Tags }),
		"i":        tagsVia((*Tx).getInstance, func(v *Instance) Tags { return v.Tags }),
		"eipalloc": tagsVia((*Tx).getAddress, func(v *Address) Tags { return v.Tags }),
		"igw":      tagsVia((*Tx).getIGW, func(v *InternetGateway) Tags { return v.Tags }),
		"rtb":      tagsVia((*Tx).getRouteTable, func(v *RouteTable) Tags { return v.Tags }),
		"vol":      tagsVia((*Tx).getVolume, func(v *Volume) Tags { return v.Tags }),
		"key":      (*Tx).tagsOfKey,
		"lt": tagsVia(func(tx *Tx, id string) (*LaunchTemplate, error) { return tx.findLaunchTemplate(id, "") },
			func(v *LaunchTemplate) Tags { return v.Tags }),
		"dopt": tagsVia((*Tx).getDhcp, func(v *DhcpOptions) Tags { return v.Tags }),
		"acl":  tagsVia((*Tx).getACL, func(v *NetworkACL) Tags { return v.Tags }),
		"eigw": tagsVia((*Tx).getEIGW, func(v *EgressOnlyIGW) Tags { return v.Tags }),
		"vgw":  tagsVia((*Tx).getVGW, func(v *VpnGateway) Tags { return v.Tags }),
		"nat":  (*Tx).tagsOfNat,
		"pcx":  tagsVia((*Tx).getPcx, func(v *PeeringConnection) Tags { return v.Tags }),
		"vpce": tagsVia((*Tx).vpceLive, func(v *VpcEndpoint) Tags { return v.Tags }),
		"pl":   tagsVia((*Tx).getOwnPrefixList, func(v *PrefixList) Tags { return v.Tags }),
	}
}

// tagsOfRule: a security group rule's tags (sgr-…).
func (tx *Tx) tagsOfRule(id string) (Tags, error) {
	g, egress, i, err := tx.tagFindRule(id)
	if err != nil {
		return nil, err
	}
	if egress {
		return g.Egress[i].Tags, nil
	}
	return g.Ingress[i].Tags, nil
}

// tagsOfKey: a key pair's tags (key-…).
func (tx *Tx) tagsOfKey(id string) (Tags, error) {
	if k := tx.keys.Get(id); k != nil && k.Owner == tx.Account {
		return k.Tags, nil
	}
	return nil, keyNotFound(id)
}

// tagsOfNat: a NAT gateway's tags, while it is described (nat-…).
func (tx *Tx) tagsOfNat(id string) (Tags, error) {
	if v := tx.nats.Get(id); v != nil && v.Owner == tx.Account && natVisible(v, tx.now) {
		return v.Tags, nil
	}
	return nil, natIDNotFound(id)
}

// tagSet replaces the tags of a resource that tagGet found.
func (tx *Tx) tagSet(id string, t Tags) {
	if len(t) == 0 {
		t = nil
	}
	switch tagPrefix(id) {
	case "vpc":
		tx.vpcs.Mut(id).Tags = t
	case "subnet":
		tx.subnets.Mut(id).Tags = t
	case "sg":
		tx.groups.Mut(id).Tags = t
	case "sgr":
		g, egress, i, err := tx.tagFindRule(id)
		if err != nil {
			return // tagGet found it in this transaction
		}
		m := tx.groups.Mut(g.ID)
		if egress {
			m.Egress[i].Tags = t
		} else {
			m.Ingress[i].Tags = t
		}
	case "eni":
		tx.enis.Mut(id).Tags = t
	case "i":
		tx.instances.Mut(id).Tags = t
	case "eipalloc":
		tx.addresses.Mut(id).Tags = t
	case "igw":
		tx.igws.Mut(id).Tags = t
	case "rtb":
		tx.rtbs.Mut(id).Tags = t
	case "vol":
		tx.volumes.Mut(id).Tags = t
	case "key":
		tx.keys.Mut(id).Tags = t
	case "lt":
		tx.templates.Mut(id).Tags = t
	case "dopt":
		tx.dhcp.Mut(id).Tags = t
	case "eigw":
		tx.eigws.Mut(id).Tags = t
	case "vgw":
		tx.vgws.Mut(id).Tags = t
	case "nat":
		tx.nats.Mut(id).Tags = t
	case "pcx":
		tx.pcx().Mut(id).Tags = t
	case "acl":
		tx.acls.Mut(id).Tags = t
	case "pl":
		tx.pls.Mut(id).Tags = t
	case "vpce":
		tx.vpces.Mut(id).Tags = t
	}
}

// CreateTags adds or overwrites tags on resources. One bad id or tag fails
// the whole call and nothing is tagged.
func (tx *Tx) CreateTags(in *ec2wire.CreateTagsInput) (*ec2wire.CreateTagsOutput, error) {
	if len(in.Resources) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter resourceIdSet")
	}
	if len(in.Tags) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter tagSet")
	}
	for _, id := range in.Resources {
		cur, err := tx.tagGet(id)
		if err != nil {
			return nil, err
		}
		t, err := addTags(cur, in.Tags)
		if err != nil {
			return nil, err
		}
		tx.tagSet(id, t)
	}
	return &ec2wire.CreateTagsOutput{Return: p(true)}, nil
}

// DeleteTags removes tags: a key alone removes it whatever its value, a key
// with a value only if the value matches, and no tags at all removes every tag.
func (tx *Tx) DeleteTags(in *ec2wire.DeleteTagsInput) (*ec2wire.DeleteTagsOutput, error) {
	if len(in.Resources) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter resourceIdSet")
	}
	for _, tg := range in.Tags {
		if err := checkTag(str(tg.Key), ""); err != nil {
			return nil, err
		}
	}
	for _, id := range in.Resources {
		cur, err := tx.tagGet(id)
		if err != nil {
			return nil, err
		}
		if len(cur) == 0 {
			continue
		}
		t := awsTags(cur) // AWS's own tags stay: users cannot delete them
		if len(in.Tags) > 0 {
			t = Tags{}
			for k, v := range cur {
				t[k] = v
			}
			for _, tg := range in.Tags {
				k := str(tg.Key)
				if have, ok := t[k]; ok && (tg.Value == nil || *tg.Value == have) {
					delete(t, k)
				}
			}
			if len(t) == len(cur) {
				continue
			}
		}
		tx.tagSet(id, t)
	}
	return &ec2wire.DeleteTagsOutput{Return: p(true)}, nil
}

// awsTags returns the aws: tags of t (nil if none).
func awsTags(t Tags) Tags {
	var out Tags
	for k, v := range t {
		if strings.HasPrefix(k, "aws:") {
			if out == nil {
				out = Tags{}
			}
			out[k] = v
		}
	}
	return out
}

// tagItem is one tag of one resource, as DescribeTags lists it.
type tagItem struct {
	id, typ, key, value string
	tags                Tags // all the resource's tags, for tag:<key> filters
}

var tagItemFilters = filterSet[tagItem]{
	"key":           func(t *tagItem) []string { return []string{t.key} },
	"value":         func(t *tagItem) []string { return []string{t.value} },
	"resource-id":   func(t *tagItem) []string { return []string{t.id} },
	"resource-type": func(t *tagItem) []string { return []string{t.typ} },
}

// tagItems returns every tag of the caller's resources.
func (tx *Tx) tagItems() []*tagItem {
	var out []*tagItem
	add := func(owner, id, typ string, t Tags) {
		if owner != tx.Account {
			return
		}
		for k, v := range t {
			out = append(out, &tagItem{id: id, typ: typ, key: k, value: v, tags: t})
		}
	}
	tx.vpcs.Each(func(v *VPC) bool { add(v.Owner, v.ID, "vpc", v.Tags); return true })
	tx.subnets.Each(func(v *Subnet) bool { add(v.Owner, v.ID, "subnet", v.Tags); return true })
	tx.groups.Each(func(v *SecurityGroup) bool {
		add(v.Owner, v.ID, "security-group", v.Tags)
		for _, r := range v.Ingress {
			add(v.Owner, r.ID, "security-group-rule", r.Tags)
		}
		for _, r := range v.Egress {
			add(v.Owner, r.ID, "security-group-rule", r.Tags)
		}
		return true
	})
	tx.enis.Each(func(v *ENI) bool { add(v.Owner, v.ID, "network-interface", v.Tags); return true })
	tx.instances.Each(func(v *Instance) bool { add(v.Owner, v.ID, "instance", v.Tags); return true })
	tx.addresses.Each(func(v *Address) bool { add(v.Owner, v.AllocationID, "elastic-ip", v.Tags); return true })
	tx.igws.Each(func(v *InternetGateway) bool { add(v.Owner, v.ID, "internet-gateway", v.Tags); return true })
	tx.rtbs.Each(func(v *RouteTable) bool { add(v.Owner, v.ID, "route-table", v.Tags); return true })
	tx.volumes.Each(func(v *Volume) bool { add(v.Owner, v.ID, "volume", v.Tags); return true })
	tx.keys.Each(func(v *KeyPair) bool { add(v.Owner, v.ID, "key-pair", v.Tags); return true })
	tx.templates.Each(func(v *LaunchTemplate) bool { add(v.Owner, v.ID, "launch-template", v.Tags); return true })
	tx.dhcp.Each(func(v *DhcpOptions) bool { add(v.Owner, v.ID, "dhcp-options", v.Tags); return true })
	tx.eigws.Each(func(v *EgressOnlyIGW) bool { add(v.Owner, v.ID, "egress-only-internet-gateway", v.Tags); return true })
	tx.vgws.Each(func(v *VpnGateway) bool { add(v.Owner, v.ID, "vpn-gateway", v.Tags); return true })
	tx.nats.Each(func(v *NatGateway) bool {
		if natVisible(v, tx.now) {
			add(v.Owner, v.ID, "natgateway", v.Tags)
		}
		return true
	})
	tx.pcx().Each(func(v *PeeringConnection) bool {
		if tx.pcxVisible(v) {
			add(tx.Account, v.ID, "vpc-peering-connection", v.Tags)
		}
		return true
	})
	tx.acls.Each(func(v *NetworkACL) bool { add(v.Owner, v.ID, "network-acl", v.Tags); return true })
	tx.pls.Each(func(v *PrefixList) bool { add(v.Owner, v.ID, "prefix-list", v.Tags); return true })
	tx.vpces.Each(func(v *VpcEndpoint) bool {
		if v.State != vpceDeleted {
			add(v.Owner, v.ID, "vpc-endpoint", v.Tags)
		}
		return true
	})
	return out
}

func tagItemKey(t *tagItem) string { return t.id + "\x00" + t.key }

// DescribeTags lists the tags of the caller's resources, by resource id and key.
func (tx *Tx) DescribeTags(in *ec2wire.DescribeTagsInput) (*ec2wire.DescribeTagsOutput, error) {
	m, err := newMatcher(tagItemFilters, func(t *tagItem) Tags { return t.tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	var items []*tagItem
	for _, t := range tx.tagItems() {
		if m.match(t) {
			items = append(items, t)
		}
	}
	sortTagItems(items)
	page, next, err := paginate(items, tagItemKey, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeTagsOutput{NextToken: next}
	for _, t := range page {
		out.Tags = append(out.Tags, ec2wire.TagDescription{
			ResourceId: p(t.id), ResourceType: p(t.typ), Key: p(t.key), Value: p(t.value),
		})
	}
	return out, nil
}

func sortTagItems(items []*tagItem) {
	slices.SortFunc(items, func(a, b *tagItem) int { return strings.Compare(tagItemKey(a), tagItemKey(b)) })
}
