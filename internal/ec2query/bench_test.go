package ec2query

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

func BenchmarkDecode(b *testing.B) {
	b.Run("CreateNetworkInterface", func(b *testing.B) {
		params := map[string][]string{
			"Action":                          {"CreateNetworkInterface"},
			"Version":                         {"2016-11-15"},
			"SubnetId":                        {"subnet-0123456789abcdef0"},
			"Description":                     {"bench"},
			"SecurityGroupId.1":               {"sg-0123456789abcdef0"},
			"TagSpecification.1.ResourceType": {"network-interface"},
			"TagSpecification.1.Tag.1.Key":    {"eni-bench-group"},
			"TagSpecification.1.Tag.1.Value":  {"run1-g7"},
		}
		b.ReportAllocs()
		for b.Loop() {
			var in ec2wire.CreateNetworkInterfaceInput
			if err := Decode(params, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RunInstances", func(b *testing.B) {
		params := map[string][]string{
			"Action":                               {"RunInstances"},
			"Version":                              {"2016-11-15"},
			"ImageId":                              {"ami-12345678"},
			"InstanceType":                         {"m5.large"},
			"MinCount":                             {"1"},
			"MaxCount":                             {"1"},
			"NetworkInterface.1.DeviceIndex":       {"0"},
			"NetworkInterface.1.SubnetId":          {"subnet-0123456789abcdef0"},
			"NetworkInterface.1.SecurityGroupId.1": {"sg-0123456789abcdef0"},
			"NetworkInterface.1.AssociatePublicIpAddress":       {"true"},
			"NetworkInterface.1.DeleteOnTermination":            {"true"},
			"NetworkInterface.1.SecondaryPrivateIpAddressCount": {"2"},
			"TagSpecification.1.ResourceType":                   {"instance"},
			"TagSpecification.1.Tag.1.Key":                      {"Name"},
			"TagSpecification.1.Tag.1.Value":                    {"web"},
			"ClientToken":                                       {"7c1a7d3e-2b1c-4a8e-9d3f-0123456789ab"},
		}
		b.ReportAllocs()
		for b.Loop() {
			var in ec2wire.RunInstancesInput
			if err := Decode(params, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchStr(s string) *string { return &s }

// benchENIs returns n ENIs as DescribeNetworkInterfaces renders them.
func benchENIs(n int) []ec2wire.NetworkInterface {
	t := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	out := make([]ec2wire.NetworkInterface, n)
	for i := range out {
		ip := fmt.Sprintf("10.0.%d.%d", i/250, 4+i%250)
		tr, fa := true, false
		dev := int32(1)
		out[i] = ec2wire.NetworkInterface{
			NetworkInterfaceId: benchStr(fmt.Sprintf("eni-%017x", i)), SubnetId: benchStr("subnet-0123456789abcdef0"),
			VpcId: benchStr("vpc-0123456789abcdef0"), AvailabilityZone: benchStr("us-east-1a"),
			Description: benchStr("bench <&> \"q\""), InterfaceType: benchStr("interface"),
			Groups:     []ec2wire.GroupIdentifier{{GroupId: benchStr("sg-0123456789abcdef0"), GroupName: benchStr("default")}},
			MacAddress: benchStr("02:00:00:00:01:02"), OwnerId: benchStr("123456789012"), RequesterId: benchStr("123456789012"),
			RequesterManaged: &fa, SourceDestCheck: &tr, Status: benchStr("available"),
			TagSet:           []ec2wire.Tag{{Key: benchStr("eni-bench-group"), Value: benchStr("run1-g7")}},
			PrivateIpAddress: benchStr(ip), PrivateDnsName: benchStr("ip-" + ip + ".ec2.internal"),
			PrivateIpAddresses: []ec2wire.NetworkInterfacePrivateIpAddress{{
				PrivateIpAddress: benchStr(ip), PrivateDnsName: benchStr("ip-" + ip + ".ec2.internal"), Primary: &tr,
			}},
		}
		if i%3 == 0 {
			out[i].Attachment = &ec2wire.NetworkInterfaceAttachment{
				AttachTime: ec2wire.NewTime(t), AttachmentId: benchStr("eni-attach-0123456789abcdef0"), DeleteOnTermination: &fa,
				DeviceIndex: &dev, InstanceId: benchStr("i-0123456789abcdef0"), InstanceOwnerId: benchStr("123456789012"),
				NetworkCardIndex: new(int32), Status: benchStr("attached"),
			}
			out[i].Status = benchStr("in-use")
			out[i].Association = &ec2wire.NetworkInterfaceAssociation{IpOwnerId: benchStr("amazon"), PublicIp: benchStr("198.51.100.7"), PublicDnsName: benchStr("ec2-198-51-100-7.compute-1.amazonaws.com")}
		}
	}
	return out
}

// BenchmarkEncodeDescribeNetworkInterfaces compares Encode with the
// encoding/xml reference it reproduces (run side by side: the machine's
// load varies more than the difference between runs).
func BenchmarkEncodeDescribeNetworkInterfaces(b *testing.B) {
	out := &ec2wire.DescribeNetworkInterfacesOutput{NetworkInterfaces: benchENIs(100)}
	for _, enc := range []struct {
		name string
		fn   func(buf *bytes.Buffer) error
	}{
		{"fast", func(buf *bytes.Buffer) error {
			return Encode(buf, "DescribeNetworkInterfaces", "0b7e5b43-6a5c-4d1e-8f2a-0123456789ab", out)
		}},
		{"encoding-xml", func(buf *bytes.Buffer) error { return encodeXML(buf, "DescribeNetworkInterfaces", out) }},
	} {
		b.Run(enc.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := enc.fn(&buf); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}
