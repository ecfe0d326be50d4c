package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2wire"
)

// State is what the page draws: one account's view of one region. The EC2
// part is the API's own Describe* output (so every attribute a client sees is
// there, by the names AWS's JSON uses); what the console adds about it goes in
// fields of its own next to EC2, which the page ignores until it draws them.
type State struct {
	Region   string    `json:"region"`
	Account  string    `json:"account"`
	Regions  []string  `json:"regions"`       // regions that have state, sorted
	Accounts []string  `json:"accounts"`      // accounts that have state in Region, sorted
	VPC      string    `json:"vpc,omitempty"` // the only VPC whose contents are described ("": all)
	Time     time.Time `json:"time"`
	EC2      EC2       `json:"ec2"`
	// Omitted says what the snapshot leaves out (Options.MaxDrawn), if anything.
	Omitted string `json:"omitted,omitempty"`
	// Subnets is what the core says of each subnet that no Describe call
	// shows, by subnet id.
	Subnets map[string]SubnetInfo `json:"subnets"`
	// Billed are the account's public IPv4 addresses costing money now
	// (core.BilledNow: usage type, since when, cost so far at BilledAt).
	Billed   []core.BilledAddress `json:"billed"`
	BilledAt time.Time            `json:"billedAt"`
}

// SubnetInfo is the route table in effect for a subnet (its own, else its
// VPC's main table) and whether that makes the subnet public (0.0.0.0/0 to
// an attached internet gateway).
type SubnetInfo struct {
	RouteTableID string `json:"routeTableId,omitempty"`
	Public       bool   `json:"public"`
}

// EC2 is the region as the account's Describe* calls show it.
type EC2 struct {
	AvailabilityZones  []ec2wire.AvailabilityZone
	Vpcs               []ec2wire.Vpc
	Subnets            []ec2wire.Subnet
	Instances          []ec2wire.Instance // of every reservation
	NetworkInterfaces  []ec2wire.NetworkInterface
	Addresses          []ec2wire.Address
	SecurityGroups     []ec2wire.SecurityGroup
	SecurityGroupRules []ec2wire.SecurityGroupRule
	InternetGateways   []ec2wire.InternetGateway
	RouteTables        []ec2wire.RouteTable
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	vpcRE     = regexp.MustCompile(`^vpc-[0-9a-f]{1,32}$`)
)

