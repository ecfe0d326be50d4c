package core

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Instances are records only: without a data plane nothing runs. Their
// network side is real model state, though: every instance has its ENIs
// (created and attached with createENI/attachENI), and its top-level network
// fields mirror the ENI at device index 0.

// instanceStateCodes are EC2's numeric instance state codes.
var instanceStateCodes = map[string]int32{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func instanceStateOut(name string) *ec2wire.InstanceState {
	return &ec2wire.InstanceState{Code: p(instanceStateCodes[name]), Name: p(name)}
}

// launchState is the state a launched or started instance is stored in.
// Without a data plane nothing would ever move it on from pending, so it is
// stored as running at once; the replies of RunInstances and StartInstances
// still say pending, as AWS's do. A data plane will store "pending" here and
// flip the instance to running itself once it is up.
func (tx *Tx) launchState() string {
	if tx.cfg.DataPlane || tx.cfg.Cluster {
		return "pending" // until the data plane reports the namespace up
	}
	return "running"
}

// instanceDefaultType is what RunInstances launches without InstanceType:
// AWS's default, m1.small, when the type table has it.
func instanceDefaultType() string {
	if _, ok := instanceType("m1.small"); ok {
		return "m1.small"
	}
	return "t2.micro"
}

// instanceMaxPerLaunch bounds one RunInstances call (AWS bounds it by the
// account's vCPU quota), so that one request cannot create an unbounded
// change set. MaxCount above it launches this many.
const instanceMaxPerLaunch = 1000

// instanceMaxUserData is the largest user data AWS accepts (decoded bytes).
const instanceMaxUserData = 16384

// instanceNIC is one network interface of a launch, resolved from either the
// instance-level parameters or NetworkInterface.N.
type instanceNIC struct {
	deviceIndex  int32
	cardIndex    int32
	existing     *ENI    // NetworkInterfaceId: an available ENI
	subnet       *Subnet // new ENIs; nil until resolved
	spec         eniSpec // new ENIs (Subnet set at creation)
	deleteOnTerm bool
	publicIP     *bool // AssociatePublicIpAddress as given
	fixed        bool  // explicit addresses: one instance only
}

// ipv6Spec takes a launch's IPv6 count or explicit addresses (one or the other).
func (n *instanceNIC) ipv6Spec(count *int32, addrs []ec2wire.InstanceIpv6Address) error {
	if count != nil {
		if len(addrs) > 0 {
			return errorf(CodeInvalidParameterCombination, "The parameters ipv6AddressCount and ipv6Addresses cannot be specified together.")
		}
		n.spec.IPv6Count = int(*count)
		if n.spec.IPv6Count < 0 {
			return errorf(CodeInvalidParameterValue, "Value (%d) for parameter ipv6AddressCount is invalid. Expecting a non-negative value.", n.spec.IPv6Count)
		}
	}
	for _, a := range addrs {
		n.spec.IPv6 = append(n.spec.IPv6, str(a.Ipv6Address))
		n.fixed = true
	}
	return nil
}

func (n *instanceNIC) primary() bool { return n.deviceIndex == 0 && n.cardIndex == 0 }

// RunInstances launches MinCount..MaxCount instances, each with its ENIs.
func (tx *Tx) RunInstances(in *ec2wire.RunInstancesInput) (*ec2wire.RunInstancesOutput, error) {
	in, fromTemplate, err := tx.launchTemplateMerge(in)
	if err != nil {
		return nil, err
	}
	minCount, maxCount, err := launchCounts(in)
	if err != nil {
		return nil, err
	}
	imageID := str(in.ImageId)
	if imageID == "" {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter ImageId")
	}
	if err := tx.checkDataPlaneRegion(); err != nil {
		return nil, err
	}
	if !validImageID(imageID) {
		return nil, errorf(CodeInvalidAMIIDMalformed, "Invalid id: \"%s\" (expecting \"ami-...\")", imageID)
	}
	typ := str(in.InstanceType)
	if typ == "" {
		typ = instanceDefaultType()
	}
	if _, _, _, ok := instanceTypeLimits(typ); !ok {
		return nil, errorf(CodeInvalidParameterValue, "Invalid value '%s' for InstanceType.", typ)
	}
	l := &launch{in: in, imageID: imageID, typ: typ}
	if err := tx.launchAttributes(l, fromTemplate); err != nil {
		return nil, err
	}
	placeAZ, err := tx.launchPlacementAZ(in.Placement)
	if err != nil {
		return nil, err
	}
	if l.nics, err = tx.instanceNICs(in); err != nil {
		return nil, err
	}
	if l.az, err = tx.instanceResolveSubnets(l.nics, placeAZ); err != nil {
		return nil, err
	}
	if err := launchCheckTypeLimits(l.nics, typ, minCount, maxCount); err != nil {
		return nil, err
	}
	count, err := tx.launchFit(l.nics, minCount, maxCount)
	if err != nil {
		return nil, err
	}
	if tx.cfg.Cluster {
		if l.hosts, err = tx.placeInstances(l.az, typ, minCount, count); err != nil {
			return nil, err
		}
		count = int32(len(l.hosts))
	}
	if l.autoPublic, err = launchAutoPublic(l.nics); err != nil {
		return nil, err
	}
	res := &ec2wire.Reservation{ReservationId: p(tx.newID("r")), OwnerId: p(tx.Account)}
	l.reservation = *res.ReservationId
	for i := range count {
		out, err := tx.launchOne(l, i)
		if err != nil {
			return nil, err
		}
		res.Instances = append(res.Instances, out)
	}
	return res, nil
}

// launch is what RunInstances has checked and decided, for launchOne.
type launch struct {
	in                *ec2wire.RunInstancesInput
	imageID, typ, az  string
	userData          string
	shutdown          string
	instTags, eniTags Tags
	opts              *launchOptions
	nics              []*instanceNIC
	autoPublic        bool
	reservation       string
	hosts             []string // in a cluster, each instance's host (cluster.go)
}

// launchCounts checks MinCount and MaxCount.
func launchCounts(in *ec2wire.RunInstancesInput) (minCount, maxCount int32, err error) {
	minCount, maxCount = i32(in.MinCount), i32(in.MaxCount)
	switch {
	case in.MinCount == nil:
		return 0, 0, errorf(CodeMissingParameter, "The request must contain the parameter MinCount")
	case in.MaxCount == nil:
		return 0, 0, errorf(CodeMissingParameter, "The request must contain the parameter MaxCount")
	case minCount < 1:
		return 0, 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter minCount is invalid. Expected a positive integer.", minCount)
	case minCount > instanceMaxPerLaunch:
		return 0, 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter minCount is invalid. At most %d instances can be launched in one request.", minCount, instanceMaxPerLaunch)
	case maxCount < minCount:
		return 0, 0, errorf(CodeInvalidParameterValue, "Value (%d) for parameter maxCount is invalid. Expected a value greater than or equal to minCount (%d).", maxCount, minCount)
	}
	return minCount, maxCount, nil
}

// launchAttributes checks and sets the launch's user data, shutdown
// behaviour, tags and options.
func (tx *Tx) launchAttributes(l *launch, fromTemplate *launchTemplateRef) error {
	in := l.in
	var err error
	if l.userData, err = instanceCheckUserData(str(in.UserData)); err != nil {
		return err
	}
	l.shutdown = str(in.InstanceInitiatedShutdownBehavior)
	if l.shutdown == "" {
		l.shutdown = "stop"
	}
	if l.shutdown != "stop" && l.shutdown != "terminate" {
		return errorf(CodeInvalidParameterValue, "Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are 'stop' and 'terminate'.", l.shutdown)
	}
	if l.instTags, err = tagSpecs(in.TagSpecifications, "instance", "network-interface", "volume"); err != nil {
		return err
	}
	l.instTags = fromTemplate.tagInstance(l.instTags)
	if l.eniTags, err = tagSpecsFor(in.TagSpecifications, "network-interface"); err != nil {
		return err
	}
	l.opts, err = tx.launchOptionsOf(in, l.imageID, l.typ)
	return err
}

// launchPlacementAZ is the zone Placement names (by name or by id), or "".
func (tx *Tx) launchPlacementAZ(pl *ec2wire.Placement) (string, error) {
	placeAZ := ""
	if pl != nil && str(pl.AvailabilityZone) != "" {
		placeAZ = str(pl.AvailabilityZone)
		if _, ok := tx.azByName(placeAZ); !ok {
			return "", errorf(CodeInvalidParameterValue, "Invalid availability zone: [%s]", placeAZ)
		}
	}
	if pl != nil && str(pl.AvailabilityZoneId) != "" {
		// boto3 and the SDKs send Placement.AvailabilityZoneId (use1-az1)
		// instead of the name; it must not be ignored.
		if placeAZ != "" {
			return "", errorf(CodeInvalidParameterCombination, "The parameters availabilityZone and availabilityZoneId cannot be specified together.")
		}
		z, ok := tx.azByID(str(pl.AvailabilityZoneId))
		if !ok {
			return "", errorf(CodeInvalidParameterValue, "Invalid availability zone ID: [%s]", str(pl.AvailabilityZoneId))
		}
		placeAZ = z.Name
	}
	return placeAZ, nil
}

// launchCheckTypeLimits checks the per-type limits, before anything is
// created: interfaces per instance, addresses per interface, and that
// explicit addresses or interfaces launch exactly one instance.
func launchCheckTypeLimits(nics []*instanceNIC, typ string, minCount, maxCount int32) error {
	maxENIs, v4PerENI, v6PerENI, _ := instanceTypeLimits(typ)
	if len(nics) > maxENIs {
		return errorf(CodeAttachmentLimitExceeded, "Interface count %d exceeds the limit for %s", len(nics), typ)
	}
	fixed := false
	for _, n := range nics {
		fixed = fixed || n.fixed
		if n.existing != nil {
			continue // attachENI checks the ENI's own addresses
		}
		v4 := 1 + len(n.spec.SecondaryIPs) + n.spec.SecondaryCount + len(n.spec.IPv4Prefixes) + n.spec.IPv4PrefixCount // a prefix counts as one
		v6 := len(n.spec.IPv6) + max(n.spec.IPv6Count, 0) + len(n.spec.IPv6Prefixes) + n.spec.IPv6PrefixCount
		if n.spec.IPv6Count < 0 && len(n.spec.IPv6) == 0 && n.subnet.AssignIpv6AddressOnCreation {
			v6 = 1 // the subnet's automatic address
		}
		if v4 > v4PerENI {
			return errorf(CodeInterfaceIPLimitExceeded, "The number of private IPv4 addresses (%d) of the network interface at device index %d exceeds the limit of %d for instance type %s.", v4, n.deviceIndex, v4PerENI, typ)
		}
		if v6 > v6PerENI {
			if v6PerENI == 0 {
				return errorf(CodeInterfaceIPLimitExceeded, "Instance type %s does not support IPv6 addresses.", typ)
			}
			return errorf(CodeInterfaceIPLimitExceeded, "The number of IPv6 addresses (%d) of the network interface at device index %d exceeds the limit of %d for instance type %s.", v6, n.deviceIndex, v6PerENI, typ)
		}
	}
	if fixed && (minCount != 1 || maxCount != 1) {
		return errorf(CodeInvalidParameterCombination, "Explicit private IP addresses, IPv6 addresses or network interface IDs can only be used when launching exactly one instance (MinCount=MaxCount=1).")
	}
	return nil
}

// launchFit is how many instances to launch: as many as fit, at least
// MinCount; each subnet must have room for every instance's new addresses.
func (tx *Tx) launchFit(nics []*instanceNIC, minCount, maxCount int32) (int32, error) {
	count := min(maxCount, instanceMaxPerLaunch)
	demand := map[string]int{}
	prefixDemand := map[string]int{} // delegated /28s: they need whole free blocks
	for _, n := range nics {
		if n.existing == nil && !n.subnet.Ipv6Native { // an IPv6-only subnet's /64 does not run out
			demand[n.subnet.ID] += 1 + len(n.spec.SecondaryIPs) + n.spec.SecondaryCount + 16*(len(n.spec.IPv4Prefixes)+n.spec.IPv4PrefixCount)
			prefixDemand[n.subnet.ID] += len(n.spec.IPv4Prefixes) + n.spec.IPv4PrefixCount
		}
	}
	for _, sid := range slices.Sorted(maps.Keys(demand)) {
		s := tx.subnets.Get(sid)
		if fit := int32(tx.availableIPv4(s) / demand[sid]); fit < count {
			count = fit
		}
		if count < minCount {
			return 0, errorf(CodeInsufficientFreeAddresses, "There aren't sufficient free Ipv4 addresses or prefixes in subnet %s to launch %d instance(s).", sid, minCount)
		}
		if pd := prefixDemand[sid]; pd > 0 {
			if fit := int32(tx.freeIPv4PrefixBlocks(s, int(count)*pd) / pd); fit < count {
				count = fit
			}
			if count < minCount {
				return 0, errorf(CodeInsufficientCidrBlocks, "The specified subnet does not have enough free cidr blocks to satisfy the request.")
			}
		}
	}
	return count, nil
}

// launchAutoPublic says whether each instance gets an auto-assigned public
// IPv4: only for a launch with one interface, a new one at device index 0:
// AssociatePublicIpAddress, else the subnet's MapPublicIpOnLaunch.
func launchAutoPublic(nics []*instanceNIC) (bool, error) {
	if len(nics) != 1 || !nics[0].primary() || nics[0].existing != nil {
		return false, nil
	}
	autoPublic := nics[0].subnet.MapPublicIpOnLaunch
	if nics[0].publicIP != nil {
		autoPublic = *nics[0].publicIP
	}
	if autoPublic && nics[0].subnet.Ipv6Native {
		return false, errNoIPv4(nics[0].subnet)
	}
	return autoPublic, nil
}

// launchOne creates the launch's instance number i with its interfaces and
// returns it as RunInstances shows it.
func (tx *Tx) launchOne(l *launch, i int32) (ec2wire.Instance, error) {
	in := l.in
	inst := &Instance{
		ID: tx.newID("i"), Owner: tx.Account, ReservationID: l.reservation, ImageID: l.imageID,
		InstanceType: l.typ, AZ: l.az, State: tx.launchState(), KeyName: str(in.KeyName), UserData: l.userData,
		LaunchTime: tx.Now(), AmiLaunchIndex: i, ClientToken: str(in.ClientToken),
		DisableApiTerm: boolv(in.DisableApiTermination), DisableApiStop: boolv(in.DisableApiStop),
		ShutdownBehavior: l.shutdown, Tags: l.instTags,
	}
	if l.hosts != nil {
		inst.Host = l.hosts[i]
	}
	tx.instances.Put(inst) // inst is new: it may be changed below
	tx.applyLaunchOptions(inst, l.opts)
	enis, err := tx.launchENIs(l)
	if err != nil {
		return ec2wire.Instance{}, err
	}
	for k, n := range l.nics {
		e := enis[k]
		if n.primary() {
			inst.SubnetID, inst.VpcID = e.SubnetID, e.VpcID
		}
		if _, err := tx.attachENI(e, inst, n.deviceIndex, n.cardIndex, n.deleteOnTerm); err != nil {
			return ec2wire.Instance{}, err
		}
		if n.primary() && l.autoPublic {
			ip, err := tx.allocPublicIP()
			if err != nil {
				return ec2wire.Instance{}, err
			}
			tx.enis.Mut(e.ID).PublicIP = ip.String()
			inst.AutoPublicIP = true
		}
	}
	if err := tx.instanceDNSNames(inst, in.PrivateDnsNameOptions); err != nil {
		return ec2wire.Instance{}, err
	}
	out := tx.instanceOut(inst)
	out.State = instanceStateOut("pending")
	out.MetadataOptions.State = p("pending") // as AWS's reply; applied at once
	if inst.Monitoring {
		out.Monitoring.State = p("pending") // likewise
	}
	return out, nil
}

// launchENIs are one instance's interfaces in NIC order: existing ones, and
// new ones created, those that name their addresses or prefixes first, so
// that what another NIC allocates never takes them.
func (tx *Tx) launchENIs(l *launch) ([]*ENI, error) {
	enis := make([]*ENI, len(l.nics))
	for _, named := range []bool{true, false} {
		for k, n := range l.nics {
			if n.existing != nil {
				enis[k] = n.existing
				continue
			}
			if n.fixed != named {
				continue
			}
			spec := n.spec
			spec.Subnet = n.subnet
			spec.Tags = l.eniTags
			var err error
			if enis[k], err = tx.createENI(spec); err != nil {
				return nil, err
			}
		}
	}
	return enis, nil
}

// instanceCheckUserData validates base64 user data of at most 16 KiB.
func instanceCheckUserData(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return "", errorf(CodeInvalidParameterValue, "Invalid BASE64 encoding of user data.")
		}
	}
	if len(b) > instanceMaxUserData {
		return "", errorf(CodeInvalidParameterValue, "User data is limited to %d bytes", instanceMaxUserData)
	}
	return s, nil
}

