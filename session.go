package e6data

import (
	"context"
	"errors"
	"fmt"

	"github.com/e6go/e6data/internal/bluegreen"
	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
)

// Sessions (zero-downtime rule 5): a session belongs to the stack it was
// made on. A connection keeps one session, on the stack new work goes to;
// a query keeps the session it was prepared in; calls about a query that
// lives on another stack than the connection's session use a session of
// that stack (Connector.stackSession).

// errFinal marks an error that no further attempt can change (bad
// credentials, a closed connector, a malformed answer).
type errFinal struct{ err error }

func (f errFinal) Error() string { return f.err.Error() }
func (f errFinal) Unwrap() error { return f.err }

// authOn authenticates on strategy and returns the new session ID. Bad
// credentials come back as a final ErrAuth.
func (c *Connector) authOn(ctx context.Context, strategy string) (string, error) {
	token, err := c.token(ctx)
	if err != nil {
		return "", errFinal{err}
	}
	var resp enginepb.AuthenticateResponse
	err = c.rpc.Invoke(ctx, rpc.Call{Method: enginepb.QueryEngineService_Authenticate_FullMethodName, Strategy: strategy},
		&enginepb.AuthenticateRequest{User: c.cfg.User, Password: token}, &resp)
	if err != nil {
		switch rpc.Classify(err) {
		case rpc.KindAccessDenied, rpc.KindUnauthenticated:
			e := newError("authenticate", "", err)
			e.sentinel, e.Retryable = ErrAuth, false
			e.Message = fmt.Sprintf("user %q was not accepted: %s", c.cfg.User, e.Message)
			return "", errFinal{e}
		}
		return "", err
	}
	if resp.GetSessionId() == "" {
		return "", errFinal{&Error{Op: "authenticate", sentinel: ErrAuth, Strategy: strategy,
			Message: fmt.Sprintf("user %q was not accepted: the server returned no session", c.cfg.User)}}
	}
	return resp.GetSessionId(), nil
}

// stackSession returns a session on strategy for calls about queries of
// that stack made outside the connection that prepared them (status,
// cancel, freeing a query whose own session expired): the one kept for the
// stack, or a new one when that one is the refused one.
func (c *Connector) stackSession(ctx context.Context, strategy, refused string) (string, error) {
	c.relMu.Lock()
	defer c.relMu.Unlock()
	if sid := c.relSID[strategy]; sid != "" && sid != refused {
		return sid, nil
	}
	sid, err := c.authOn(ctx, strategy)
	if err != nil {
		return "", err
	}
	if c.relSID == nil {
		c.relSID = make(map[string]string, 2)
	}
	c.relSID[strategy] = sid
	return sid, nil
}

// sessionFor returns a session on strategy: the connection's own when it
// is on that stack, else the connector's session of that stack. refused is
// a session the server has just refused ("" if none): then a new session is
// made (a kept one is as old as the refused one, and would likely cost an
// attempt to find out), and kept as the connection's when the connection
// is on that stack.
func (cn *conn) sessionFor(ctx context.Context, strategy, refused string, o *op) (string, error) {
	if refused == "" {
		if strategy == cn.strategy && cn.sid != "" {
			return cn.sid, nil
		}
		return cn.ctr.stackSession(ctx, strategy, "")
	}
	sid, err := cn.reauthOn(ctx, strategy, o)
	if err != nil {
		return "", err
	}
	if strategy == cn.strategy {
		cn.sid = sid
	}
	return sid, nil
}

// reauthOn makes a new session on strategy after the server refused one.
func (cn *conn) reauthOn(ctx context.Context, strategy string, o *op) (string, error) {
	cn.logReauth(ctx, strategy, o)
	return cn.ctr.authOn(ctx, strategy)
}

// logReauth counts and logs one re-authentication.
func (cn *conn) logReauth(ctx context.Context, strategy string, o *op) {
	cn.ctr.count(ctx, cReauth, 1, nil)
	cn.ctr.log.Debug("re-authenticating", "operation", o.name, "strategy", strategy, "query_id", o.queryID, "attempt", o.attempt)
}

