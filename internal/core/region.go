package core

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// KnownRegions are the commercial regions DescribeRegions lists: those
// enabled in every account by default.
var KnownRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
	"ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2",
	"eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// OptInRegions are the regions an AWS account has to opt in to. As in a new
// account, DescribeRegions lists them only with AllRegions, as
// "not-opted-in"; the API serves them all the same.
var OptInRegions = []string{
	"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
	"me-central-1", "me-south-1", "mx-central-1",
}

// AWSRegions returns the regions of AWS's public partition: KnownRegions and
// OptInRegions, sorted. A core serves these unless Config.Regions says
// otherwise.
func AWSRegions() []string {
	out := slices.Concat(KnownRegions, OptInRegions)
	slices.Sort(out)
	return out
}

// regionOptIn is a region's opt-in status as DescribeRegions gives it.
func regionOptIn(name string) string {
	if slices.Contains(OptInRegions, name) {
		return "not-opted-in"
	}
	return "opt-in-not-required"
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// maxRegionName bounds the name of a region of one's own (AWS's longest is
// 14 characters): zone names and ids are made from it.
const maxRegionName = 32

// ValidRegion reports whether name looks like an AWS region.
func ValidRegion(name string) bool { return len(name) <= maxRegionName && regionRE.MatchString(name) }

// ParseRegions reads the --regions setting: a comma-separated list where a
// plain NAME serves that region of AWS's (and, once one is named, only the
// AWS regions named) and +NAME adds a region of one's own (any name of AWS's
// form, such as my-lab-1). "" is AWS's whole public partition;
// "+my-lab-1" is that and my-lab-1; "us-east-1,eu-west-1" only those two.
// The result is sorted, without duplicates.
func ParseRegions(spec string) ([]string, error) {
	var named, added []string
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		extra := strings.HasPrefix(f, "+")
		name := strings.TrimPrefix(f, "+")
		aws := slices.Contains(KnownRegions, name) || slices.Contains(OptInRegions, name)
		switch {
		case !ValidRegion(name):
			return nil, fmt.Errorf("%q is not a region name (two letters, words and a number, joined by '-': eu-west-1, my-lab-1)", truncateName(name))
		case extra && aws:
			return nil, fmt.Errorf("+%s: %s is an AWS region; name it without '+'", name, name)
		case !extra && !aws:
			return nil, fmt.Errorf("%s is not an AWS region; add a region of your own as +%s", name, name)
		case extra:
			added = append(added, name)
		default:
			named = append(named, name)
		}
	}
	if len(named) == 0 {
		named = AWSRegions()
	}
	out := slices.Concat(named, added)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// UnknownRegionError is what EC2 answers a request whose credential scope
// names a region it does not serve: SignatureDoesNotMatch (HTTP 403), as AWS
// answers a signature scoped to a region that is not the endpoint's.
func UnknownRegionError(name string) *Error {
	return errorf("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not '%s'.", truncateName(name))
}

// truncateName keeps a hostile name from bloating a message, and keeps the
// message valid XML text.
func truncateName(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// ServesRegion reports whether the core serves the region: only those can
// hold state, so that no request creates a region by naming one.
func (c *Core) ServesRegion(name string) bool { return c.served[name] }

// CheckRegion returns UnknownRegionError unless the core serves the region.
// Every entry point goes through it (Read and Write do).
func (c *Core) CheckRegion(name string) error {
	if !c.served[name] {
		return UnknownRegionError(name)
	}
	return nil
}

// zoneIDPrefix returns the AZ id prefix of a region: us-east-1 -> use1.
func zoneIDPrefix(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return region
	}
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1 : len(parts)-1] {
		for _, dir := range []string{"north", "south", "east", "west", "central"} {
			if strings.HasPrefix(p, dir) {
				b.WriteByte(dir[0])
				p = p[len(dir):]
			}
		}
		if p != "" {
			b.WriteByte(p[0])
		}
	}
	b.WriteString(parts[len(parts)-1])
	return b.String()
}

// AZ is an availability zone.
type AZ struct {
	Name, ID string
}

// AZs returns the region's availability zones (computed once per region).
func (tx *Tx) AZs() []AZ { return tx.db.azs }

// regionAZs names a region's zones: <region>a, b, ... with ids <prefix>-azN.
func regionAZs(region string, n int) []AZ {
	out := make([]AZ, n)
	for i := range out {
		out[i] = AZ{Name: fmt.Sprintf("%s%c", region, 'a'+i), ID: fmt.Sprintf("%s-az%d", zoneIDPrefix(region), i+1)}
	}
	return out
}

func (tx *Tx) azByName(name string) (AZ, bool) {
	for _, z := range tx.AZs() {
		if z.Name == name {
			return z, true
		}
	}
	return AZ{}, false
}

func (tx *Tx) azByID(id string) (AZ, bool) {
	for _, z := range tx.AZs() {
		if z.ID == id {
			return z, true
		}
	}
	return AZ{}, false
}

// zoneID returns the id of the AZ called name.
func (tx *Tx) zoneID(name string) string {
	z, _ := tx.azByName(name)
	return z.ID
}

