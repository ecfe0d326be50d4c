package core

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/eni-net/eni/internal/ec2wire"
)

// instanceTypesTSV is the per-type network table (maximum ENIs, addresses per
// ENI, network cards, hypervisor). It ships inside the binary: nothing reads
// /work/shared at run time.
//
//go:embed instance-types.tsv
var instanceTypesTSV string

// instanceTypeInfo is one row of the instance type table.
type instanceTypeInfo struct {
	Name               string
	MaxENIs            int // over all network cards
	IPv4PerENI         int
	IPv6PerENI         int // 0 = IPv6 not supported
	NetworkCards       int
	DefaultCardMaxENIs int
	DefaultCardIndex   int
	Hypervisor         string // "nitro", "xen" or "" (bare metal / unknown)
	BareMetal          bool
	Retired            bool // only in the 2023 docs table: a previous-generation type
}

// instanceTypeCard is one network card of an instance type.
type instanceTypeCard struct {
	Index   int
	MaxENIs int
}

// Cards returns the type's network cards. The default card has
// DefaultCardMaxENIs; the others share the remainder evenly (AWS's multi-card
// types have equal cards), the first ones taking any rest.
func (t *instanceTypeInfo) Cards() []instanceTypeCard {
	n := max(t.NetworkCards, 1)
	cards := make([]instanceTypeCard, n)
	rest := t.MaxENIs - t.DefaultCardMaxENIs
	others := n - 1
	j := 0
	for i := range cards {
		cards[i].Index = i
		if i == t.DefaultCardIndex {
			cards[i].MaxENIs = t.DefaultCardMaxENIs
			continue
		}
		share := rest / others
		if j < rest%others {
			share++
		}
		j++
		cards[i].MaxENIs = share
	}
	return cards
}

// CardMaxENIs returns the number of ENIs network card idx takes, or 0 if the
// type has no such card.
func (t *instanceTypeInfo) CardMaxENIs(idx int) int {
	for _, c := range t.Cards() {
		if c.Index == idx {
			return c.MaxENIs
		}
	}
	return 0
}

var (
	instanceTypesOnce  sync.Once
	instanceTypesTable map[string]*instanceTypeInfo // immutable after parse
	instanceTypesNames []string                     // sorted as in the file
)

// instanceTypes returns the parsed table; it is parsed once and never
// modified. A malformed embedded file is a build defect, so it panics (a test
// parses it).
func instanceTypes() (map[string]*instanceTypeInfo, []string) {
	instanceTypesOnce.Do(func() {
		m, names, err := parseInstanceTypes(instanceTypesTSV)
		if err != nil {
			panic(err)
		}
		instanceTypesTable, instanceTypesNames = m, names
	})
	return instanceTypesTable, instanceTypesNames
}

