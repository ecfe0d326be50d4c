package api

// SetDirtyReads makes reads answer without waiting for what they saw to be
// durable, for BenchmarkReadBesideWrites to measure what that wait costs.
func SetDirtyReads(s *Server, on bool) {
	s.dur.mu.Lock()
	s.dur.dirty = on
	s.dur.mu.Unlock()
}
