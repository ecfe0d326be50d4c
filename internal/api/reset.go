package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// The reset endpoint empties the server for test suites: every record of
// every account and region goes, from memory and from the store, and the
// data plane removes what it made (each region's default VPC comes back on
// its next request, as on a fresh server). It answers on ENI's own path and
// on moto's, with moto's replies (moto/moto_api/_internal/responses.py), so
// that a suite written for moto's server mode switches by changing only the
// URL. Only with --auth none, where any client acts as the one account and
// may delete everything anyway (to any client: a server in a container sees
// its clients through the bridge, not on loopback).
const (
	ResetPath     = "/eni/v1/reset"
	MotoResetPath = "/moto-api/reset"
)

// resetSettleTimeout bounds how long a reset waits for the data plane.
const resetSettleTimeout = 60 * time.Second

func (s *Server) serveReset(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v) // plain maps of strings
	}
	if r.Method != http.MethodPost {
		reply(http.StatusBadRequest, map[string]string{"Error": "Need to POST to reset Moto"}) // moto's words, on both paths
		return
	}
	if !s.opt.AllowReset {
		reply(http.StatusForbidden, map[string]string{"Error": "reset is served only with eni serve --auth none"})
		return
	}
	if err := s.Reset(r.Context()); err != nil {
		s.log.Error("reset failed", "err", err)
		reply(http.StatusInternalServerError, map[string]string{"Error": "reset failed: " + err.Error()})
		return
	}
	reply(http.StatusOK, map[string]string{"status": "ok"})
}

// Reset empties the model and the store, then waits (up to a minute) for
// the data plane to follow.
func (s *Server) Reset(ctx context.Context) error {
	if s.dur.isFailed() {
		return errUnavailable
	}
	start := time.Now()
	if err := s.core.Clear(s.opt.Store.Clear); err != nil {
		return err
	}
	if s.opt.OnChange != nil {
		s.opt.OnChange(s.core.Regions()) // the console redraws every region
	}
	if s.opt.Settle != nil {
		sctx, cancel := context.WithTimeout(ctx, resetSettleTimeout)
		defer cancel()
		if err := s.opt.Settle(sctx); err != nil {
			s.log.Warn("reset: the data plane has not followed yet", "err", err)
		}
	} else if s.opt.OnCommit != nil {
		s.opt.OnCommit()
	}
	s.log.Warn("reset: every record removed", "took", time.Since(start).String())
	return nil
}

func (d *durability) isFailed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed
}
