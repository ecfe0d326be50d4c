package api

import (
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/core"
)

// View runs fn in a read-only view of who's account (core.View: it creates
// nothing) and answers, like every read of the API, only once what fn saw is
// durable. It is how observers at the edge (the web console) read the model.
func (s *Server) View(who core.Caller, fn func(*core.Tx) error) error {
	var need mark
	err := s.core.View(who, func(tx *core.Tx) error {
		need = s.seen()
		return fn(tx)
	})
	return s.settled(err, need)
}

// changedRegions lists the regions a change set touches (its keys are
// region/id), sorted.
func changedRegions(cs core.ChangeSet) []string {
	var out []string
	for _, c := range cs.Changes {
		r, _, ok := strings.Cut(c.Key, "/")
		if ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}
