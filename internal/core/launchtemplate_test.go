package core

import (
	"reflect"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// fillAll sets every member of v, at every depth, to a value that is not
// zero (one item per list).
func fillAll(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		n := reflect.New(v.Type().Elem())
		fillAll(n.Elem(), depth+1)
		v.Set(n)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillAll(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && depth < 8 {
				fillAll(v.Field(i), depth+1)
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(7)
	}
}

// Every parameter a template stores is shown by DescribeLaunchTemplateVersions:
// the response shape, turned back into the request shape, is what was given.
func TestLaunchTemplateDataShownWhole(t *testing.T) {
	var in ec2wire.RequestLaunchTemplateData
	fillAll(reflect.ValueOf(&in).Elem(), 0)
	lt := &LaunchTemplate{ID: "lt-0123456789abcdef0", Name: "n", DefaultVersion: 1, Versions: []LaunchTemplateVersion{{Number: 1, Data: in}}}
	out := launchTemplateVersionOut(lt, &lt.Versions[0])
	ov := reflect.ValueOf(out.LaunchTemplateData).Elem()
	for i := range ov.NumField() {
		if ov.Field(i).IsZero() {
			t.Errorf("response member %s is not shown", ov.Type().Field(i).Name)
		}
	}
	var back ec2wire.RequestLaunchTemplateData
	copyByName(reflect.ValueOf(&back).Elem(), reflect.ValueOf(*out.LaunchTemplateData))
	bv, iv := reflect.ValueOf(back), reflect.ValueOf(in)
	for i := range iv.NumField() {
		if !reflect.DeepEqual(bv.Field(i).Interface(), iv.Field(i).Interface()) {
			t.Errorf("member %s changed on the way: %#v", iv.Type().Field(i).Name, bv.Field(i).Interface())
		}
	}
}

// RunInstances' parameters override the template's; lists merge by item.
func TestMergeRunInput(t *testing.T) {
	tag := func(k, v string) ec2wire.Tag { return ec2wire.Tag{Key: p(k), Value: p(v)} }
	from := ec2wire.RunInstancesInput{
		ImageId: p("ami-11111111"), InstanceType: p("t3.micro"), KeyName: p("k"),
		TagSpecifications: []ec2wire.TagSpecification{{ResourceType: p("instance"), Tags: []ec2wire.Tag{tag("Name", "a"), tag("Owner", "lt")}},
			{ResourceType: p("volume"), Tags: []ec2wire.Tag{tag("v", "1")}}},
		BlockDeviceMappings: []ec2wire.BlockDeviceMapping{{DeviceName: p("/dev/xvdb"), NoDevice: p("")}, {DeviceName: p("/dev/xvdc")}},
		NetworkInterfaces:   []ec2wire.InstanceNetworkInterfaceSpecification{{DeviceIndex: p(int32(0)), Description: p("lt0")}, {DeviceIndex: p(int32(1)), Description: p("lt1")}},
	}
	given := ec2wire.RunInstancesInput{
		InstanceType:        p("m5.large"),
		TagSpecifications:   []ec2wire.TagSpecification{{ResourceType: p("instance"), Tags: []ec2wire.Tag{tag("Owner", "TeamA"), tag("x", "y")}}},
		BlockDeviceMappings: []ec2wire.BlockDeviceMapping{{DeviceName: p("/dev/xvdb"), VirtualName: p("given")}},
		NetworkInterfaces:   []ec2wire.InstanceNetworkInterfaceSpecification{{DeviceIndex: p(int32(1)), Description: p("given1")}},
	}
	out := mergeRunInput(given, from)
	if str(out.ImageId) != "ami-11111111" || str(out.InstanceType) != "m5.large" || str(out.KeyName) != "k" {
		t.Errorf("scalars: image %s type %s key %s", str(out.ImageId), str(out.InstanceType), str(out.KeyName))
	}
	inst, err := tagSpecsFor(out.TagSpecifications, "instance")
	if err != nil || len(inst) != 3 || inst["Name"] != "a" || inst["Owner"] != "TeamA" || inst["x"] != "y" {
		t.Errorf("instance tags %v %v", inst, err)
	}
	if vol, _ := tagSpecsFor(out.TagSpecifications, "volume"); vol["v"] != "1" {
		t.Errorf("volume tags %v", vol)
	}
	if len(out.BlockDeviceMappings) != 2 || str(out.BlockDeviceMappings[0].VirtualName) != "given" || str(out.BlockDeviceMappings[1].DeviceName) != "/dev/xvdc" {
		t.Errorf("block devices %+v", out.BlockDeviceMappings)
	}
	if len(out.NetworkInterfaces) != 2 || str(out.NetworkInterfaces[0].Description) != "lt0" || str(out.NetworkInterfaces[1].Description) != "given1" {
		t.Errorf("interfaces %+v", out.NetworkInterfaces)
	}
	// The template's own data is not changed by a launch.
	if str(from.TagSpecifications[0].Tags[1].Value) != "lt" || str(from.NetworkInterfaces[1].Description) != "lt1" {
		t.Errorf("template data changed: %+v", from)
	}
}