// instanceNICs turns the launch's networking parameters into NIC specs:
// either the instance-level ones (one ENI at device index 0) or
// NetworkInterface.N, never both.
func (tx *Tx) instanceNICs(in *ec2wire.RunInstancesInput) ([]*instanceNIC, error) {
	if len(in.NetworkInterfaces) == 0 {
		n, err := tx.instanceLevelNIC(in)
		if err != nil {
			return nil, err
		}
		return []*instanceNIC{n}, nil
	}
	switch {
	case str(in.SubnetId) != "":
		return nil, errorf(CodeInvalidParameterCombination, "Network interfaces and an instance-level subnet ID may not be specified on the same request")
	case len(in.SecurityGroupIds) > 0 || len(in.SecurityGroups) > 0:
		return nil, errorf(CodeInvalidParameterCombination, "Network interfaces and an instance-level security groups may not be specified on the same request")
	case str(in.PrivateIpAddress) != "":
		return nil, errorf(CodeInvalidParameterCombination, "Network interfaces and an instance-level private IP address may not be specified on the same request")
	case in.Ipv6AddressCount != nil || len(in.Ipv6Addresses) > 0:
		return nil, errorf(CodeInvalidParameterCombination, "Network interfaces and an instance-level IPv6 address count or addresses may not be specified on the same request")
	}
	var nics []*instanceNIC
	seen := map[[2]int32]bool{}
	for _, s := range in.NetworkInterfaces {
		n, err := instanceNICIndexes(s, len(in.NetworkInterfaces), seen)
		if err != nil {
			return nil, err
		}
		if str(s.NetworkInterfaceId) != "" {
			err = tx.instanceExistingNIC(n, s, nics)
		} else {
			err = tx.instanceNewNIC(n, s)
		}
		if err != nil {
			return nil, err
		}
		nics = append(nics, n)
	}
	if !seen[[2]int32{0, 0}] {
		return nil, errorf(CodeInvalidParameterValue, "When specifying network interfaces, you must include a device index of 0.")
	}
	// Primary first, then by card and device index.
	sort.SliceStable(nics, func(i, j int) bool {
		a, b := nics[i], nics[j]
		if a.primary() != b.primary() {
			return a.primary()
		}
		if a.cardIndex != b.cardIndex {
			return a.cardIndex < b.cardIndex
		}
		return a.deviceIndex < b.deviceIndex
	})
	return nics, nil
}

