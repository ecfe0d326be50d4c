// Package imds is the instance metadata service (IMDS) as an instance sees it at
// 169.254.169.254: the tree of paths AWS serves (built by Build, a pure function of
// the core's core.MetadataView), and the HTTP edge that answers it (Server: IMDSv1,
// IMDSv2 sessions, the instance's metadata options).
//
// The package does not decide who asks: the transport does. Server answers a
// connection only if it carries its asker's ENI (Asker), which the Linux data plane
// derives from where the packets entered (see dataplane's metadata listener), never
// from anything the instance writes into them.
package imds

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/core"
)

// Tree is one instance's metadata: leaves by path below the version ("meta-data/mac",
// "dynamic/instance-identity/document"); a directory is every path below it. lists
// holds the listings that are not the directory's entries (public-keys/ lists
// "0=<key name>").
type Tree struct {
	leaves map[string]string
	lists  map[string]string
}

// Signer signs an instance identity document.
type Signer func(doc []byte) (Signatures, error)

// Signatures are what dynamic/instance-identity/ serves of a document: signature (the
// base64 of its RSA SHA-256 signature) and pkcs7 and rsa2048 (its PKCS#7 SignedData,
// pkcs7.go; one RSA 2048-bit key makes both).
type Signatures struct{ Signature, PKCS7 string }

// Build is the tree of v. sign, if set, signs the identity document.
func Build(v core.MetadataView, sign Signer) Tree {
	t := Tree{leaves: map[string]string{}, lists: map[string]string{}}
	md := func(path, val string) {
		if val != "" {
			t.leaves["meta-data/"+path] = val
		}
	}
	md("ami-id", v.ImageID)
	md("ami-launch-index", strconv.Itoa(int(v.LaunchIndex)))
	md("hostname", v.PrivateDNS)
	md("instance-id", v.InstanceID)
	md("instance-life-cycle", "on-demand")
	md("instance-type", v.InstanceType)
	md("local-hostname", v.PrivateDNS)
	md("local-ipv4", v.PrivateIP)
	md("mac", v.MAC)
	md("ipv6", v.IPv6)
	md("public-ipv4", v.PublicIP)
	md("public-hostname", v.PublicDNS)
	md("placement/availability-zone", v.AZ)
	md("placement/availability-zone-id", v.AZID)
	md("placement/region", v.Region)
	md("reservation-id", v.ReservationID)
	md("security-groups", lines(v.SecurityGroups))
	md("services/domain", "amazonaws.com")
	md("services/partition", "aws")
	if v.PublicKey != "" {
		md("public-keys/0/openssh-key", opensshKey(v.PublicKey, v.KeyName))
		t.lists["meta-data/public-keys"] = "0=" + v.KeyName
	}
	for _, ni := range v.Interfaces {
		addInterface(t, ni)
	}
	if v.UserData != "" {
		ud, err := base64.StdEncoding.DecodeString(v.UserData)
		if err != nil {
			ud = []byte(v.UserData) // as given, when a client did not encode it
		}
		t.leaves["user-data"] = string(ud)
	}
	doc := identityDocument(v)
	t.leaves["dynamic/instance-identity/document"] = doc
	if sign != nil {
		if sig, err := sign([]byte(doc)); err == nil {
			t.leaves["dynamic/instance-identity/signature"] = sig.Signature
			t.leaves["dynamic/instance-identity/pkcs7"] = sig.PKCS7
			t.leaves["dynamic/instance-identity/rsa2048"] = sig.PKCS7
		}
	}
	return t
}