func parseInstanceTypes(text string) (map[string]*instanceTypeInfo, []string, error) {
	m := map[string]*instanceTypeInfo{}
	var names []string
	header := true
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header { // instance_type max_enis ...
			header = false
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 9 {
			return nil, nil, fmt.Errorf("instance-types.tsv line %d: %d fields", n+1, len(f))
		}
		var ints [6]int
		for i := range ints {
			v, err := strconv.Atoi(f[i+1])
			if err != nil {
				return nil, nil, fmt.Errorf("instance-types.tsv line %d: %w", n+1, err)
			}
			ints[i] = v
		}
		hv := f[7]
		if hv != "nitro" && hv != "xen" {
			hv = ""
		}
		t := &instanceTypeInfo{
			Name: f[0], MaxENIs: ints[0], IPv4PerENI: ints[1], IPv6PerENI: ints[2],
			NetworkCards: max(ints[3], 1), DefaultCardMaxENIs: ints[4], DefaultCardIndex: ints[5],
			Hypervisor: hv, BareMetal: f[8] == "true",
		}
		if len(f) > 9 && strings.Contains(f[9], "retired") {
			t.Retired = true
		}
		if t.DefaultCardMaxENIs == 0 {
			t.DefaultCardMaxENIs = t.MaxENIs
		}
		if _, dup := m[t.Name]; dup {
			return nil, nil, fmt.Errorf("instance-types.tsv line %d: duplicate %s", n+1, t.Name)
		}
		m[t.Name] = t
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return m, names, nil
}

// instanceType returns the row of typ.
func instanceType(typ string) (*instanceTypeInfo, bool) {
	m, _ := instanceTypes()
	t, ok := m[typ]
	return t, ok
}

// instanceTypeLimits returns the ENI and per-ENI address limits of an
// instance type: maxENIs over all network cards, IPv4 addresses per ENI
// (primary included) and IPv6 addresses per ENI (0 = no IPv6).
func instanceTypeLimits(typ string) (maxENIs, ipv4PerENI, ipv6PerENI int, ok bool) {
	t, ok := instanceType(typ)
	if !ok {
		return 0, 0, 0, false
	}
	return t.MaxENIs, t.IPv4PerENI, t.IPv6PerENI, true
}

// The per-type details below are not in the table; they are derived from the
// type's name the way AWS names its types, so that clients reading them (e.g.
// Terraform's read of every instance) see plausible values.

// instanceTypeFamily splits "c7gn.16xlarge" into "c7gn" and "16xlarge".
func instanceTypeFamily(name string) (family, size string) {
	family, size, _ = strings.Cut(name, ".")
	return family, size
}

// instanceTypeArch returns the type's processor architecture. In AWS names
// (class letters, generation digit, attribute letters) Graviton types have
// attributes starting with "g" (c6g, c7gn, im4gn, is4gen, g5g, t4g); a1 is
// the first Graviton; Mac types are x86_64_mac (mac1) or arm64_mac.
func instanceTypeArch(name string) string {
	fam, _ := instanceTypeFamily(name)
	switch {
	case fam == "a1":
		return "arm64"
	case fam == "mac1":
		return "x86_64_mac"
	case strings.HasPrefix(fam, "mac"):
		return "arm64_mac"
	}
	rest := strings.TrimLeft(fam, "abcdefghijklmnopqrstuvwxyz")
	rest = strings.TrimLeft(rest, "0123456789")
	if strings.HasPrefix(rest, "g") {
		return "arm64"
	}
	return "x86_64"
}

// instanceTypePreviousGen are the families AWS lists as previous generation.
var instanceTypePreviousGen = map[string]bool{
	"t1": true, "m1": true, "m2": true, "m3": true, "c1": true, "c3": true, "cc2": true, "cr1": true,
	"g2": true, "hs1": true, "i2": true, "r3": true, "hi1": true, "cg1": true,
}

func (t *instanceTypeInfo) currentGeneration() bool {
	fam, _ := instanceTypeFamily(t.Name)
	return !t.Retired && !instanceTypePreviousGen[fam]
}

// enaSupport: Nitro (and bare metal) types require ENA; the oldest Xen
// families have none.
func (t *instanceTypeInfo) enaSupport() string {
	if t.Hypervisor != "xen" {
		return "required"
	}
	fam, _ := instanceTypeFamily(t.Name)
	switch fam {
	case "t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "cc2", "cr1", "g2", "hs1", "i2", "r3", "d2":
		return "unsupported"
	}
	return "supported"
}

// networkPerformance is AWS's prose bandwidth class, from the type's size.
func (t *instanceTypeInfo) networkPerformance() string {
	fam, size := instanceTypeFamily(t.Name)
	if t.NetworkCards > 1 {
		return fmt.Sprintf("%d Gigabit", 100*t.NetworkCards)
	}
	if t.Hypervisor == "xen" {
		switch {
		case strings.HasPrefix(fam, "t") || size == "micro" || size == "small" || size == "medium":
			return "Low to Moderate"
		case size == "large" || size == "xlarge":
			return "Moderate"
		case size == "2xlarge" || size == "4xlarge":
			return "High"
		}
		return "10 Gigabit"
	}
	switch size {
	case "nano", "micro", "small", "medium":
		return "Up to 5 Gigabit"
	case "large", "xlarge", "2xlarge", "4xlarge":
		return "Up to 12.5 Gigabit"
	case "8xlarge", "9xlarge", "12xlarge":
		return "12 Gigabit"
	case "16xlarge", "18xlarge":
		return "20 Gigabit"
	}
	return "25 Gigabit"
}

func (t *instanceTypeInfo) out() ec2wire.InstanceTypeInfo {
	net := &ec2wire.NetworkInfo{
		NetworkPerformance:           p(t.networkPerformance()),
		MaximumNetworkInterfaces:     p(int32(t.MaxENIs)),
		MaximumNetworkCards:          p(int32(t.NetworkCards)),
		DefaultNetworkCardIndex:      p(int32(t.DefaultCardIndex)),
		Ipv4AddressesPerInterface:    p(int32(t.IPv4PerENI)),
		Ipv6AddressesPerInterface:    p(int32(t.IPv6PerENI)),
		Ipv6Supported:                p(t.IPv6PerENI > 0),
		EnaSupport:                   p(t.enaSupport()),
		EfaSupported:                 p(false),
		EncryptionInTransitSupported: p(false),
		EnaSrdSupported:              p(false),
	}
	perf := t.networkPerformance()
	if t.NetworkCards > 1 {
		perf = "100 Gigabit"
	}
	for _, c := range t.Cards() {
		net.NetworkCards = append(net.NetworkCards, ec2wire.NetworkCardInfo{
			NetworkCardIndex: p(int32(c.Index)), MaximumNetworkInterfaces: p(int32(c.MaxENIs)), NetworkPerformance: p(perf),
		})
	}
	out := ec2wire.InstanceTypeInfo{
		InstanceType:                  p(t.Name),
		CurrentGeneration:             p(t.currentGeneration()),
		FreeTierEligible:              p(t.Name == "t2.micro" || t.Name == "t3.micro"),
		SupportedUsageClasses:         []string{"on-demand", "spot"},
		SupportedRootDeviceTypes:      []string{"ebs"},
		SupportedVirtualizationTypes:  []string{"hvm"},
		BareMetal:                     p(t.BareMetal),
		InstanceStorageSupported:      p(false),
		HibernationSupported:          p(false),
		BurstablePerformanceSupported: p(creditOption(t.Name) != ""), // T2, T3, T3a, T4g: not t1 or trn*
		DedicatedHostsSupported:       p(!strings.HasPrefix(t.Name, "t")),
		AutoRecoverySupported:         p(!t.BareMetal),
		ProcessorInfo:                 &ec2wire.ProcessorInfo{SupportedArchitectures: []string{instanceTypeArch(t.Name)}},
		VCpuInfo:                      vcpuInfoOut(t.Name),
		NetworkInfo:                   net,
		PlacementGroupInfo:            &ec2wire.PlacementGroupInfo{SupportedStrategies: []string{"partition", "spread"}},
	}
	if t.Hypervisor != "" {
		out.Hypervisor = p(t.Hypervisor)
	}
	if t.Hypervisor == "xen" && t.Name != "t2.micro" {
		out.SupportedVirtualizationTypes = []string{"hvm", "paravirtual"}
	}
	return out
}

var instanceTypeFilters = filterSet[instanceTypeInfo]{
	"instance-type": func(t *instanceTypeInfo) []string { return []string{t.Name} },
	"hypervisor":    func(t *instanceTypeInfo) []string { return []string{t.Hypervisor} },
	"bare-metal":    func(t *instanceTypeInfo) []string { return []string{bstr(t.BareMetal)} },
	"current-generation": func(t *instanceTypeInfo) []string {
		return []string{bstr(t.currentGeneration())}
	},
	"free-tier-eligible": func(t *instanceTypeInfo) []string {
		return []string{bstr(t.Name == "t2.micro" || t.Name == "t3.micro")}
	},
	"burstable-performance-supported": func(t *instanceTypeInfo) []string {
		return []string{bstr(strings.HasPrefix(t.Name, "t"))}
	},
	"supported-usage-class":                   func(t *instanceTypeInfo) []string { return []string{"on-demand", "spot"} },
	"supported-root-device-type":              func(t *instanceTypeInfo) []string { return []string{"ebs"} },
	"supported-virtualization-type":           func(t *instanceTypeInfo) []string { return []string{"hvm"} },
	"processor-info.supported-architecture":   func(t *instanceTypeInfo) []string { return []string{instanceTypeArch(t.Name)} },
	"network-info.maximum-network-interfaces": func(t *instanceTypeInfo) []string { return []string{strconv.Itoa(t.MaxENIs)} },
	"network-info.maximum-network-cards":      func(t *instanceTypeInfo) []string { return []string{strconv.Itoa(t.NetworkCards)} },
	"network-info.ipv4-addresses-per-interface": func(t *instanceTypeInfo) []string {
		return []string{strconv.Itoa(t.IPv4PerENI)}
	},
	"network-info.ipv6-addresses-per-interface": func(t *instanceTypeInfo) []string {
		return []string{strconv.Itoa(t.IPv6PerENI)}
	},
	"network-info.ipv6-supported":                  func(t *instanceTypeInfo) []string { return []string{bstr(t.IPv6PerENI > 0)} },
	"network-info.ena-support":                     func(t *instanceTypeInfo) []string { return []string{t.enaSupport()} },
	"network-info.efa-supported":                   func(t *instanceTypeInfo) []string { return []string{"false"} },
	"network-info.encryption-in-transit-supported": func(t *instanceTypeInfo) []string { return []string{"false"} },
	"network-info.network-performance":             func(t *instanceTypeInfo) []string { return []string{t.networkPerformance()} },
	"vcpu-info.default-vcpus":                      vcpuFilter(func(c *instanceCPUInfo) []int32 { return []int32{c.DefaultVCPUs} }),
	"vcpu-info.default-cores":                      vcpuFilter(func(c *instanceCPUInfo) []int32 { return []int32{c.DefaultCores} }),
	"vcpu-info.default-threads-per-core":           vcpuFilter(func(c *instanceCPUInfo) []int32 { return []int32{c.DefaultThreads} }),
	"vcpu-info.valid-cores":                        vcpuFilter(func(c *instanceCPUInfo) []int32 { return c.ValidCores }),
	"vcpu-info.valid-threads-per-core":             vcpuFilter(func(c *instanceCPUInfo) []int32 { return c.ValidThreads }),
}

// DescribeInstanceTypes lists instance types from the built-in table.
func (tx *Tx) DescribeInstanceTypes(in *ec2wire.DescribeInstanceTypesInput) (*ec2wire.DescribeInstanceTypesOutput, error) {
	m, err := newMatcher(instanceTypeFilters, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	table, names := instanceTypes()
	var missing []string
	for _, n := range in.InstanceTypes {
		if _, ok := table[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, errorf(CodeInvalidInstanceType, "The following supplied instance types do not exist: [%s]", strings.Join(missing, ", "))
	}
	var items []*instanceTypeInfo
	for _, n := range names {
		t := table[n]
		if (len(in.InstanceTypes) == 0 || contains(in.InstanceTypes, n)) && m.match(t) {
			items = append(items, t)
		}
	}
	page, next, err := paginate(items, func(t *instanceTypeInfo) string { return t.Name }, in.MaxResults, in.NextToken, 5, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeInstanceTypesOutput{NextToken: next}
	for _, t := range page {
		out.InstanceTypes = append(out.InstanceTypes, t.out())
	}
	return out, nil
}