// instanceLevelNIC is the one NIC of a launch without NetworkInterface.N:
// the instance-level subnet, groups and addresses.
func (tx *Tx) instanceLevelNIC(in *ec2wire.RunInstancesInput) (*instanceNIC, error) {
	n := &instanceNIC{deleteOnTerm: true}
	n.spec.IPv6Count = -1
	n.spec.Groups = in.SecurityGroupIds
	if s := str(in.SubnetId); s != "" {
		sub, err := tx.getSubnet(s)
		if err != nil {
			return nil, err
		}
		n.subnet = sub
	}
	if ip := str(in.PrivateIpAddress); ip != "" {
		n.spec.PrimaryIP = ip
		n.fixed = true
	}
	if err := n.ipv6Spec(in.Ipv6AddressCount, in.Ipv6Addresses); err != nil {
		return nil, err
	}
	if len(in.SecurityGroups) > 0 {
		ids, err := tx.instanceGroupsByName(in.SecurityGroups, n.subnet)
		if err != nil {
			return nil, err
		}
		n.spec.Groups = append(slices.Clone(n.spec.Groups), ids...)
	}
	return n, nil
}

// instanceNICIndexes starts a NIC from NetworkInterface.N: its device and
// card index (unique in the launch, recorded in seen) and public address.
func instanceNICIndexes(s ec2wire.InstanceNetworkInterfaceSpecification, count int, seen map[[2]int32]bool) (*instanceNIC, error) {
	if s.DeviceIndex == nil {
		return nil, errorf(CodeMissingParameter, "Each network interface requires a device index.")
	}
	n := &instanceNIC{deviceIndex: *s.DeviceIndex, cardIndex: i32(s.NetworkCardIndex), publicIP: s.AssociatePublicIpAddress}
	if n.deviceIndex < 0 {
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter deviceIndex is invalid.", n.deviceIndex)
	}
	key := [2]int32{n.cardIndex, n.deviceIndex}
	if seen[key] {
		return nil, errorf(CodeInvalidParameterValue, "Each network interface requires a unique device index.")
	}
	seen[key] = true
	if boolv(s.AssociateCarrierIpAddress) {
		return nil, errorf(CodeInvalidParameterValue, "Carrier IP addresses are only available in Wavelength Zones.")
	}
	if boolv(s.AssociatePublicIpAddress) {
		if count > 1 {
			return nil, errorf(CodeInvalidParameterCombination, "The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.")
		}
		if !n.primary() {
			return nil, errorf(CodeInvalidParameterCombination, "The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.")
		}
	}
	return n, nil
}

