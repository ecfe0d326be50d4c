package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2wire"
)

// BenchmarkBoltCommitBatch commits one-record change sets from c concurrent
// writers, as c API requests would: group commit puts up to c of them in one
// bbolt transaction (one fsync). It reports the change sets per batch.
func BenchmarkBoltCommitBatch(b *testing.B) {
	for _, c := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("writers=%d", c), func(b *testing.B) {
			s, err := OpenBolt(filepath.Join(b.TempDir(), "eni.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			val := make([]byte, 600)
			var n atomic.Int64
			start := s.Batches()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range c {
				wg.Go(func() {
					for {
						i := n.Add(1)
						if i > int64(b.N) {
							return
						}
						wait, err := s.Commit(core.ChangeSet{Changes: []core.Change{{Kind: "eni", Key: fmt.Sprintf("r/eni-%d", i), Value: val}}})
						if err != nil {
							b.Error(err)
							return
						}
						if err := wait(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			n.Store(int64(b.N))
			if batches := s.Batches() - start; batches > 0 {
				b.ReportMetric(float64(n.Load())/float64(batches), "sets/batch")
			}
		})
	}
}

// benchStoreFile writes a bbolt file holding a region with n ENIs (tagged,
// in /16 subnets), made by the core, and returns its path.
func benchStoreFile(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "eni.db")
	c := core.New(core.Env{Now: time.Now, Rand: rand.NewChaCha8([32]byte{7})}, core.DefaultConfig())
	var all []core.Change
	collect := func(cs core.ChangeSet) (func() error, error) {
		all = append(all, cs.Changes...)
		return nil, nil
	}
	who := core.Caller{Account: c.Config().DefaultAccount, Region: "us-east-1"}
	var subnet string
	for i := range n {
		if i%60000 == 0 {
			err := c.Write(who, false, collect, func(tx *core.Tx) error {
				cidr := fmt.Sprintf("10.%d.0.0/16", i/60000+1)
				v, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: &cidr})
				if err != nil {
					return err
				}
				s, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: &cidr})
				if err != nil {
					return err
				}
				subnet = *s.Subnet.SubnetId
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		key, val, rt := "group", fmt.Sprintf("g%d", i/100), "network-interface"
		err := c.Write(who, false, collect, func(tx *core.Tx) error {
			_, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{
				SubnetId: &subnet, TagSpecifications: []ec2wire.TagSpecification{{ResourceType: &rt, Tags: []ec2wire.Tag{{Key: &key, Value: &val}}}},
			})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 { // an empty store: nothing but the buckets
		all = nil
	}
	s, err := OpenBolt(path)
	if err != nil {
		b.Fatal(err)
	}
	wait, err := s.Commit(core.ChangeSet{Changes: all})
	if err != nil {
		b.Fatal(err)
	}
	if err := wait(); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkStartup is what a server does before it can answer: open the
// bbolt file, load every record into a new core and rebuild the indexes.
// Targets: < 100 ms empty, < 2 s with 100k ENIs.
func BenchmarkStartup(b *testing.B) {
	for _, n := range []int{0, 100000} {
		b.Run(fmt.Sprintf("enis=%dk", n/1000), func(b *testing.B) {
			path := benchStoreFile(b, n)
			b.ResetTimer()
			for b.Loop() {
				s, err := OpenBolt(path)
				if err != nil {
					b.Fatal(err)
				}
				c := core.New(core.Env{Now: time.Now, Rand: rand.NewChaCha8([32]byte{8})}, core.DefaultConfig())
				if _, err := c.LoadFrom(s.Load); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
