package apitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestLargeRepliesManyTimes reads a ~70 KB reply 300 times through the real
// SDK client against the server. Without WrapTransport in HTTPClient about
// 7% of these calls fail with "use of closed network connection" (so the
// chance that all 300 pass without the fix is about 1e-9).
func TestLargeRepliesManyTimes(t *testing.T) {
	e := New(t)
	c := e.Client()
	pad := strings.Repeat("x", 200)
	for i := 0; i < 100; i++ {
		_, err := c.CreateVpc(Ctx(), &ec2.CreateVpcInput{
			CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", i)),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc,
				Tags: []types.Tag{{Key: aws.String("padding"), Value: aws.String(pad)}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The reply must be large: much more than net/http's 4 KB read buffer.
	var size int64
	probe := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/", strings.NewReader("Action=DescribeVpcs&Version=2016-11-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.API.ServeHTTP(probe, req)
	size = int64(probe.Body.Len())
	if size < 50_000 {
		t.Fatalf("DescribeVpcs reply is %d bytes, want a large one", size)
	}
	var failed int
	var first error
	for i := 0; i < 300; i++ {
		out, err := c.DescribeVpcs(Ctx(), &ec2.DescribeVpcsInput{})
		if err != nil {
			if first == nil {
				first = err
			}
			failed++
			continue
		}
		if len(out.Vpcs) != 101 { // 100 + the default VPC
			t.Fatalf("got %d VPCs, want 101", len(out.Vpcs))
		}
	}
	if failed > 0 {
		t.Fatalf("%d/300 DescribeVpcs calls of %d bytes failed; first: %v", failed, size, first)
	}
}

// lostRaceBody models the SDK's request body (smithy-go safeWriteToReadCloser)
// when the race of WrapTransport's comment is lost: its WriteTo waits until
// the caller has closed the body, then returns io.EOF, as the SDK's does
// after Close. This makes the failure deterministic.
type lostRaceBody struct {
	r      *bytes.Reader
	mu     sync.Mutex
	closed chan struct{}
	once   sync.Once
}

func (b *lostRaceBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.closed:
		return 0, io.EOF
	default:
	}
	return b.r.Read(p)
}

func (b *lostRaceBody) WriteTo(w io.Writer) (int64, error) {
	if b.r.Len() == 0 { // the extra copy after ContentLength bytes
		<-b.closed
		return 0, io.EOF
	}
	return b.r.WriteTo(w)
}

func (b *lostRaceBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// TestWrapTransportLostRace replays the lost race deterministically: the
// body is closed right after the reply headers arrive (as smithy-go's
// ClientHandler does) while net/http is still "writing" it; the reply of
// 1 MB must still be read in full.
func TestWrapTransportLostRace(t *testing.T) {
	reply := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", fmt.Sprint(len(reply)))
		w.Write(reply)
	}))
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: WrapTransport(tr)}
	for i := 0; i < 5; i++ {
		payload := []byte("Action=DescribeVpcs&Version=2016-11-15")
		body := &lostRaceBody{r: bytes.NewReader(payload), closed: make(chan struct{})}
		req, err := http.NewRequest("POST", srv.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(payload))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body.Close() // what smithy-go does right after client.Do
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("call %d: reading the reply: %v (after %d of %d bytes)", i, err, len(got), len(reply))
		}
		if len(got) != len(reply) {
			t.Fatalf("call %d: got %d bytes, want %d", i, len(got), len(reply))
		}
	}
}

// TestWrapTransportIdempotent checks that wrapping twice adds one layer only
// and that requests without a body pass through.
func TestWrapTransportIdempotent(t *testing.T) {
	rt := WrapTransport(http.DefaultTransport)
	if WrapTransport(rt) != rt {
		t.Fatal("WrapTransport wrapped its own transport again")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("got %q", b)
	}
}
