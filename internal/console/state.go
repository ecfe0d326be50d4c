package console

import (
	"encoding/json"
	"errors"
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
	Regions  []string  `json:"regions"`  // regions that have state, sorted
	Accounts []string  `json:"accounts"` // accounts that have state in Region, sorted
	Time     time.Time `json:"time"`
	EC2      EC2       `json:"ec2"`
	// Subnets is what the core says of each subnet that no Describe call
	// shows, by subnet id.
	Subnets map[string]SubnetInfo `json:"subnets"`
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

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// state answers GET /console/api/state?region=R&account=A. Without a region
// it picks the default one (us-east-1) if it has state, else the first that
// has; without an account, the default account if it has state there, else
// the first that has.
func (c *Console) state(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	region, account := q.Get("region"), q.Get("account")
	if account != "" && !accountRE.MatchString(account) {
		writeJSONError(w, http.StatusBadRequest, "account must be 12 digits")
		return
	}
	st, err := c.snapshot(region, account)
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
func (c *Console) snapshot(region, account string) (*State, error) {
	st := &State{Regions: c.regionsWithState(), Time: time.Now().UTC()}
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
		if err := describe(tx, &st.EC2); err != nil {
			return err
		}
		st.Subnets = subnetInfo(tx, st.EC2.Subnets)
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

// describe fills e with the Describe* outputs of the transaction's account.
func describe(tx *core.Tx, e *EC2) error {
	azs, err := tx.DescribeAvailabilityZones(&ec2wire.DescribeAvailabilityZonesInput{})
	if err != nil {
		return err
	}
	e.AvailabilityZones = azs.AvailabilityZones
	vpcs, err := tx.DescribeVpcs(&ec2wire.DescribeVpcsInput{})
	if err != nil {
		return err
	}
	e.Vpcs = vpcs.Vpcs
	subnets, err := tx.DescribeSubnets(&ec2wire.DescribeSubnetsInput{})
	if err != nil {
		return err
	}
	e.Subnets = subnets.Subnets
	res, err := tx.DescribeInstances(&ec2wire.DescribeInstancesInput{})
	if err != nil {
		return err
	}
	for _, rv := range res.Reservations {
		e.Instances = append(e.Instances, rv.Instances...)
	}
	enis, err := tx.DescribeNetworkInterfaces(&ec2wire.DescribeNetworkInterfacesInput{})
	if err != nil {
		return err
	}
	e.NetworkInterfaces = enis.NetworkInterfaces
	return describeEdges(tx, e)
}

// describeEdges fills what surrounds the ENIs: addresses, groups, gateways
// and route tables.
func describeEdges(tx *core.Tx, e *EC2) error {
	addrs, err := tx.DescribeAddresses(&ec2wire.DescribeAddressesInput{})
	if err != nil {
		return err
	}
	e.Addresses = addrs.Addresses
	sgs, err := tx.DescribeSecurityGroups(&ec2wire.DescribeSecurityGroupsInput{})
	if err != nil {
		return err
	}
	e.SecurityGroups = sgs.SecurityGroups
	rules, err := tx.DescribeSecurityGroupRules(&ec2wire.DescribeSecurityGroupRulesInput{})
	if err != nil {
		return err
	}
	e.SecurityGroupRules = rules.SecurityGroupRules
	igws, err := tx.DescribeInternetGateways(&ec2wire.DescribeInternetGatewaysInput{})
	if err != nil {
		return err
	}
	e.InternetGateways = igws.InternetGateways
	rtbs, err := tx.DescribeRouteTables(&ec2wire.DescribeRouteTablesInput{})
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