// ensureSession makes sure the connection has a session on the stack new
// work must use (rule 5) and returns it.
func (cn *conn) ensureSession(ctx context.Context, o *op) (session, error) {
	if cn.closed {
		return session{}, errFinal{&Error{Op: o.name, sentinel: ErrConnClosed}}
	}
	if cn.ctr.closed.Load() {
		cn.bad = true
		return session{}, errFinal{&Error{Op: o.name, sentinel: ErrConnClosed, Message: "connector closed"}}
	}
	want, fresh := cn.ctr.state.ForNewWork()
	if cn.sid != "" && want != "" && want == cn.strategy && !fresh {
		// Past the strategy cache timeout: confirm before relying on it.
		if err := cn.confirmStrategy(ctx, o); err != nil {
			return session{}, err
		}
	}
	if cn.sid == "" || (want != "" && want != cn.strategy) {
		s, err := cn.authenticate(ctx, o)
		if err != nil {
			return session{}, err
		}
		cn.sid, cn.strategy = s.id, s.strategy
	}
	return session{id: cn.sid, strategy: cn.strategy}, nil
}

// session is a session ID and the stack it belongs to.
type session struct{ id, strategy string }

// authenticate opens a new session on the strategy new work must use,
// detecting the live strategy first when none is known (rule 2). A 456 on
// the known strategy starts a detection; a detection that found both
// stacks answering 456 is returned as that 456, for the recovery engine to
// try again under the operation's budget.
func (cn *conn) authenticate(ctx context.Context, o *op) (session, error) {
	ctr := cn.ctr
	if st, _ := ctr.state.ForNewWork(); st != "" {
		sid, err := ctr.authOn(ctx, st)
		if err == nil {
			return session{sid, st}, nil
		}
		if rpc.Classify(err) != rpc.KindWrongStrategy {
			return session{}, err
		}
		ctr.state.InvalidateAt(st, "", sentAt(err))
		o.n456++
		o.stale = st
	}
	// The detection (or the wait for another caller's) ends with the
	// connector too.
	dctx, stop := cn.untilClosed(ctx)
	defer stop()
	if t := ctr.cfg.StrategyDetectionTimeout; t > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(dctx, t)
		defer cancel()
	}
	var sid string
	var last456 error
	st, ran, err := ctr.state.Detect(dctx, func(ctx context.Context, s string) error {
		id, err := ctr.authOn(ctx, s)
		answer := "ok"
		if err != nil {
			answer = rpc.Classify(err).String()
		}
		ctr.stratLog.Debug("strategy detection probe", "operation", o.name, "strategy", s, "answer", answer,
			"transition_type", bluegreen.Detected, "query_id", o.queryID)
		if err == nil {
			sid = id
		} else if rpc.Classify(err) == rpc.KindWrongStrategy {
			last456 = err
		}
		return err
	}, func(err error) bool { return rpc.Classify(err) == rpc.KindWrongStrategy })
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && !ctxEnded(ctx) {
			return session{}, errFinal{&Error{Op: "detect strategy", sentinel: ErrNoLiveStrategy, cause: err,
				Message: fmt.Sprintf("no live strategy found within %v (strategy-detection-timeout)", ctr.cfg.StrategyDetectionTimeout)}}
		}
		if errors.Is(err, bluegreen.ErrNoStrategy) {
			if last456 != nil {
				return session{}, last456 // both stacks refused: recovered like any 456
			}
			return session{}, &rpc.Error{Method: "authenticate", Kind: rpc.KindWrongStrategy, Message: "both blue and green answered 456"}
		}
		return session{}, err
	}
	if !ran {
		sid, err := ctr.authOn(ctx, st)
		if err != nil {
			return session{}, err
		}
		return session{sid, st}, nil
	}
	return session{sid, st}, nil
}
