package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// Replication is what a server that is one of several API replicas on one
// etcd cluster (internal/replica) asks of its replica: whether it writes,
// where the writer is, and a barrier after which its model holds every
// commit acknowledged before.
//
// On a replica that does not write, every request first passes the barrier
// (a client reads its own writes on any replica) and is then served from
// the local model; one that would commit (the store refuses it,
// store.ErrNotLeader, changing nothing) is forwarded whole, signature and
// all, to the writer, whose reply is the client's. A forwarded request is
// not forwarded again: a writer that has just lost its lease answers
// ServiceUnavailable, which the SDKs retry.
type Replication interface {
	Leading() bool
	LeaderURL() string
	Barrier(ctx context.Context) error
}

// forwardedHeader marks a request a replica forwarded to the writer.
const forwardedHeader = "X-Eni-Forwarded-By"

// barrierTimeout bounds how long a request waits for the local model to
// catch up with etcd before ServiceUnavailable.
const barrierTimeout = 5 * time.Second

// errForward is the commit error of a replica that does not write.
var errForward = errors.New("api: this replica does not write: forward to the writer")

// forwarding is what a replica keeps of a request to forward it.
type forwarding struct {
	body      []byte
	forwarded bool // it came from another replica
}

var forwardClient = &http.Client{Timeout: 2 * time.Minute}

// replicaPrelude reads the request's body (kept to forward it) and, on a
// replica that does not write, waits for the barrier.
func (s *Server) replicaPrelude(r *http.Request) (*forwarding, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1)) // serve says if it is too long
	if err != nil {
		body = nil // serve reports the body it cannot read
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	fw := &forwarding{body: body, forwarded: r.Header.Get(forwardedHeader) != ""}
	if s.opt.Replica.Leading() {
		return fw, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), barrierTimeout)
	defer cancel()
	if err := s.opt.Replica.Barrier(ctx); err != nil {
		s.log.Warn("replica barrier", "err", err)
		return fw, errUnavailable
	}
	return fw, nil
}

// forward sends the request to the writer and copies its reply back,
// returning the reply's status. It returns ServiceUnavailable, having written
// nothing, when there is no writer to send it to.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, fw *forwarding) (int, error) {
	leader := s.opt.Replica.LeaderURL()
	if fw.forwarded || leader == "" || s.opt.Replica.Leading() {
		return 0, errUnavailable
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, leader+r.URL.RequestURI(), bytes.NewReader(fw.body))
	if err != nil {
		return 0, errUnavailable
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host // the signature covers it
	out.Header.Set(forwardedHeader, "1")
	resp, err := forwardClient.Do(out)
	if err != nil {
		s.log.Warn("forwarding to the writer", "writer", leader, "err", err)
		return 0, errUnavailable
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		s.log.Warn("forwarding to the writer", "writer", leader, "err", err)
		return 0, errUnavailable
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(reply)
	return resp.StatusCode, nil
}

// forwardReset sends a reset to the writer (which empties etcd; the
// replicas follow).
func (s *Server) forwardReset(w http.ResponseWriter, r *http.Request) {
	fw := &forwarding{forwarded: r.Header.Get(forwardedHeader) != ""}
	if body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes)); err == nil {
		fw.body = body
	}
	if _, err := s.forward(w, r, fw); err != nil {
		http.Error(w, "no writer to reset: "+err.Error(), http.StatusServiceUnavailable)
	}
}