// state answers GET /console/api/state?region=R&account=A&vpc=V. Without a region
// it picks the default one (us-east-1) if it has state, else the first that
// has; without an account, the default account if it has state there, else
// the first that has.
func (c *Console) state(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	region, account, vpc := q.Get("region"), q.Get("account"), q.Get("vpc")
	if account != "" && !accountRE.MatchString(account) {
		writeJSONError(w, http.StatusBadRequest, "account must be 12 digits")
		return
	}
	if vpc != "" && !vpcRE.MatchString(vpc) {
		writeJSONError(w, http.StatusBadRequest, "vpc must be a VPC id (vpc-…)")
		return
	}
	st, err := c.snapshot(region, account, scope{vpc: vpc, max: c.opt.MaxDrawn})
	if err != nil {
		var ce *core.Error
		if errors.As(err, &ce) && ce.Code != core.CodeInternalError && ce.Code != "ServiceUnavailable" {
			writeJSONError(w, http.StatusBadRequest, ce.Message)
			return
		}
		c.opt.Logger.Error("console state", "region", sanitize(region), "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "the model cannot be read now; try again")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st) // a write error is the client gone
}

// snapshot reads one account's view of a region.
func (c *Console) snapshot(region, account string, sc scope) (*State, error) {
	st := &State{Regions: c.regionsWithState(), VPC: sc.vpc, Time: time.Now().UTC()}
	if region == "" {
		region = defaultRegion
		if len(st.Regions) > 0 && !slices.Contains(st.Regions, region) {
			region = st.Regions[0]
		}
	}
	if err := c.opt.Core.CheckRegion(region); err != nil {
		return nil, err
	}
	st.Region = region
	st.Accounts = append([]string{}, c.opt.Core.Accounts(region)...)
	if account == "" {
		account = c.opt.Core.Config().DefaultAccount
		if len(st.Accounts) > 0 && !slices.Contains(st.Accounts, account) {
			account = st.Accounts[0]
		}
	}
	st.Account = account
	err := c.opt.View(core.Caller{Account: account, Region: region}, func(tx *core.Tx) error {
		var err error
		if st.Omitted, err = describe(tx, &st.EC2, sc); err != nil {
			return err
		}
		st.Subnets = subnetInfo(tx, st.EC2.Subnets)
		st.Billed, st.BilledAt = tx.BilledNow(), tx.Now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

const defaultRegion = "us-east-1"

// regionsWithState lists the regions where some account has state.
func (c *Console) regionsWithState() []string {
	out := []string{}
	for _, r := range c.opt.Core.Regions() {
		if len(c.opt.Core.Accounts(r)) > 0 {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// scope is what a snapshot covers: one VPC, or all (""), and at most max
// instances and as many ENIs (Options.MaxDrawn).
type scope struct {
	vpc string
	max int
}

// filter is a Describe filter on the VPC, or none.
func (sc scope) filter(name string) []ec2wire.Filter {
	if sc.vpc == "" {
		return nil
	}
	return []ec2wire.Filter{{Name: &name, Values: []string{sc.vpc}}}
}

// describe fills e with the Describe* outputs of the transaction's account,
// and says what it left out ("" if nothing).
func describe(tx *core.Tx, e *EC2, sc scope) (omitted string, err error) {
	azs, err := tx.DescribeAvailabilityZones(&ec2wire.DescribeAvailabilityZonesInput{})
	if err != nil {
		return "", err
	}
	e.AvailabilityZones = azs.AvailabilityZones
	vpcs, err := tx.DescribeVpcs(&ec2wire.DescribeVpcsInput{}) // all: the page lists them to choose from
	if err != nil {
		return "", err
	}
	e.Vpcs = vpcs.Vpcs
	subnets, err := tx.DescribeSubnets(&ec2wire.DescribeSubnetsInput{Filters: sc.filter("vpc-id")})
	if err != nil {
		return "", err
	}
	e.Subnets = subnets.Subnets
	if omitted, err = describeHosts(tx, e, sc); err != nil {
		return "", err
	}
	return omitted, describeEdges(tx, e, sc)
}

// describeHosts fills the instances and ENIs, page by page, unless there are
// more than sc.max.
func describeHosts(tx *core.Tx, e *EC2, sc scope) (string, error) {
	page := int32(1000)
	var next *string
	for {
		out, err := tx.DescribeNetworkInterfaces(&ec2wire.DescribeNetworkInterfacesInput{Filters: sc.filter("vpc-id"), MaxResults: &page, NextToken: next})
		if err != nil {
			return "", err
		}
		e.NetworkInterfaces = append(e.NetworkInterfaces, out.NetworkInterfaces...)
		if len(e.NetworkInterfaces) > sc.max {
			e.NetworkInterfaces = nil
			return fmt.Sprintf("More than %d network interfaces: instances and ENIs are not drawn; choose a VPC.", sc.max), nil
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	for next = nil; ; {
		out, err := tx.DescribeInstances(&ec2wire.DescribeInstancesInput{Filters: sc.filter("vpc-id"), MaxResults: &page, NextToken: next})
		if err != nil {
			return "", err
		}
		for _, rv := range out.Reservations {
			e.Instances = append(e.Instances, rv.Instances...)
		}
		if len(e.Instances) > sc.max {
			e.Instances, e.NetworkInterfaces = nil, nil
			return fmt.Sprintf("More than %d instances: instances and ENIs are not drawn; choose a VPC.", sc.max), nil
		}
		if next = out.NextToken; next == nil {
			return "", nil
		}
	}
}

// describeEdges fills what surrounds the ENIs: addresses, groups, gateways
// and route tables.
func describeEdges(tx *core.Tx, e *EC2, sc scope) error {
	addrs, err := tx.DescribeAddresses(&ec2wire.DescribeAddressesInput{}) // few (a quota), and idle ones belong to no VPC
	if err != nil {
		return err
	}
	e.Addresses = addrs.Addresses
	sgs, err := tx.DescribeSecurityGroups(&ec2wire.DescribeSecurityGroupsInput{Filters: sc.filter("vpc-id")})
	if err != nil {
		return err
	}
	e.SecurityGroups = sgs.SecurityGroups
	rules, err := tx.DescribeSecurityGroupRules(&ec2wire.DescribeSecurityGroupRulesInput{})
	if err != nil {
		return err
	}
	groups := map[string]bool{}
	for _, g := range e.SecurityGroups {
		groups[*g.GroupId] = true
	}
	for _, r := range rules.SecurityGroupRules {
		if groups[*r.GroupId] {
			e.SecurityGroupRules = append(e.SecurityGroupRules, r)
		}
	}
	igws, err := tx.DescribeInternetGateways(&ec2wire.DescribeInternetGatewaysInput{Filters: sc.filter("attachment.vpc-id")})
	if err != nil {
		return err
	}
	e.InternetGateways = igws.InternetGateways
	rtbs, err := tx.DescribeRouteTables(&ec2wire.DescribeRouteTablesInput{Filters: sc.filter("vpc-id")})
	if err != nil {
		return err
	}
	e.RouteTables = rtbs.RouteTables
	return nil
}

func subnetInfo(tx *core.Tx, subnets []ec2wire.Subnet) map[string]SubnetInfo {
	out := make(map[string]SubnetInfo, len(subnets))
	for _, s := range subnets {
		id := *s.SubnetId
		var info SubnetInfo
		if rt := tx.SubnetRouteTable(id); rt != nil {
			info.RouteTableID = rt.ID
		}
		info.Public = tx.SubnetIsPublic(id)
		out[id] = info
	}
	return out
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg}) // a write error is the client gone
}
