package ec2query

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// FuzzDecode feeds arbitrary Query parameter maps (a form-encoded string, as
// the API layer parses it from the body and URL) to Decode for a few generated
// input types with nested lists, structures, enums, numbers, booleans and
// times. Decode must never panic, and every failure must be an *Error with
// one of the codes it documents. A successful decode must also encode.
//
// Seeds live in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(0), "SubnetId=subnet-1&SecurityGroupId.1=sg-a&PrivateIpAddresses.1.PrivateIpAddress=10.0.0.9&PrivateIpAddresses.1.Primary=true&SecondaryPrivateIpAddressCount=2&TagSpecification.1.ResourceType=network-interface&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web")
	f.Add(uint8(1), "ImageId=ami-1&MinCount=1&MaxCount=2&InstanceType=t3.micro&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SubnetId=subnet-1&NetworkInterface.1.PrivateIpAddresses.1.PrivateIpAddress=10.0.0.5&NetworkInterface.1.PrivateIpAddresses.1.Primary=true&BlockDeviceMapping.1.Ebs.VolumeSize=8")
	f.Add(uint8(2), "Filter.1.Name=attachment.instance-id&Filter.1.Value.1=i-1&Filter.1.Value.2=i-*&MaxResults=5&NextToken=abc&NetworkInterfaceId.1=eni-1")
	f.Add(uint8(3), "NetworkInterfaceId=eni-1&SourceDestCheck.Value=false&SecurityGroupId.1=sg-1&Attachment.AttachmentId=eni-attach-1&Attachment.DeleteOnTermination=true")
	f.Add(uint8(4), "GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0&IpPermissions.1.Groups.1.GroupId=sg-2")
	f.Add(uint8(1), "MinCount=99999999999999999999&MaxCount=-1&DryRun=maybe&NetworkInterface.1001.DeviceIndex=0")
	f.Add(uint8(0), "SubnetId=a&SubnetId=b&SecurityGroupId=sg&Foo.1.Bar=1&TagSpecification.0.Tag.1.Key=x")
	f.Fuzz(func(t *testing.T, kind uint8, form string) {
		params, _ := url.ParseQuery(form) // the server rejects unparsable bodies earlier; keep what parses
		var dst any
		switch kind % 5 {
		case 0:
			dst = new(ec2wire.CreateNetworkInterfaceInput)
		case 1:
			dst = new(ec2wire.RunInstancesInput)
		case 2:
			dst = new(ec2wire.DescribeNetworkInterfacesInput)
		case 3:
			dst = new(ec2wire.ModifyNetworkInterfaceAttributeInput)
		case 4:
			dst = new(ec2wire.AuthorizeSecurityGroupIngressInput)
		}
		err := Decode(params, dst)
		if err != nil {
			qe, ok := err.(*Error)
			if !ok {
				t.Fatalf("Decode error %v is a %T, want *ec2query.Error", err, err)
			}
			switch qe.Code {
			case "InvalidParameterValue", "MissingParameter", "UnknownParameter":
			default:
				t.Fatalf("Decode error code %q (%s)", qe.Code, qe.Message)
			}
			return
		}
		// What decodes must encode (as an output shape, the same tags apply).
		var buf bytes.Buffer
		if err := Encode(&buf, "Fuzz", "req-1", dst); err != nil {
			t.Fatalf("Encode of a decoded input: %v", err)
		}
	})
}