// instanceExistingNIC makes n the existing, available ENI that s names; s
// may give nothing else of an interface. nics are the launch's NICs so far.
func (tx *Tx) instanceExistingNIC(n *instanceNIC, s ec2wire.InstanceNetworkInterfaceSpecification, nics []*instanceNIC) error {
	var other string
	switch {
	case str(s.SubnetId) != "":
		other = "a subnet ID"
	case len(s.Groups) > 0:
		other = "security groups"
	case str(s.PrivateIpAddress) != "" || len(s.PrivateIpAddresses) > 0 || s.SecondaryPrivateIpAddressCount != nil:
		other = "private IP addresses"
	case len(s.Ipv6Addresses) > 0 || s.Ipv6AddressCount != nil:
		other = "IPv6 addresses"
	case len(s.Ipv4Prefixes) > 0 || s.Ipv4PrefixCount != nil:
		other = "IPv4 prefixes"
	case len(s.Ipv6Prefixes) > 0 || s.Ipv6PrefixCount != nil:
		other = "IPv6 prefixes"
	case str(s.Description) != "":
		other = "a description"
	case str(s.InterfaceType) != "":
		other = "an interface type"
	case boolv(s.AssociatePublicIpAddress):
		other = "associatePublicIPAddress"
	}
	if other != "" {
		return errorf(CodeInvalidParameterCombination, "A network interface may not specify both a network interface ID and %s", other)
	}
	if boolv(s.DeleteOnTermination) {
		return errorf(CodeInvalidParameterCombination, "A network interface may not specify a network interface ID and delete on termination as true")
	}
	e, err := tx.getENI(str(s.NetworkInterfaceId))
	if err != nil {
		return err
	}
	if e.Attachment != nil {
		return errorf(CodeInvalidENIInUse, "Interface: [%s] in use.", e.ID)
	}
	for _, o := range nics {
		if o.existing != nil && o.existing.ID == e.ID {
			return errorf(CodeInvalidParameterValue, "Network interface '%s' is specified more than once.", e.ID)
		}
	}
	n.existing, n.fixed = e, true
	return nil
}

// instanceNewNIC fills n's spec of a new ENI from NetworkInterface.N.
func (tx *Tx) instanceNewNIC(n *instanceNIC, s ec2wire.InstanceNetworkInterfaceSpecification) error {
	n.deleteOnTerm = s.DeleteOnTermination == nil || *s.DeleteOnTermination
	n.spec = eniSpec{
		Description: str(s.Description), Groups: s.Groups, InterfaceType: str(s.InterfaceType),
		SecondaryCount: int(i32(s.SecondaryPrivateIpAddressCount)), IPv6Count: -1,
		IPv4PrefixCount: int(i32(s.Ipv4PrefixCount)), IPv6PrefixCount: int(i32(s.Ipv6PrefixCount)),
	}
	ct, err := connTrackSpec(s.ConnectionTrackingSpecification, nil)
	if err != nil {
		return err
	}
	n.spec.ConnTrack = ct
	if err := n.spec.requestedPrefixes(s.Ipv4Prefixes, s.Ipv6Prefixes); err != nil {
		return err
	}
	if sid := str(s.SubnetId); sid != "" {
		sub, err := tx.getSubnet(sid)
		if err != nil {
			return err
		}
		n.subnet = sub
	}
	n.spec.PrimaryIP = str(s.PrivateIpAddress)
	for _, a := range s.PrivateIpAddresses {
		ip := str(a.PrivateIpAddress)
		if boolv(a.Primary) {
			if n.spec.PrimaryIP != "" && n.spec.PrimaryIP != ip {
				return errorf(CodeInvalidParameterValue, "Only one primary private IP address can be specified for the network interface at device index %d.", n.deviceIndex)
			}
			n.spec.PrimaryIP = ip
			continue
		}
		if ip != n.spec.PrimaryIP {
			n.spec.SecondaryIPs = append(n.spec.SecondaryIPs, ip)
		}
	}
	n.fixed = n.spec.PrimaryIP != "" || len(n.spec.SecondaryIPs) > 0 || len(n.spec.IPv4Prefixes) > 0 || len(n.spec.IPv6Prefixes) > 0
	return n.ipv6Spec(s.Ipv6AddressCount, s.Ipv6Addresses)
}

// instanceGroupsByName resolves SecurityGroup.N names, which AWS accepts only
// in the default VPC.
func (tx *Tx) instanceGroupsByName(names []string, subnet *Subnet) ([]string, error) {
	vpcID := ""
	if subnet != nil {
		v := tx.vpcs.Get(subnet.VpcID)
		if v == nil || !v.IsDefault {
			return nil, errorf(CodeInvalidParameterCombination, "The parameter groupName cannot be used with the parameter subnet")
		}
		vpcID = v.ID
	} else {
		v := tx.instanceDefaultVPC()
		if v == nil {
			return nil, errorf(CodeVPCIdNotSpecified, "No default VPC for this user")
		}
		vpcID = v.ID
	}
	var ids []string
	for _, name := range names {
		var found string
		tx.groups.Each(func(g *SecurityGroup) bool {
			if g.Owner == tx.Account && g.VpcID == vpcID && g.Name == name {
				found = g.ID
			}
			return found == ""
		})
		if found == "" {
			return nil, errorf(CodeInvalidGroupNotFound, "The security group '%s' does not exist in default VPC '%s'", name, vpcID)
		}
		ids = append(ids, found)
	}
	return ids, nil
}

func (tx *Tx) instanceDefaultVPC() *VPC {
	var found *VPC
	tx.vpcs.Each(func(v *VPC) bool {
		if v.Owner == tx.Account && v.IsDefault {
			found = v
		}
		return found == nil
	})
	return found
}

// instanceResolveSubnets fixes the launch's availability zone (from the
// subnets and existing ENIs given, else Placement, else the first zone) and
// gives every new ENI without a subnet the primary interface's subnet, or the
// default subnet of that zone.
func (tx *Tx) instanceResolveSubnets(nics []*instanceNIC, placeAZ string) (string, error) {
	az, from := "", ""
	for _, n := range nics {
		var naz, what string
		switch {
		case n.existing != nil:
			naz, what = n.existing.AZ, "Network interface '"+n.existing.ID+"'"
		case n.subnet != nil:
			naz, what = n.subnet.AZ, "Subnet '"+n.subnet.ID+"'"
		default:
			continue
		}
		if placeAZ != "" && naz != placeAZ {
			return "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter availabilityZone is invalid. %s is in the availability zone %s", placeAZ, what, naz)
		}
		if az != "" && naz != az {
			return "", errorf(CodeInvalidParameterValue, "%s is in the availability zone %s, but %s is in %s. All network interfaces of an instance must be in the same availability zone.", what, naz, from, az)
		}
		az, from = naz, what
	}
	if az == "" {
		az = placeAZ
	}
	if az == "" {
		az = tx.AZs()[0].Name
	}
	var primarySubnet *Subnet
	if p := nics[0]; p.primary() {
		if p.existing != nil {
			primarySubnet = tx.subnets.Get(p.existing.SubnetID)
		} else {
			primarySubnet = p.subnet
		}
	}
	for _, n := range nics {
		if n.existing != nil || n.subnet != nil {
			continue
		}
		if primarySubnet == nil {
			s, err := tx.instanceDefaultSubnet(az)
			if err != nil {
				return "", err
			}
			primarySubnet = s
		}
		n.subnet = primarySubnet
	}
	return az, nil
}

// instanceDefaultSubnet returns the default subnet of az in the default VPC.
func (tx *Tx) instanceDefaultSubnet(az string) (*Subnet, error) {
	v := tx.instanceDefaultVPC()
	if v == nil {
		return nil, errorf(CodeVPCIdNotSpecified, "No default VPC for this user")
	}
	var found *Subnet
	tx.subnets.Each(func(s *Subnet) bool {
		if s.VpcID == v.ID && s.AZ == az && s.DefaultForAz {
			found = s
		}
		return found == nil
	})
	if found == nil {
		return nil, errorf(CodeMissingParameter, "No default subnet for availability zone '%s' in the default VPC '%s'. Please specify a subnet.", az, v.ID)
	}
	return found, nil
}

// instancePrimaryENI returns the ENI at device index 0 of card 0, or nil
// (terminated instances have none).
func (tx *Tx) instancePrimaryENI(enis []*ENI) *ENI {
	for _, e := range enis {
		if e.Attachment.DeviceIndex == 0 && e.Attachment.NetworkCardIndex == 0 {
			return e
		}
	}
	return nil
}

