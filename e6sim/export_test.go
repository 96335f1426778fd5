package e6sim

// EndDrain ends the current drain period now, as if it had run out.
func (s *Server) EndDrain() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.teardownDrainingLocked("test ended the drain")
}

// EndAnnounce ends a running announce phase now.
func (s *Server) EndAnnounce() { s.announceEnd <- struct{}{} }