// bootstrap creates what a fresh AWS account has in a region: the default
// VPC with its internet gateway, one default subnet per AZ and the default
// security group.
func (tx *Tx) bootstrap() error {
	m := tx.meta.Mut("meta")
	if m == nil {
		m = &Meta{Region: tx.Region, Accounts: map[string]bool{}}
		tx.meta.Put(m)
	}
	if m.Accounts[tx.Account] {
		tx.bootstrapDhcp(m, true) // an account bootstrapped before DHCP options sets were records
		tx.upgradeDefaults(m)
		return nil
	}
	m.Accounts[tx.Account] = true
	tx.bootstrapDhcp(m, false)
	tx.upgradeDefaults(m) // nothing to add: records the version
	tx.createDefaultVPC()
	return nil
}

// DescribeRegions lists the regions: the enabled ones, or with AllRegions
// the opt-in ones too; RegionNames lists those named, whatever their status.
func (tx *Tx) DescribeRegions(in *ec2wire.DescribeRegionsInput) (*ec2wire.DescribeRegionsOutput, error) {
	type reg struct{ name string }
	fs := filterSet[reg]{
		"region-name":   func(r *reg) []string { return []string{r.name} },
		"endpoint":      func(r *reg) []string { return []string{"ec2." + r.name + ".amazonaws.com"} },
		"opt-in-status": func(r *reg) []string { return []string{regionOptIn(r.name)} },
	}
	m, err := newMatcher(fs, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	// The regions served; opt-in ones only with AllRegions.
	var names []string
	for _, n := range tx.cfg.Regions {
		if regionOptIn(n) != "not-opted-in" || in.AllRegions != nil && *in.AllRegions {
			names = append(names, n)
		}
	}
	if len(in.RegionNames) > 0 {
		names = in.RegionNames
		for _, n := range names {
			if !slices.Contains(tx.cfg.Regions, n) {
				return nil, errorf(CodeInvalidParameterValue, "Invalid region: %s", truncateName(n))
			}
		}
	}
	out := &ec2wire.DescribeRegionsOutput{}
	for _, n := range names {
		if !m.match(&reg{n}) {
			continue
		}
		out.Regions = append(out.Regions, ec2wire.Region{
			RegionName: p(n), Endpoint: p("ec2." + n + ".amazonaws.com"), OptInStatus: p(regionOptIn(n)),
		})
	}
	return out, nil
}

// DescribeAvailabilityZones lists the region's zones.
func (tx *Tx) DescribeAvailabilityZones(in *ec2wire.DescribeAvailabilityZonesInput) (*ec2wire.DescribeAvailabilityZonesOutput, error) {
	fs := filterSet[AZ]{
		"zone-name":     func(z *AZ) []string { return []string{z.Name} },
		"zone-id":       func(z *AZ) []string { return []string{z.ID} },
		"region-name":   func(z *AZ) []string { return []string{tx.Region} },
		"state":         func(z *AZ) []string { return []string{"available"} },
		"zone-type":     func(z *AZ) []string { return []string{"availability-zone"} },
		"group-name":    func(z *AZ) []string { return []string{tx.Region} },
		"opt-in-status": func(z *AZ) []string { return []string{"opt-in-not-required"} },
	}
	m, err := newMatcher(fs, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeAvailabilityZonesOutput{}
	for _, z := range tx.AZs() {
		if len(in.ZoneNames) > 0 && !contains(in.ZoneNames, z.Name) {
			continue
		}
		if len(in.ZoneIds) > 0 && !contains(in.ZoneIds, z.ID) {
			continue
		}
		if !m.match(&z) {
			continue
		}
		out.AvailabilityZones = append(out.AvailabilityZones, ec2wire.AvailabilityZone{
			ZoneName: p(z.Name), ZoneId: p(z.ID), RegionName: p(tx.Region), State: p("available"),
			ZoneType: p("availability-zone"), GroupName: p(tx.Region), NetworkBorderGroup: p(tx.Region),
			OptInStatus: p("opt-in-not-required"),
		})
	}
	for _, n := range in.ZoneNames {
		if _, ok := tx.azByName(n); !ok {
			return nil, errorf(CodeInvalidParameterValue, "The zone '%s' does not exist.", n)
		}
	}
	return out, nil
}

// DescribeAccountAttributes answers the account's limits.
func (tx *Tx) DescribeAccountAttributes(in *ec2wire.DescribeAccountAttributesInput) (*ec2wire.DescribeAccountAttributesOutput, error) {
	var defVPC string
	tx.vpcs.Each(func(v *VPC) bool {
		if v.IsDefault && v.Owner == tx.Account {
			defVPC = v.ID
			return false
		}
		return true
	})
	attrs := []struct{ name, value string }{
		{"supported-platforms", "VPC"},
		{"default-vpc", defVPC},
		{"max-instances", "20"},
		{"max-elastic-ips", fmt.Sprint(tx.cfg.EIPQuota)},
		{"vpc-max-elastic-ips", fmt.Sprint(tx.cfg.EIPQuota)},
		{"vpc-max-security-groups-per-interface", fmt.Sprint(maxGroupsPerENI)},
	}
	out := &ec2wire.DescribeAccountAttributesOutput{}
	for _, a := range attrs {
		if len(in.AttributeNames) > 0 && !contains(in.AttributeNames, a.name) {
			continue
		}
		out.AccountAttributes = append(out.AccountAttributes, ec2wire.AccountAttribute{
			AttributeName:   p(a.name),
			AttributeValues: []ec2wire.AccountAttributeValue{{AttributeValue: p(a.value)}},
		})
	}
	return out, nil
}

// maxGroupsPerENI is AWS's default quota of security groups per interface.
const maxGroupsPerENI = 5

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