// instancePublicIP is the instance's public IPv4: the Elastic IP on its
// primary ENI's primary address, else that ENI's auto-assigned address.
func (tx *Tx) instancePublicIP(e *ENI) string {
	if e == nil {
		return ""
	}
	if a := tx.addressFor(e.ID, e.PrimaryIP()); a != nil {
		return a.PublicIP
	}
	return e.PublicIP
}

// instancePrivateDNS and instancePublicDNS are AWS's DNS names of addresses.
func (tx *Tx) instancePrivateDNS(ip string) string {
	if ip == "" {
		return ""
	}
	return "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + dhcpDomainName(tx.Region)
}

func (tx *Tx) instancePublicDNS(ip, vpcID string) string {
	if ip == "" {
		return ""
	}
	if v := tx.vpcs.Get(vpcID); v == nil || !v.EnableDnsHostnames {
		return ""
	}
	return eniPublicDNS(tx.Region, ip)
}

// instanceArch is the instance's architecture: its image's if the image is
// in the catalogue, else its type's.
func instanceArch(inst *Instance) string {
	if im := imageByID(inst.ImageID); im != nil {
		return im.Architecture
	}
	return instanceTypeArch(inst.InstanceType)
}

// instanceMonitoring is the state of an instance's detailed monitoring as
// DescribeInstances shows it (enabled at once: there is nothing to wait for).
func instanceMonitoring(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

// instanceOut renders an instance as DescribeInstances shows it.
func (tx *Tx) instanceOut(inst *Instance) ec2wire.Instance {
	enis := tx.enisOfInstance(inst.ID)
	prim := tx.instancePrimaryENI(enis)
	out := ec2wire.Instance{
		InstanceId: p(inst.ID), ImageId: p(inst.ImageID), InstanceType: p(inst.InstanceType),
		State: instanceStateOut(inst.State), AmiLaunchIndex: p(inst.AmiLaunchIndex),
		LaunchTime: ec2wire.NewTime(inst.LaunchTime), Architecture: p(instanceArch(inst)),
		Placement:  &ec2wire.Placement{AvailabilityZone: p(inst.AZ), AvailabilityZoneId: p(tx.zoneID(inst.AZ)), GroupName: p(""), Tenancy: p("default")},
		Monitoring: &ec2wire.Monitoring{State: p(instanceMonitoring(inst.Monitoring))}, StateTransitionReason: p(inst.StateReason),
		Hypervisor: p("xen"), VirtualizationType: p("hvm"), RootDeviceType: p("ebs"), RootDeviceName: p(instanceRootDevice(inst)),
		EbsOptimized: p(inst.EbsOptimized), EnaSupport: p(true), PlatformDetails: p("Linux/UNIX"), UsageOperation: p("RunInstances"),
		UsageOperationUpdateTime: ec2wire.NewTime(inst.LaunchTime), Tags: tagsOut(inst.Tags),
		PrivateDnsName: p(""), PublicDnsName: p(""),
		MetadataOptions:                  metadataOut(instanceMetadata(inst), "applied"),
		IamInstanceProfile:               instanceProfileOut(inst),
		PrivateDnsNameOptions:            inst.DNSNames.out(),
		MaintenanceOptions:               &ec2wire.InstanceMaintenanceOptions{AutoRecovery: p(instanceAutoRecovery(inst))},
		EnclaveOptions:                   &ec2wire.EnclaveOptions{Enabled: p(false)},
		HibernationOptions:               &ec2wire.HibernationOptions{Configured: p(inst.Hibernation)},
		CapacityReservationSpecification: &ec2wire.CapacityReservationSpecificationResponse{CapacityReservationPreference: p(instanceCapacityPreference(inst))},
		CpuOptions:                       instanceCPUOut(inst),
	}
	out.BlockDeviceMappings = tx.instanceBlockDevices(inst)
	if inst.KeyName != "" {
		out.KeyName = p(inst.KeyName)
	}
	if inst.ClientToken != "" {
		out.ClientToken = p(inst.ClientToken)
	}
	if inst.State == "stopped" || inst.State == "terminated" {
		out.StateReason = &ec2wire.StateReason{Code: p("Client.UserInitiatedShutdown"), Message: p("Client.UserInitiatedShutdown: User initiated shutdown")}
	}
	if prim != nil {
		ip := prim.PrimaryIP()
		out.SubnetId, out.VpcId = p(prim.SubnetID), p(prim.VpcID)
		out.SourceDestCheck = p(prim.SourceDestCheck)
		out.SecurityGroups = tx.GroupNames(prim.Groups)
		if ip != "" {
			out.PrivateIpAddress = p(ip)
			out.PrivateDnsName = p(tx.instancePrivateDNS(ip))
		} else if inst.DNSNames.HostnameType == "resource-name" { // IPv6-only
			out.PrivateDnsName = p(tx.instanceResourceDNS(inst.ID))
		}
		if pub := tx.instancePublicIP(prim); pub != "" {
			out.PublicIpAddress = p(pub)
			out.PublicDnsName = p(tx.instancePublicDNS(pub, prim.VpcID))
		}
	}
	for _, e := range enis {
		out.NetworkInterfaces = append(out.NetworkInterfaces, tx.instanceENIOut(e))
	}
	return out
}

// instanceFilterSet returns DescribeInstances' filters, including every
// DescribeNetworkInterfaces filter as network-interface.<name> (an instance
// matches if any of its ENIs does).
func (tx *Tx) instanceFilterSet() filterSet[Instance] {
	type view struct {
		enis []*ENI
		prim *ENI
	}
	cache := map[string]*view{}
	get := func(inst *Instance) *view {
		v := cache[inst.ID]
		if v == nil {
			enis := tx.enisOfInstance(inst.ID)
			v = &view{enis: enis, prim: tx.instancePrimaryENI(enis)}
			cache[inst.ID] = v
		}
		return v
	}
	prim := func(f func(e *ENI) []string) func(*Instance) []string {
		return func(inst *Instance) []string {
			if e := get(inst).prim; e != nil {
				return f(e)
			}
			return nil
		}
	}
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	groupNames := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			if g := tx.groups.Get(id); g != nil {
				out = append(out, g.Name)
			}
		}
		return out
	}
	fs := filterSet[Instance]{
		"instance-id":         func(i *Instance) []string { return []string{i.ID} },
		"instance-state-name": func(i *Instance) []string { return []string{i.State} },
		"instance-state-code": func(i *Instance) []string {
			return []string{strconv.Itoa(int(instanceStateCodes[i.State]))}
		},
		"instance-type":                  func(i *Instance) []string { return []string{i.InstanceType} },
		"image-id":                       func(i *Instance) []string { return []string{i.ImageID} },
		"availability-zone":              func(i *Instance) []string { return []string{i.AZ} },
		"reservation-id":                 func(i *Instance) []string { return []string{i.ReservationID} },
		"key-name":                       func(i *Instance) []string { return one(i.KeyName) },
		"owner-id":                       func(i *Instance) []string { return []string{i.Owner} },
		"launch-index":                   func(i *Instance) []string { return []string{strconv.Itoa(int(i.AmiLaunchIndex))} },
		"launch-time":                    func(i *Instance) []string { return []string{i.LaunchTime.UTC().Format(ec2wire.TimeFormat)} },
		"architecture":                   func(i *Instance) []string { return []string{instanceArch(i)} },
		"client-token":                   func(i *Instance) []string { return one(i.ClientToken) },
		"hypervisor":                     func(i *Instance) []string { return []string{"xen"} },
		"virtualization-type":            func(i *Instance) []string { return []string{"hvm"} },
		"root-device-type":               func(i *Instance) []string { return []string{"ebs"} },
		"tenancy":                        func(i *Instance) []string { return []string{"default"} },
		"monitoring-state":               func(i *Instance) []string { return []string{instanceMonitoring(i.Monitoring)} },
		"hibernation-options.configured": func(i *Instance) []string { return []string{strconv.FormatBool(i.Hibernation)} },
		"ebs-optimized":                  func(i *Instance) []string { return []string{strconv.FormatBool(i.EbsOptimized)} },
		"platform-details":               func(i *Instance) []string { return []string{"Linux/UNIX"} },
		"placement-group-name":           func(i *Instance) []string { return nil },
		"reason":                         func(i *Instance) []string { return one(i.StateReason) },
		"state-reason-code": func(i *Instance) []string {
			if i.State == "stopped" || i.State == "terminated" {
				return []string{"Client.UserInitiatedShutdown"}
			}
			return nil
		},
		"subnet-id":          prim(func(e *ENI) []string { return []string{e.SubnetID} }),
		"vpc-id":             prim(func(e *ENI) []string { return []string{e.VpcID} }),
		"source-dest-check":  prim(func(e *ENI) []string { return []string{bstr(e.SourceDestCheck)} }),
		"private-ip-address": prim(func(e *ENI) []string { return one(e.PrimaryIP()) }),
		"private-dns-name":   prim(func(e *ENI) []string { return one(tx.instancePrivateDNS(e.PrimaryIP())) }),
		"ip-address":         prim(func(e *ENI) []string { return one(tx.instancePublicIP(e)) }),
		"dns-name": prim(func(e *ENI) []string {
			return one(tx.instancePublicDNS(tx.instancePublicIP(e), e.VpcID))
		}),
		"instance.group-id":   prim(func(e *ENI) []string { return e.Groups }),
		"instance.group-name": prim(func(e *ENI) []string { return groupNames(e.Groups) }),
		"group-id":            prim(func(e *ENI) []string { return e.Groups }),
		"group-name":          prim(func(e *ENI) []string { return groupNames(e.Groups) }),
	}
	anyENI := func(f func(*ENI) []string) func(*Instance) []string {
		return func(inst *Instance) []string {
			var out []string
			for _, e := range get(inst).enis {
				out = append(out, f(e)...)
			}
			return out
		}
	}
	efs := tx.eniFilterSet(tx.addressFor)
	for name, f := range efs {
		fs["network-interface."+name] = anyENI(f)
	}
	// DescribeInstances spells a few of them differently.
	aliases := map[string]string{
		"addresses.association.ip-owner-id": "addresses.association.owner-id",
		"ipv6-address":                      "ipv6-addresses.ipv6-address",
		"association.owner-id":              "association.ip-owner-id",
		"attachment.attachment-time":        "attachment.attach-time",
	}
	for alias, name := range aliases {
		if f := efs[name]; f != nil {
			fs["network-interface."+alias] = anyENI(f)
		}
	}
	tx.instanceVolumeFilters(fs)
	instanceMetadataFilters(fs)
	instanceProfileFilters(fs)
	return fs
}

