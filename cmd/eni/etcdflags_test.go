package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eni serve --store etcd refuses flags it cannot use, naming the flag,
// before it dials anything.
func TestServeEtcdFlags(t *testing.T) {
	t.Setenv("ETCD_ENDPOINTS", "")
	t.Setenv("ETCDCTL_ENDPOINTS", "")
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", "etcd"}, "--store etcd needs --etcd-endpoints"},
		{[]string{"--store", "zookeeper"}, `--store "zookeeper": bolt or etcd`},
		{[]string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-password", "x"}, "--etcd-password without --etcd-user"},
		{[]string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-cacert", notPEM}, "no PEM certificate in it"},
		{[]string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-cert", notPEM}, "--etcd-cert and --etcd-key go together"},
		{[]string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-prefix", "eni"}, `--etcd-prefix "eni": begin and end it with /`},
	} {
		args := append([]string{"--data", "", "--listen", "127.0.0.1:0"}, c.args...)
		err := serve(args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	// USER:PASSWORD in --etcd-user, as etcdctl takes it; else $ETCD_PASSWORD.
	t.Setenv("ETCD_PASSWORD", "from-env")
	for _, c := range []struct{ user, flagPass, wantUser, wantPass string }{
		{"root:secret", "", "root", "secret"},
		{"root", "", "root", "from-env"},
		{"root", "flag", "root", "flag"},
	} {
		ep, u, p := "http://127.0.0.1:1", c.user, c.flagPass
		f := &etcdFlags{endpoints: &ep, user: &u, password: &p, cacert: new(string), cert: new(string), key: new(string), prefix: ptr("/eni/"), maxTxnOps: ptr(128)}
		cfg, err := f.config()
		if err != nil || cfg.Client3.Username != c.wantUser || cfg.Client3.Password != c.wantPass {
			t.Errorf("%+v: %q %q %v", c, cfg.Client3.Username, cfg.Client3.Password, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
