package imds_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The root lists AWS's metadata versions, and a dated one (what cloud-init asks for:
// 2021-03-23, 2018-09-24, 2009-04-04) serves the tree latest does; an unknown one is 404.
func TestMetadataVersions(t *testing.T) {
	f := newFixture(t)
	id, eni := f.launch(&ec2.RunInstancesInput{MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateOptional}})
	f.as(*eni.NetworkInterfaceId)
	st, body, _ := f.raw("GET", "/", nil)
	vs := strings.Split(body, "\n")
	if st != 200 || len(vs) < 20 || vs[0] != "1.0" || vs[len(vs)-1] != "latest" || !strings.Contains(body, "\n2009-04-04\n") || !strings.Contains(body, "\n2021-03-23\n") {
		t.Errorf("GET /: %d %q", st, body)
	}
	for _, v := range []string{"2021-03-23", "2018-09-24", "2009-04-04", "latest"} {
		if st, body, _ := f.raw("GET", "/"+v+"/meta-data/instance-id", nil); st != 200 || body != id {
			t.Errorf("GET /%s/meta-data/instance-id: %d %q, want %s", v, st, body, id)
		}
		if st, body, _ := f.raw("GET", "/"+v+"/meta-data/network/interfaces/macs/", nil); st != 200 || body != *eni.MacAddress+"/" {
			t.Errorf("GET /%s/meta-data/network/interfaces/macs/: %d %q", v, st, body)
		}
	}
	if st, body, _ := f.raw("GET", "/2021-03-23", nil); st != 200 || body != "dynamic\nmeta-data" {
		t.Errorf("GET /2021-03-23: %d %q", st, body)
	}
	for _, p := range []string{"/2099-01-01/meta-data/instance-id", "/latestx/meta-data/instance-id", "/meta-data/instance-id"} {
		if st, _, _ := f.raw("GET", p, nil); st != 404 {
			t.Errorf("GET %s: %d, want 404", p, st)
		}
	}
}