// instanceSortKey orders instances by reservation, then launch index, so that
// a page keeps a reservation's instances together.
func instanceSortKey(i *Instance) string {
	return fmt.Sprintf("%s/%06d/%s", i.ReservationID, i.AmiLaunchIndex, i.ID)
}

// instanceNotFound is the NotFound error for one or several missing ids.
func instanceNotFound(missing []string) error {
	if len(missing) == 1 {
		return errorf(CodeInvalidInstanceIDNotFound, "The instance ID '%s' does not exist", missing[0])
	}
	return errorf(CodeInvalidInstanceIDNotFound, "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}

// instancesByID returns the caller's instances with the given ids, in order,
// or the Malformed/NotFound error AWS gives (NotFound lists every missing id).
func (tx *Tx) instancesByID(ids []string) ([]*Instance, error) {
	var out []*Instance
	var missing []string
	for _, id := range ids {
		inst, err := tx.getInstance(id)
		if err != nil {
			if e, ok := err.(*Error); ok && e.Code == CodeInvalidInstanceIDNotFound {
				missing = append(missing, id)
				continue
			}
			return nil, err
		}
		if !slices.Contains(out, inst) {
			out = append(out, inst)
		}
	}
	if len(missing) > 0 {
		return nil, instanceNotFound(missing)
	}
	return out, nil
}

// DescribeInstances lists instances grouped by reservation. Terminated
// instances stay visible.
func (tx *Tx) DescribeInstances(in *ec2wire.DescribeInstancesInput) (*ec2wire.DescribeInstancesOutput, error) {
	if len(in.InstanceIds) > 0 && in.MaxResults != nil {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	m, err := newMatcher(tx.instanceFilterSet(), func(i *Instance) Tags { return i.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	if _, err := tx.instancesByID(in.InstanceIds); err != nil {
		return nil, err
	}
	items := tx.instances.Sorted(func(i *Instance) bool {
		return i.Owner == tx.Account && (len(in.InstanceIds) == 0 || contains(in.InstanceIds, i.ID)) && m.match(i)
	})
	sort.Slice(items, func(a, b int) bool { return instanceSortKey(items[a]) < instanceSortKey(items[b]) })
	page, next, err := paginate(items, instanceSortKey, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeInstancesOutput{NextToken: next}
	for _, inst := range page {
		n := len(out.Reservations)
		if n == 0 || str(out.Reservations[n-1].ReservationId) != inst.ReservationID {
			out.Reservations = append(out.Reservations, ec2wire.Reservation{
				ReservationId: p(inst.ReservationID), OwnerId: p(inst.Owner), Groups: []ec2wire.GroupIdentifier{},
			})
			n++
		}
		r := &out.Reservations[n-1]
		r.Instances = append(r.Instances, tx.instanceOut(inst))
	}
	return out, nil
}

// instanceUserReason is the state transition reason of a client's stop or
// terminate.
func (tx *Tx) instanceUserReason() string {
	return "User initiated (" + tx.Now().UTC().Format("2006-01-02 15:04:05 GMT") + ")"
}

func stateChange(id, prev, cur string) ec2wire.InstanceStateChange {
	return ec2wire.InstanceStateChange{InstanceId: p(id), PreviousState: instanceStateOut(prev), CurrentState: instanceStateOut(cur)}
}

// StopInstances stops instances: their ENIs stay attached with every private
// address and Elastic IP; auto-assigned public IPv4s are released.
func (tx *Tx) StopInstances(in *ec2wire.StopInstancesInput) (*ec2wire.StopInstancesOutput, error) {
	insts, err := tx.instancesByID(in.InstanceIds)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.StopInstancesOutput{}
	for _, inst := range insts {
		switch inst.State {
		case "stopping", "stopped":
			out.StoppingInstances = append(out.StoppingInstances, stateChange(inst.ID, inst.State, inst.State))
			continue
		case "shutting-down", "terminated":
			return nil, errorf(CodeIncorrectInstanceState, "This instance '%s' is not in a state from which it can be stopped.", inst.ID)
		}
		if inst.DisableApiStop {
			return nil, errorf(CodeOperationNotPermitted, "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", inst.ID)
		}
		prev := inst.State
		m := tx.instances.Mut(inst.ID)
		m.State, m.StateReason = "stopped", tx.instanceUserReason()
		for _, e := range tx.enisOfInstance(inst.ID) {
			if e.PublicIP != "" {
				tx.enis.Mut(e.ID).PublicIP = ""
			}
		}
		out.StoppingInstances = append(out.StoppingInstances, stateChange(inst.ID, prev, "stopping"))
	}
	return out, nil
}

// StartInstances starts stopped instances. One launched with an auto-assigned
// public IPv4 gets a new one, unless it now has several ENIs or an Elastic IP.
func (tx *Tx) StartInstances(in *ec2wire.StartInstancesInput) (*ec2wire.StartInstancesOutput, error) {
	insts, err := tx.instancesByID(in.InstanceIds)
	if err != nil {
		return nil, err
	}
	if err := tx.checkDataPlaneRegion(); err != nil {
		return nil, err
	}
	out := &ec2wire.StartInstancesOutput{}
	for _, inst := range insts {
		switch inst.State {
		case "pending", "running":
			out.StartingInstances = append(out.StartingInstances, stateChange(inst.ID, inst.State, inst.State))
			continue
		case "stopped":
			if !tx.instanceHasRoot(inst) {
				return nil, errorf(CodeInvalidParameterValue, "Invalid value '%s' for instanceId. Instance does not have a volume attached at root (%s)", inst.ID, instanceRootDevice(inst))
			}
		default:
			return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be started.", inst.ID)
		}
		if err := tx.startPlacement(inst); err != nil {
			return nil, err
		}
		m := tx.instances.Mut(inst.ID)
		m.State, m.StateReason = tx.launchState(), ""
		m.LaunchTime = tx.Now() // AWS's LaunchTime is the last start; status checks start over
		if enis := tx.enisOfInstance(inst.ID); inst.AutoPublicIP && len(enis) == 1 && !tx.instanceHasEIP(enis[0]) {
			ip, err := tx.allocPublicIP()
			if err != nil {
				return nil, err
			}
			tx.enis.Mut(enis[0].ID).PublicIP = ip.String()
		}
		out.StartingInstances = append(out.StartingInstances, stateChange(inst.ID, "stopped", "pending"))
	}
	return out, nil
}

// instanceHasEIP reports whether any private address of e holds an Elastic IP.
func (tx *Tx) instanceHasEIP(e *ENI) bool {
	for _, ip := range e.PrivateIPs {
		if tx.addressFor(e.ID, ip.Address) != nil {
			return true
		}
	}
	return false
}

// TerminateInstances terminates instances: ENIs whose attachment says
// delete-on-termination are deleted (their Elastic IPs stay allocated but
// disassociated); the others are detached and keep every attribute.
func (tx *Tx) TerminateInstances(in *ec2wire.TerminateInstancesInput) (*ec2wire.TerminateInstancesOutput, error) {
	insts, err := tx.instancesByID(in.InstanceIds)
	if err != nil {
		return nil, err
	}
	for _, inst := range insts {
		if inst.DisableApiTerm && inst.State != "terminated" {
			return nil, errorf(CodeOperationNotPermitted, "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", inst.ID)
		}
	}
	out := &ec2wire.TerminateInstancesOutput{}
	for _, inst := range insts {
		if inst.State == "terminated" {
			out.TerminatingInstances = append(out.TerminatingInstances, stateChange(inst.ID, "terminated", "terminated"))
			continue
		}
		prev := inst.State
		for _, e := range tx.enisOfInstance(inst.ID) {
			if e.Attachment.DeleteOnTermination {
				tx.deleteENI(e.ID) // frees its addresses; its Elastic IPs stay allocated
				continue
			}
			m := tx.enis.Mut(e.ID)
			m.Attachment, m.PublicIP = nil, ""
		}
		tx.terminateVolumes(inst)
		m := tx.instances.Mut(inst.ID)
		m.State, m.StateReason, m.TerminatedAt = "terminated", tx.instanceUserReason(), tx.Now()
		out.TerminatingInstances = append(out.TerminatingInstances, stateChange(inst.ID, prev, "shutting-down"))
	}
	return out, nil
}

// instanceAttributes are DescribeInstanceAttribute's attribute names.
var instanceAttributes = []string{
	"instanceType", "kernel", "ramdisk", "userData", "disableApiTermination", "instanceInitiatedShutdownBehavior",
	"rootDeviceName", "blockDeviceMapping", "productCodes", "sourceDestCheck", "groupSet", "ebsOptimized",
	"sriovNetSupport", "enaSupport", "enclaveOptions", "disableApiStop",
}

// DescribeInstanceAttribute returns one attribute of an instance; groupSet
// and sourceDestCheck are its primary ENI's.
func (tx *Tx) DescribeInstanceAttribute(in *ec2wire.DescribeInstanceAttributeInput) (*ec2wire.DescribeInstanceAttributeOutput, error) {
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	attr := str(in.Attribute)
	if !slices.Contains(instanceAttributes, attr) {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	prim := tx.instancePrimaryENI(tx.enisOfInstance(inst.ID))
	out := &ec2wire.DescribeInstanceAttributeOutput{InstanceId: p(inst.ID)}
	boolAttr := func(b bool) *ec2wire.AttributeBooleanValue { return &ec2wire.AttributeBooleanValue{Value: p(b)} }
	switch attr {
	case "instanceType":
		out.InstanceType = &ec2wire.AttributeValue{Value: p(inst.InstanceType)}
	case "kernel":
		out.KernelId = &ec2wire.AttributeValue{}
	case "ramdisk":
		out.RamdiskId = &ec2wire.AttributeValue{}
	case "userData":
		out.UserData = &ec2wire.AttributeValue{}
		if inst.UserData != "" {
			out.UserData.Value = p(inst.UserData)
		}
	case "disableApiTermination":
		out.DisableApiTermination = boolAttr(inst.DisableApiTerm)
	case "disableApiStop":
		out.DisableApiStop = boolAttr(inst.DisableApiStop)
	case "instanceInitiatedShutdownBehavior":
		out.InstanceInitiatedShutdownBehavior = &ec2wire.AttributeValue{Value: p(inst.ShutdownBehavior)}
	case "rootDeviceName":
		out.RootDeviceName = &ec2wire.AttributeValue{Value: p(instanceRootDevice(inst))}
	case "blockDeviceMapping":
		out.BlockDeviceMappings = tx.instanceBlockDevices(inst)
	case "productCodes":
		out.ProductCodes = []ec2wire.ProductCode{}
	case "sourceDestCheck":
		if prim != nil {
			out.SourceDestCheck = boolAttr(prim.SourceDestCheck)
		}
	case "groupSet":
		out.Groups = []ec2wire.GroupIdentifier{}
		if prim != nil {
			out.Groups = tx.GroupNames(prim.Groups)
		}
	case "ebsOptimized":
		out.EbsOptimized = boolAttr(inst.EbsOptimized)
	case "sriovNetSupport":
		out.SriovNetSupport = &ec2wire.AttributeValue{Value: p("simple")}
	case "enaSupport":
		out.EnaSupport = boolAttr(true)
	case "enclaveOptions":
		out.EnclaveOptions = &ec2wire.EnclaveOptions{Enabled: p(false)}
	}
	return out, nil
}

// ModifyInstanceAttribute changes one attribute of an instance. groupSet and
// sourceDestCheck change the primary ENI, and only on single-ENI instances.
func (tx *Tx) ModifyInstanceAttribute(in *ec2wire.ModifyInstanceAttributeInput) (*ec2wire.ModifyInstanceAttributeOutput, error) {
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	name, err := modifyInstanceAttributeName(in)
	if err != nil {
		return nil, err
	}
	v := attrValue{attr: str(in.Attribute), val: in.Value}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be modified.", inst.ID)
	}
	if err := tx.modifyInstanceAttribute(inst, name, in, v); err != nil {
		return nil, err
	}
	return &ec2wire.ModifyInstanceAttributeOutput{Return: p(true)}, nil
}

// modifyInstanceAttributeName is the one attribute a ModifyInstanceAttribute
// request changes, given in either form (Attribute and Value, or its field).
func modifyInstanceAttributeName(in *ec2wire.ModifyInstanceAttributeInput) (string, error) {
	var given []string
	value := func(name string, set bool) {
		if set {
			given = append(given, name)
		}
	}
	value("instanceType", in.InstanceType != nil)
	value("userData", in.UserData != nil)
	value("disableApiTermination", in.DisableApiTermination != nil)
	value("disableApiStop", in.DisableApiStop != nil)
	value("instanceInitiatedShutdownBehavior", in.InstanceInitiatedShutdownBehavior != nil)
	value("sourceDestCheck", in.SourceDestCheck != nil)
	value("groupSet", len(in.Groups) > 0)
	value("ebsOptimized", in.EbsOptimized != nil)
	value("enaSupport", in.EnaSupport != nil)
	value("sriovNetSupport", in.SriovNetSupport != nil)
	value("kernel", in.Kernel != nil)
	value("ramdisk", in.Ramdisk != nil)
	value("blockDeviceMapping", len(in.BlockDeviceMappings) > 0)
	if attr := str(in.Attribute); attr != "" {
		if !slices.Contains(instanceAttributes, attr) {
			return "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
		}
		if in.Value == nil {
			return "", errorf(CodeMissingParameter, "The request must contain the parameter value")
		}
		given = append(given, attr)
	}
	if len(given) == 0 {
		return "", errorf(CodeInvalidParameterCombination, "No attributes specified.")
	}
	if len(given) > 1 {
		return "", errorf(CodeInvalidParameterCombination, "Fields for multiple attribute types specified: %s", strings.Join(given, ", "))
	}
	return given[0], nil
}

// attrValue reads a ModifyInstanceAttribute value from Attribute+Value when
// attr is set, else from the attribute's own field.
type attrValue struct {
	attr string
	val  *string
}

func (v attrValue) str(av *ec2wire.AttributeValue) string {
	if v.attr != "" {
		return str(v.val)
	}
	if av == nil {
		return ""
	}
	return str(av.Value)
}

func (v attrValue) bool(av *ec2wire.AttributeBooleanValue) (bool, error) {
	if v.attr == "" {
		return av != nil && boolv(av.Value), nil
	}
	b, err := strconv.ParseBool(str(v.val))
	if err != nil {
		return false, errorf(CodeInvalidParameterValue, "Value (%s) for parameter value is invalid. Expecting 'true' or 'false'.", str(v.val))
	}
	return b, nil
}

// modifyInstanceAttribute changes attribute name of inst.
func (tx *Tx) modifyInstanceAttribute(inst *Instance, name string, in *ec2wire.ModifyInstanceAttributeInput, v attrValue) error {
	stopped := func() error {
		if inst.State != "stopped" {
			return errorf(CodeIncorrectInstanceState, "The instance '%s' is not in the 'stopped' state.", inst.ID)
		}
		return nil
	}
	switch name {
	case "instanceType":
		return tx.modifyInstanceType(inst, v.str(in.InstanceType))
	case "userData":
		if err := stopped(); err != nil {
			return err
		}
		ud := str(v.val)
		if v.attr == "" && in.UserData != nil {
			ud = str(in.UserData.Value)
		}
		ud, err := instanceCheckUserData(ud)
		if err != nil {
			return err
		}
		tx.instances.Mut(inst.ID).UserData = ud
	case "disableApiTermination":
		b, err := v.bool(in.DisableApiTermination)
		if err != nil {
			return err
		}
		tx.instances.Mut(inst.ID).DisableApiTerm = b
	case "disableApiStop":
		b, err := v.bool(in.DisableApiStop)
		if err != nil {
			return err
		}
		tx.instances.Mut(inst.ID).DisableApiStop = b
	case "instanceInitiatedShutdownBehavior":
		sb := v.str(in.InstanceInitiatedShutdownBehavior)
		if sb != "stop" && sb != "terminate" {
			return errorf(CodeInvalidParameterValue, "Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are 'stop' and 'terminate'.", sb)
		}
		tx.instances.Mut(inst.ID).ShutdownBehavior = sb
	case "sourceDestCheck", "groupSet":
		return tx.modifyInstancePrimaryENI(inst, name, in, v)
	case "ebsOptimized":
		b, err := v.bool(in.EbsOptimized)
		if err != nil {
			return err
		}
		if err := stopped(); err != nil {
			return err
		}
		tx.instances.Mut(inst.ID).EbsOptimized = b
	case "blockDeviceMapping":
		if v.attr != "" {
			return errorf(CodeInvalidParameterValue, "Use BlockDeviceMapping.N to change the blockDeviceMapping attribute.")
		}
		return tx.modifyInstanceVolumes(inst, in.BlockDeviceMappings)
	default:
		return errorf(CodeInvalidParameterValue, "The attribute '%s' cannot be modified by this service.", name)
	}
	return nil
}

// modifyInstanceType changes a stopped instance's type when its interfaces
// and their addresses fit the new type's limits.
func (tx *Tx) modifyInstanceType(inst *Instance, typ string) error {
	maxENIs, v4, v6, ok := instanceTypeLimits(typ)
	if !ok {
		return errorf(CodeInvalidParameterValue, "Invalid value '%s' for InstanceType.", typ)
	}
	if inst.State != "stopped" {
		return errorf(CodeIncorrectInstanceState, "The instance '%s' is not in the 'stopped' state.", inst.ID)
	}
	enis := tx.enisOfInstance(inst.ID)
	if len(enis) > maxENIs {
		return errorf(CodeAttachmentLimitExceeded, "Interface count %d exceeds the limit for %s", len(enis), typ)
	}
	for _, e := range enis {
		if len(e.PrivateIPs)+len(e.IPv4Prefixes) > v4 || len(e.IPv6)+len(e.IPv6Prefixes) > v6 {
			return errorf(CodeInterfaceIPLimitExceeded, "The network interface '%s' has more addresses than instance type %s allows per interface.", e.ID, typ)
		}
	}
	if info, ok := instanceType(typ); ok {
		perCard := map[int32]int{}
		for _, e := range enis {
			perCard[e.Attachment.NetworkCardIndex]++
		}
		for card, n := range perCard {
			if n > info.CardMaxENIs(int(card)) {
				return errorf(CodeAttachmentLimitExceeded, "Interface count %d on network card %d exceeds the limit for %s", n, card, typ)
			}
		}
	}
	m := tx.instances.Mut(inst.ID)
	m.InstanceType, m.CPU = typ, nil // the new type's default CPU options
	return nil
}

// modifyInstancePrimaryENI changes sourceDestCheck or groupSet of an
// instance with one interface (its primary ENI's).
func (tx *Tx) modifyInstancePrimaryENI(inst *Instance, name string, in *ec2wire.ModifyInstanceAttributeInput, v attrValue) error {
	enis := tx.enisOfInstance(inst.ID)
	if len(enis) > 1 {
		return errorf(CodeInvalidInstanceID, "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", inst.ID)
	}
	prim := tx.instancePrimaryENI(enis)
	if prim == nil {
		return errorf(CodeIncorrectInstanceState, "The instance '%s' has no network interface.", inst.ID)
	}
	if name == "sourceDestCheck" {
		b, err := v.bool(in.SourceDestCheck)
		if err != nil {
			return err
		}
		tx.enis.Mut(prim.ID).SourceDestCheck = b
		return nil
	}
	if v.attr != "" {
		return errorf(CodeInvalidParameterValue, "Use GroupId.N to change the groupSet attribute.")
	}
	groups, err := tx.eniCheckGroups(tx.subnets.Get(prim.SubnetID), in.Groups, true)
	if err != nil {
		return err
	}
	tx.enis.Mut(prim.ID).Groups = groups
	return nil
}
