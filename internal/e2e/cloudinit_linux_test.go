package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// cloudInitReply is what testdata/cloudinit_ec2.py prints.
type cloudInitReply struct {
	GetData          bool   `json:"get_data"`
	CloudName        string `json:"cloud_name"`
	MetadataAddress  string `json:"metadata_address"`
	APIVersion       string `json:"api_version"`
	Token            bool   `json:"token"`
	InstanceID       string `json:"instance_id"`
	AvailabilityZone string `json:"availability_zone"`
	Region           string `json:"region"`
	LocalHostname    string `json:"local_hostname"`
	Classic          bool   `json:"classic"`
	MACs             map[string]struct {
		DeviceNumber string `json:"device-number"`
		InterfaceID  string `json:"interface-id"`
		LocalIPv4s   any    `json:"local-ipv4s"` // a list when there are more than one
		SubnetCIDR   string `json:"subnet-ipv4-cidr-block"`
		VpcID        string `json:"vpc-id"`
	} `json:"macs"`
	NetworkConfig map[string]any `json:"network_config"`
}

// TestCloudInitEC2DataSource: cloud-init's EC2 data source (Debian's cloud-init
// package, its DataSourceEc2 code as at boot, not a whole boot) run inside a two-ENI
// instance with IMDSv2 required: it finds the metadata service at 169.254.169.254,
// takes a session token, picks the 2021-03-23 metadata version, crawls the tree, and
// derives from it the network configuration AWS's instances get: both MACs matched to
// eth0 and eth1 by the instance's own /sys, DHCP on each with the device-number's route
// metric, eth1's secondary address as a static one with its subnet's prefix.
func TestCloudInitEC2DataSource(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import cloudinit.sources.DataSourceEc2").Run(); err != nil {
		missing(t, "Debian's cloud-init is not installed (/usr/bin/python3: import cloudinit.sources.DataSourceEc2: "+err.Error()+")")
	}
	script, err := filepath.Abs("testdata/cloudinit_ec2.py")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	out, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet),
		MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired}})
	e.must(err)
	inst := *out.Instances[0].InstanceId
	e.waitRunning(inst)
	eth0 := e.primaryENI(inst)
	eth1 := e.createENI(subnet)
	e.attach(*eth1.NetworkInterfaceId, inst, 1)
	as, err := e.ec2.AssignPrivateIpAddresses(ctx(), &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: eth1.NetworkInterfaceId,
		SecondaryPrivateIpAddressCount: aws.Int32(1)})
	e.must(err)
	secondary := *as.AssignedPrivateIpAddresses[0].PrivateIpAddress
	ns := e.plane.InstanceNS(inst)
	e.waitFor("eth1 in "+inst, func() (bool, string) { _, ok := e.ifaceIn(ns, "eth1"); return ok, "" })

	cmd := exec.Command(eniBinary(t), "exec", "--prefix", e.prefix, "--endpoint", e.api.Server.URL, inst, "--", "/usr/bin/python3", script)
	cmd.Env = append(os.Environ(), "AWS_REGION=us-east-1", "TMPDIR="+t.TempDir()) // the script's run_dir, should it be killed
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("cloud-init's data source: %v\n%s", err, tail(stderr.String(), 4000))
	}
	var r cloudInitReply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("cloud-init's data source printed %q: %v", raw, err)
	}
	if !r.GetData || r.CloudName != "aws" || r.MetadataAddress != "http://169.254.169.254" || !r.Token || r.APIVersion != "2021-03-23" {
		t.Fatalf("get_data %v cloud %q address %q token %v version %q\n%s", r.GetData, r.CloudName, r.MetadataAddress, r.Token, r.APIVersion, tail(stderr.String(), 4000))
	}
	ip0 := *eth0.PrivateIpAddress
	if r.InstanceID != inst || r.AvailabilityZone != testAZ || r.Region != "us-east-1" || r.Classic ||
		r.LocalHostname != "ip-"+dashed(ip0)+".ec2.internal" {
		t.Errorf("identity: %+v", r)
	}
	mac0, mac1 := *eth0.MacAddress, *eth1.MacAddress
	if len(r.MACs) != 2 {
		t.Fatalf("macs: %+v, want %s and %s", r.MACs, mac0, mac1)
	}
	for mac, want := range map[string]struct {
		dev, id string
		ips     any
	}{mac0: {"0", *eth0.NetworkInterfaceId, ip0}, mac1: {"1", *eth1.NetworkInterfaceId, []any{*eth1.PrivateIpAddress, secondary}}} {
		m := r.MACs[mac]
		if m.DeviceNumber != want.dev || m.InterfaceID != want.id || !reflect.DeepEqual(m.LocalIPv4s, want.ips) ||
			m.SubnetCIDR != "10.0.1.0/24" || m.VpcID != vpc {
			t.Errorf("macs/%s: %+v, want device %s, %s, addresses %v", mac, m, want.dev, want.id, want.ips)
		}
	}
	wantNet := map[string]any{"version": 2.0, "ethernets": map[string]any{
		"eth0": map[string]any{"dhcp4": true, "dhcp4-overrides": map[string]any{"route-metric": 100.0}, "dhcp6": false,
			"match": map[string]any{"macaddress": mac0}, "set-name": "eth0"},
		"eth1": map[string]any{"dhcp4": true, "dhcp4-overrides": map[string]any{"route-metric": 200.0}, "dhcp6": false,
			"match": map[string]any{"macaddress": mac1}, "set-name": "eth1", "addresses": []any{secondary + "/24"}},
	}}
	if !reflect.DeepEqual(r.NetworkConfig, wantNet) {
		got, _ := json.MarshalIndent(r.NetworkConfig, "", " ")
		want, _ := json.MarshalIndent(wantNet, "", " ")
		t.Errorf("network_config:\n%s\nwant\n%s", got, want)
	}
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	lines := strings.Split(s[len(s)-n:], "\n")
	return strings.Join(slices.Clip(lines[1:]), "\n")
}