// addInterface adds network/interfaces/macs/<mac>/: AWS lists only the entries that
// have a value (no ipv6s without IPv6 addresses, no public-ipv4s without one).
func addInterface(t Tree, ni core.MetadataInterface) {
	dir := "meta-data/network/interfaces/macs/" + ni.MAC + "/"
	put := func(path, val string) {
		if val != "" {
			t.leaves[dir+path] = val
		}
	}
	put("device-number", strconv.Itoa(int(ni.DeviceNumber)))
	put("network-card", strconv.Itoa(int(ni.NetworkCard)))
	put("interface-id", ni.ID)
	put("local-hostname", ni.LocalHostname)
	put("local-ipv4s", lines(ni.LocalIPv4s))
	put("mac", ni.MAC)
	put("owner-id", ni.OwnerID)
	put("public-hostname", ni.PublicHostname)
	put("public-ipv4s", lines(ni.PublicIPv4s))
	for _, pub := range slices.Sorted(maps.Keys(ni.IPv4Associations)) {
		put("ipv4-associations/"+pub, ni.IPv4Associations[pub])
	}
	put("ipv6s", lines(ni.IPv6s))
	put("ipv4-prefix", lines(ni.IPv4Prefixes))
	put("ipv6-prefix", lines(ni.IPv6Prefixes))
	put("security-group-ids", lines(ni.SecurityGroupIDs))
	put("security-groups", lines(ni.SecurityGroupNames))
	put("subnet-id", ni.SubnetID)
	put("subnet-ipv4-cidr-block", ni.SubnetIPv4CIDR)
	put("subnet-ipv6-cidr-blocks", lines(ni.SubnetIPv6CIDRs))
	put("vpc-id", ni.VpcID)
	put("vpc-ipv4-cidr-block", ni.VpcIPv4CIDR)
	put("vpc-ipv4-cidr-blocks", lines(ni.VpcIPv4CIDRs))
	put("vpc-ipv6-cidr-blocks", lines(ni.VpcIPv6CIDRs))
}

// lines is AWS's form of a list value: one per line, no final newline.
func lines(vs []string) string { return strings.Join(vs, "\n") }

// opensshKey is the authorized_keys line of a key pair as IMDS serves it: type, key,
// and the key pair's name as comment.
func opensshKey(public, name string) string {
	f := strings.Fields(public)
	if len(f) < 2 {
		return public
	}
	return f[0] + " " + f[1] + " " + name
}

// identityDocument is AWS's instance identity document: its fields in AWS's order,
// "key" : value, two spaces of indent.
func identityDocument(v core.MetadataView) string {
	q := func(s string) string {
		b, _ := json.Marshal(s) // a string always marshals
		return string(b)
	}
	var pending string
	if !v.PendingTime.IsZero() {
		pending = q(v.PendingTime.UTC().Format("2006-01-02T15:04:05Z"))
	} else {
		pending = "null"
	}
	fields := []struct{ k, v string }{
		{"accountId", q(v.AccountID)}, {"architecture", q(v.Architecture)}, {"availabilityZone", q(v.AZ)},
		{"billingProducts", "null"}, {"devpayProductCodes", "null"}, {"marketplaceProductCodes", "null"},
		{"imageId", q(v.ImageID)}, {"instanceId", q(v.InstanceID)}, {"instanceType", q(v.InstanceType)},
		{"kernelId", "null"}, {"pendingTime", pending}, {"privateIp", q(v.PrivateIP)}, {"ramdiskId", "null"},
		{"region", q(v.Region)}, {"version", q("2017-09-30")},
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range fields {
		b.WriteString("  " + q(f.k) + " : " + f.v)
		if i < len(fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}")
	return b.String()
}

// Get returns what path (below the version, without a leading slash; "" is the
// version's root) holds: a leaf's content or a directory's listing (entries sorted,
// directories with a trailing slash). ok is false when nothing is there.
func (t Tree) Get(path string) (body string, ok bool) {
	path = strings.TrimSuffix(path, "/")
	if v, ok := t.leaves[path]; ok {
		return v, true
	}
	if l, ok := t.lists[path]; ok {
		return l, true
	}
	prefix := path + "/"
	if path == "" {
		prefix = ""
	}
	seen := map[string]bool{}
	var names []string
	for p := range t.leaves {
		rest, found := strings.CutPrefix(p, prefix)
		if !found || rest == "" {
			continue
		}
		name := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			name = rest[:i+1]
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", false
	}
	slices.Sort(names)
	if path == "" { // the version's root lists its parts without slashes, as AWS does
		for i, n := range names {
			names[i] = strings.TrimSuffix(n, "/")
		}
	}
	return strings.Join(names, "\n"), true
}
