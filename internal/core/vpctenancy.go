package core

import "github.com/eni-net/eni/internal/ec2wire"

// ModifyVpcTenancy changes a VPC's instance tenancy. As AWS, the only change
// there is goes from dedicated to default (instances launched later get
// default tenancy; running ones keep theirs); a VPC of default tenancy
// stays so.
func (tx *Tx) ModifyVpcTenancy(in *ec2wire.ModifyVpcTenancyInput) (*ec2wire.ModifyVpcTenancyOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	if t := str(in.InstanceTenancy); t != "default" {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter instanceTenancy is invalid. The only valid value is 'default'.", t)
	}
	if v.InstanceTenancy != "default" {
		tx.vpcs.Mut(v.ID).InstanceTenancy = "default"
	}
	return &ec2wire.ModifyVpcTenancyOutput{ReturnValue: p(true)}, nil
}
