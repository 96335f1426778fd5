package e6sim

// EndAnnounce ends a running announce phase now.
func (s *Server) EndAnnounce() { s.announceEnd <- struct{}{} }

// HookBefore makes every routed call run f(method) just before the engine
// serves it; HookAfter just after (before the gateway answers).
func (s *Server) HookBefore(f func(method string)) { s.hookBefore.Store(&f) }

// HookAfter: see HookBefore.
func (s *Server) HookAfter(f func(method string)) { s.hookAfter.Store(&f) }
