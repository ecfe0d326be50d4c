package core

// Lookups by id: a malformed id and an id that does not exist (or belongs to
// another account) give the AWS error codes of the resource type.

func (tx *Tx) getVPC(id string) (*VPC, error) {
	if !validID(id, "vpc") {
		return nil, errorf(CodeInvalidVpcIDMalformed, "Invalid id: \"%s\" (expecting \"vpc-...\")", id)
	}
	v := tx.vpcs.Get(id)
	if v == nil || v.Owner != tx.Account {
		return nil, errorf(CodeInvalidVpcIDNotFound, "The vpc ID '%s' does not exist", id)
	}
	return v, nil
}

func (tx *Tx) getSubnet(id string) (*Subnet, error) {
	if !validID(id, "subnet") {
		return nil, errorf(CodeInvalidSubnetIDMalformed, "Invalid id: \"%s\" (expecting \"subnet-...\")", id)
	}
	s := tx.subnets.Get(id)
	if s == nil || s.Owner != tx.Account {
		return nil, errorf(CodeInvalidSubnetIDNotFound, "The subnet ID '%s' does not exist", id)
	}
	return s, nil
}

func (tx *Tx) getGroup(id string) (*SecurityGroup, error) {
	if !validID(id, "sg") {
		return nil, errorf(CodeInvalidGroupIDMalformed, "Invalid id: \"%s\" (expecting \"sg-...\")", id)
	}
	g := tx.groups.Get(id)
	if g == nil || g.Owner != tx.Account {
		return nil, errorf(CodeInvalidGroupNotFound, "The security group '%s' does not exist", id)
	}
	return g, nil
}

func (tx *Tx) getENI(id string) (*ENI, error) {
	if !validID(id, "eni") {
		return nil, errorf(CodeInvalidENIMalformed, "Invalid id: \"%s\" (expecting \"eni-...\")", id)
	}
	e := tx.enis.Get(id)
	if e == nil || e.Owner != tx.Account {
		return nil, errorf(CodeInvalidENINotFound, "The networkInterface ID '%s' does not exist", id)
	}
	return e, nil
}

func (tx *Tx) getInstance(id string) (*Instance, error) {
	if !validID(id, "i") {
		return nil, errorf(CodeInvalidInstanceIDMalformed, "Invalid id: \"%s\" (expecting \"i-...\")", id)
	}
	i := tx.instances.Get(id)
	if i == nil || i.Owner != tx.Account {
		return nil, errorf(CodeInvalidInstanceIDNotFound, "The instance ID '%s' does not exist", id)
	}
	return i, nil
}

func (tx *Tx) getAddress(allocID string) (*Address, error) {
	if !validID(allocID, "eipalloc") {
		return nil, errorf(CodeInvalidAllocationIDMalformed, "Invalid id: \"%s\" (expecting \"eipalloc-...\")", allocID)
	}
	a := tx.addresses.Get(allocID)
	if a == nil || a.Owner != tx.Account {
		return nil, errorf(CodeInvalidAllocationIDNotFound, "The allocation ID '%s' does not exist", allocID)
	}
	return a, nil
}

func (tx *Tx) getIGW(id string) (*InternetGateway, error) {
	if !validID(id, "igw") {
		return nil, errorf(CodeInvalidIGWIDMalformed, "Invalid id: \"%s\" (expecting \"igw-...\")", id)
	}
	g := tx.igws.Get(id)
	if g == nil || g.Owner != tx.Account {
		return nil, errorf(CodeInvalidIGWIDNotFound, "The internetGateway ID '%s' does not exist", id)
	}
	return g, nil
}

func (tx *Tx) getRouteTable(id string) (*RouteTable, error) {
	if !validID(id, "rtb") {
		return nil, errorf(CodeInvalidRouteTableIDMalformed, "Invalid id: \"%s\" (expecting \"rtb-...\")", id)
	}
	r := tx.rtbs.Get(id)
	if r == nil || r.Owner != tx.Account {
		return nil, errorf(CodeInvalidRouteTableIDNotFound, "The routeTable ID '%s' does not exist", id)
	}
	return r, nil
}

// enisOfInstance returns the ENIs attached to an instance, by device index.
func (tx *Tx) enisOfInstance(instanceID string) []*ENI {
	var ids []string
	for id := range tx.db.idx.byInstance[instanceID] {
		ids = append(ids, id)
	}
	out := tx.enis.Pick(ids, func(e *ENI) bool { return e.Attachment != nil && e.Attachment.InstanceID == instanceID })
	sortByDevice(out)
	return out
}

// enisOfSubnet returns the ENIs in a subnet.
func (tx *Tx) enisOfSubnet(subnetID string) []*ENI {
	var ids []string
	for id := range tx.db.idx.bySubnet[subnetID] {
		ids = append(ids, id)
	}
	return tx.enis.Pick(ids, func(e *ENI) bool { return e.SubnetID == subnetID })
}

func sortByDevice(es []*ENI) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Attachment.DeviceIndex < es[j-1].Attachment.DeviceIndex; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}
