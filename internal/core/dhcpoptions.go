package core

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// DHCP options sets. Every account has, in every region, a default set
// (AWS's: the region's internal domain name and AmazonProvidedDNS) that new
// VPCs get; CreateDhcpOptions makes others, AssociateDhcpOptions gives a VPC
// a set or, with "default", no set at all (its DhcpOptionsId is then
// "default", as AWS shows it), and a set in use cannot be deleted.

// DhcpOptions is a DHCP options set.
type DhcpOptions struct {
	ID      string       `json:"id"`
	Owner   string       `json:"owner"`
	Configs []DhcpConfig `json:"configs"` // in dhcpKeys' order
	Tags    Tags         `json:"tags,omitempty"`
}

// DhcpConfig is one option of a set and its values, in the order given.
type DhcpConfig struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

func (d *DhcpOptions) key() string { return d.ID }
func (d *DhcpOptions) clone() *DhcpOptions {
	c := *d
	c.Configs = make([]DhcpConfig, len(d.Configs))
	for i, o := range d.Configs {
		c.Configs[i] = DhcpConfig{Key: o.Key, Values: slices.Clone(o.Values)}
	}
	c.Tags = maps.Clone(d.Tags)
	return &c
}

// NoDhcpOptions is the DhcpOptionsId of a VPC associated with no set.
const NoDhcpOptions = "default"

// dhcpDomainName is the domain name of a region's default set.
func dhcpDomainName(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// legacyDhcpID is the id VPCs of accounts bootstrapped before DHCP options
// sets were records carry; their default set takes it.
func legacyDhcpID(account string) string { return "dopt-" + account[:8] }

// bootstrapDhcp creates the account's default set in the region (once; m is
// the transaction's Meta). An account bootstrapped before sets were records
// gets its set under the id its VPCs already name.
func (tx *Tx) bootstrapDhcp(m *Meta, migrating bool) {
	if m.DhcpDefaults[tx.Account] != "" {
		return
	}
	id := tx.newID("dopt")
	if migrating {
		id = legacyDhcpID(tx.Account)
	}
	tx.dhcp.Put(&DhcpOptions{ID: id, Owner: tx.Account, Configs: []DhcpConfig{
		{Key: "domain-name", Values: []string{dhcpDomainName(tx.Region)}},
		{Key: "domain-name-servers", Values: []string{"AmazonProvidedDNS"}},
	}})
	if m.DhcpDefaults == nil {
		m.DhcpDefaults = map[string]string{}
	}
	m.DhcpDefaults[tx.Account] = id
}

// defaultDhcpID is what a new VPC is associated with: the account's default
// set, or no set once that was deleted.
func (tx *Tx) defaultDhcpID() string {
	if m := tx.meta.Get("meta"); m != nil {
		if d := tx.dhcp.Get(m.DhcpDefaults[tx.Account]); d != nil {
			return d.ID
		}
	}
	return NoDhcpOptions
}

func (tx *Tx) getDhcp(id string) (*DhcpOptions, error) {
	if !validID(id, "dopt") {
		return nil, errorf(CodeInvalidDhcpOptionsIDMalformed, "Invalid id: \"%s\" (expecting \"dopt-...\")", id)
	}
	d := tx.dhcp.Get(id)
	if d == nil || d.Owner != tx.Account {
		return nil, errorf(CodeInvalidDhcpOptionIDNotFound, "The dhcpOption ID '%s' does not exist", id)
	}
	return d, nil
}

// dhcpKeys is the order AWS lists a set's options in, whatever the order they
// were given in: CreateDhcpOptions' example in the EC2 CLI reference answers
// domain-name before domain-name-servers and netbios-node-type, and amazon.aws's
// ec2_vpc_dhcp_option, whose comparison with the described set is order-sensitive
// (a list ==), finds a set with ntp-servers and netbios-name-servers unchanged on AWS
// only if ntp-servers comes first. The lease time, added in 2023, last.
var dhcpKeys = []string{"domain-name", "domain-name-servers", "ntp-servers", "netbios-name-servers",
	"netbios-node-type", "ipv6-address-preferred-lease-time"}

// sortDhcp puts configs in dhcpKeys' order.
func sortDhcp(configs []DhcpConfig) {
	slices.SortStableFunc(configs, func(a, b DhcpConfig) int {
		return slices.Index(dhcpKeys, a.Key) - slices.Index(dhcpKeys, b.Key)
	})
}

// dhcpLimits are the options a set may hold and how many values each takes.
var dhcpLimits = map[string]int{
	"domain-name": 1, "domain-name-servers": 8, "ntp-servers": 8, "netbios-name-servers": 4,
	"netbios-node-type": 1, "ipv6-address-preferred-lease-time": 1,
}

// dhcpCheckValue checks one value of option key.
func dhcpCheckValue(key, v string) error {
	bad := errorf(CodeInvalidParameterValue, "Value (%s) for parameter value is invalid. Invalid value for the DHCP option %s.", v, key)
	switch key {
	case "domain-name":
		if strings.TrimSpace(v) == "" {
			return bad
		}
	case "domain-name-servers":
		if v == "AmazonProvidedDNS" {
			return nil
		}
		if _, err := netip.ParseAddr(v); err != nil {
			return bad
		}
	case "ntp-servers":
		if _, err := netip.ParseAddr(v); err != nil {
			return bad
		}
	case "netbios-name-servers":
		if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
			return bad
		}
	case "netbios-node-type":
		if v != "1" && v != "2" && v != "4" && v != "8" {
			return bad
		}
	case "ipv6-address-preferred-lease-time":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 140 || n > 2147483647 {
			return bad
		}
	}
	return nil
}

