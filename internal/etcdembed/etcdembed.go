// Package etcdembed starts embedded etcd members (go.etcd.io/etcd/server/v3/embed)
// on loopback ports: for tests (internal/etcdtest) and `eni dev-cluster`.
package etcdembed

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// MaxTxnOps is the members' --max-txn-ops: room for the largest change
// sets of the tests (etcd's default is 128).
const MaxTxnOps = 4096

// Cluster is a running embedded etcd cluster.
type Cluster struct {
	Members   []*embed.Etcd
	Endpoints []string // client URLs, one per member
	stopped   map[*embed.Etcd]bool
}

// Start starts an n-member cluster whose members keep their data in dir.
func Start(dir string, n int) (*Cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, ports[2*i+1]))
	}
	c := &Cluster{}
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]))
		pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]))
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = "etcdembed"
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop()) // its shutdown "errors" too
		cfg.MaxTxnOps = MaxTxnOps
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Members = append(c.Members, e)
		c.Endpoints = append(c.Endpoints, cu.String())
	}
	for _, e := range c.Members {
		select {
		case <-e.Server.ReadyNotify():
		case <-time.After(60 * time.Second):
			c.Close()
			return nil, fmt.Errorf("etcd member %s not ready after 60s", e.Config().Name)
		}
	}
	return c, nil
}

// Stop stops member i (a member lost); Close skips it.
func (c *Cluster) Stop(i int) {
	if c.stopped == nil {
		c.stopped = map[*embed.Etcd]bool{}
	}
	if m := c.Members[i]; !c.stopped[m] {
		c.stopped[m] = true
		m.Close()
	}
}

// Close stops every member still running.
func (c *Cluster) Close() {
	for _, e := range c.Members {
		if !c.stopped[e] {
			e.Close()
		}
	}
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
