package core

// Test hooks: exported so that the API tests (another package) can set up
// records that other work packages' actions will create once they exist.
// They bypass every rule; never call them from the product.

// PutInstanceForTest stores an instance of the caller's account.
func (tx *Tx) PutInstanceForTest(id, typ, az, subnetID, vpcID, state string) {
	tx.instances.Put(&Instance{
		ID: id, Owner: tx.Account, InstanceType: typ, AZ: az, SubnetID: subnetID, VpcID: vpcID,
		State: state, LaunchTime: tx.Now(), ImageID: "ami-00000000",
	})
}

// PutSubnetForTest stores a subnet of the caller's account (ipv6Cidr may be "").
func (tx *Tx) PutSubnetForTest(id, vpcID, az, cidr, ipv6Cidr string) {
	tx.subnets.Put(&Subnet{ID: id, Owner: tx.Account, VpcID: vpcID, AZ: az, CidrBlock: cidr, Ipv6CidrBlock: ipv6Cidr})
}

// PutGroupForTest stores a security group without rules.
func (tx *Tx) PutGroupForTest(id, vpcID, name string) {
	tx.groups.Put(&SecurityGroup{ID: id, Owner: tx.Account, VpcID: vpcID, Name: name, Description: name})
}

// SetRequesterManagedForTest marks an ENI as created by a service.
func (tx *Tx) SetRequesterManagedForTest(eniID string) {
	if e := tx.enis.Mut(eniID); e != nil {
		e.RequesterManaged = true
		e.RequesterID = "amazon-elb"
	}
}