// dhcpConfigs checks CreateDhcpOptions' options and returns them by key.
func dhcpConfigs(in []ec2wire.NewDhcpConfiguration) ([]DhcpConfig, error) {
	if len(in) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter dhcpConfiguration")
	}
	var out []DhcpConfig
	for _, c := range in {
		key := str(c.Key)
		limit, ok := dhcpLimits[key]
		switch {
		case key == "":
			return nil, errorf(CodeMissingParameter, "The request must contain the parameter dhcpConfiguration.key")
		case !ok:
			return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter key is invalid. Unrecognized DHCP option name.", key)
		case len(c.Values) == 0:
			return nil, errorf(CodeInvalidParameterValue, "Value for parameter value is invalid. The DHCP option %s needs at least one value.", key)
		case len(c.Values) > limit:
			return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter value is invalid. The DHCP option %s takes at most %d values.", strings.Join(c.Values, ","), key, limit)
		case slices.ContainsFunc(out, func(o DhcpConfig) bool { return o.Key == key }):
			return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter key is invalid. The DHCP option is given twice.", key)
		}
		v6 := 0
		for _, v := range c.Values {
			if err := dhcpCheckValue(key, v); err != nil {
				return nil, err
			}
			if strings.Contains(v, ":") {
				v6++
			}
		}
		// Servers: up to four IPv4 and four IPv6 addresses.
		if v6 > 4 || len(c.Values)-v6 > 4 {
			return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter value is invalid. The DHCP option %s takes at most 4 IPv4 and 4 IPv6 addresses.", strings.Join(c.Values, ","), key)
		}
		out = append(out, DhcpConfig{Key: key, Values: slices.Clone(c.Values)})
	}
	sortDhcp(out)
	return out, nil
}

func dhcpOut(d *DhcpOptions) ec2wire.DhcpOptions {
	out := ec2wire.DhcpOptions{DhcpOptionsId: p(d.ID), OwnerId: p(d.Owner), Tags: tagsOut(d.Tags)}
	configs := slices.Clone(d.Configs) // a store written before sortDhcp has them by name
	sortDhcp(configs)
	for _, c := range configs {
		o := ec2wire.DhcpConfiguration{Key: p(c.Key)}
		for _, v := range c.Values {
			o.Values = append(o.Values, ec2wire.AttributeValue{Value: p(v)})
		}
		out.DhcpConfigurations = append(out.DhcpConfigurations, o)
	}
	return out
}

// CreateDhcpOptions creates a DHCP options set.
func (tx *Tx) CreateDhcpOptions(in *ec2wire.CreateDhcpOptionsInput) (*ec2wire.CreateDhcpOptionsOutput, error) {
	configs, err := dhcpConfigs(in.DhcpConfigurations)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "dhcp-options")
	if err != nil {
		return nil, err
	}
	d := &DhcpOptions{ID: tx.newID("dopt"), Owner: tx.Account, Configs: configs, Tags: tags}
	tx.dhcp.Put(d)
	out := dhcpOut(d)
	return &ec2wire.CreateDhcpOptionsOutput{DhcpOptions: &out}, nil
}

