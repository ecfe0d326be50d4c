package api_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/etcdtest"
	"github.com/eni-net/eni/internal/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// CreateNetworkInterface through the same SDK client on the embedded bbolt
// file (the default) and on a 3-member etcd on this machine (cluster mode),
// in one run: req/s, p50/p99 and, on etcd, the bytes one ENI's record takes
// there (key and value).
func BenchmarkCreateENIStore(b *testing.B) {
	b.Run("bolt", func(b *testing.B) {
		benchCreateENIOn(b, apitest.New(b, apitest.Options{Durable: true}))
	})
	b.Run("etcd3", func(b *testing.B) {
		cl := etcdtest.Start(b, 3)
		e := apitest.New(b, apitest.Options{Open: etcdOpener(cl, "/eni-bench/")})
		benchCreateENIOn(b, e)
		b.StopTimer()
		cli := e.Store.(*store.Etcd).Client()
		resp, err := cli.Get(context.Background(), "/eni-bench/r/eni/", clientv3.WithPrefix())
		if err != nil || len(resp.Kvs) == 0 {
			b.Fatalf("reading the ENIs back: %v", err)
		}
		total := 0
		for _, kv := range resp.Kvs {
			total += len(kv.Key) + len(kv.Value)
		}
		b.ReportMetric(float64(total)/float64(len(resp.Kvs)), "etcd-bytes/eni")
	})
}

func benchCreateENIOn(b *testing.B, e *apitest.Env) {
	c := e.Client()
	var mu sync.Mutex
	var subnets []string
	used := 0
	next := func() string { // a /16 per 60000 ENIs
		mu.Lock()
		defer mu.Unlock()
		if used%60000 == 0 {
			subnets = append(subnets, benchSubnet(b, e.Core, len(subnets)+1))
		}
		used++
		return subnets[len(subnets)-1]
	}
	benchParallel(b, benchConcurrency, func() error {
		_, err := c.CreateNetworkInterface(context.Background(), &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(next()), Description: aws.String("bench")})
		return err
	})
}