var dhcpFilters = filterSet[DhcpOptions]{
	"dhcp-options-id": func(d *DhcpOptions) []string { return []string{d.ID} },
	"owner-id":        func(d *DhcpOptions) []string { return []string{d.Owner} },
	"key": func(d *DhcpOptions) []string {
		var out []string
		for _, c := range d.Configs {
			out = append(out, c.Key)
		}
		return out
	},
	"value": func(d *DhcpOptions) []string {
		var out []string
		for _, c := range d.Configs {
			out = append(out, c.Values...)
		}
		return out
	},
}

// DescribeDhcpOptions lists DHCP options sets.
func (tx *Tx) DescribeDhcpOptions(in *ec2wire.DescribeDhcpOptionsInput) (*ec2wire.DescribeDhcpOptionsOutput, error) {
	m, err := newMatcher(dhcpFilters, func(d *DhcpOptions) Tags { return d.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.DhcpOptionsIds {
		if _, err := tx.getDhcp(id); err != nil {
			return nil, err
		}
	}
	items := tx.dhcp.Sorted(func(d *DhcpOptions) bool {
		return d.Owner == tx.Account && (len(in.DhcpOptionsIds) == 0 || contains(in.DhcpOptionsIds, d.ID)) && m.match(d)
	})
	page, next, err := paginate(items, func(d *DhcpOptions) string { return d.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeDhcpOptionsOutput{NextToken: next}
	for _, d := range page {
		out.DhcpOptions = append(out.DhcpOptions, dhcpOut(d))
	}
	return out, nil
}

// AssociateDhcpOptions gives a VPC a set, or no set with "default".
func (tx *Tx) AssociateDhcpOptions(in *ec2wire.AssociateDhcpOptionsInput) (*ec2wire.AssociateDhcpOptionsOutput, error) {
	id := str(in.DhcpOptionsId)
	if id != NoDhcpOptions {
		if _, err := tx.getDhcp(id); err != nil {
			return nil, err
		}
	}
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	if v.DhcpOptionsID != id {
		tx.vpcs.Mut(v.ID).DhcpOptionsID = id
	}
	return &ec2wire.AssociateDhcpOptionsOutput{Return: p(true)}, nil
}

// DeleteDhcpOptions deletes a set no VPC is associated with.
func (tx *Tx) DeleteDhcpOptions(in *ec2wire.DeleteDhcpOptionsInput) (*ec2wire.DeleteDhcpOptionsOutput, error) {
	d, err := tx.getDhcp(str(in.DhcpOptionsId))
	if err != nil {
		return nil, err
	}
	var user string
	tx.vpcs.Each(func(v *VPC) bool {
		if v.DhcpOptionsID == d.ID {
			user = v.ID
		}
		return user == ""
	})
	if user != "" {
		return nil, errorf(CodeDependencyViolation, "The dhcpOptions '%s' has dependencies and cannot be deleted.", d.ID)
	}
	tx.dhcp.Delete(d.ID)
	return &ec2wire.DeleteDhcpOptionsOutput{Return: p(true)}, nil
}

// checkVPCExtras checks the references of the families of this file and
// egressonlyigw.go: a VPC's DHCP options set is its owner's (or none), an
// egress-only gateway's VPC exists, and so does a VPN gateway's (vpngateway.go).
func (d *db) checkVPCExtras(bad func(string, ...any)) {
	for _, v := range d.vpcs.rows {
		if o := d.dhcp.rows[v.DhcpOptionsID]; v.DhcpOptionsID != NoDhcpOptions && (o == nil || o.Owner != v.Owner) {
			bad("VPC %s associated with missing DHCP options set %s", v.ID, v.DhcpOptionsID)
		}
	}
	for _, g := range d.eigws.rows {
		if d.vpcs.rows[g.VpcID] == nil {
			bad("egress-only internet gateway %s in missing VPC %s", g.ID, g.VpcID)
		}
	}
	for _, g := range d.vgws.rows {
		if v := g.attachedVPC(); v != "" && d.vpcs.rows[v] == nil {
			bad("VPN gateway %s attached to missing VPC %s", g.ID, v)
		}
	}
}
