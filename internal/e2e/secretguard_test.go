package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

// simToken is the token testConfig gives every connector: a distinctive
// canary that must never appear in a log record, an error string or a
// formatted configuration.
const simToken = "e6-canary-T0KEN-7f3a9c"

// guardedSecrets are the tokens the tests of this package use; the guard
// looks for each one as is and percent-encoded.
var guardedSecrets = []string{simToken, otherToken, "typo-secret"}

// otherToken is a token full of characters a DSN must escape (the root
// package's config tests use the same one).
const otherToken = "s3cr3t-T0ken/@:?#%+&="

// escapeDSN percent-encodes s as a DSN's userinfo or query value does
// (every byte but the unreserved ones), the form a leaked token could take.
func escapeDSN(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// secretViolations collects the leaks seen by any guard; TestMain fails
// the run when it is not empty (a record may be logged after its test
// ended, so the test itself cannot always be failed).
var secretViolations struct {
	sync.Mutex
	list []string
}

func recordSecretLeak(where, text string) {
	secretViolations.Lock()
	defer secretViolations.Unlock()
	if len(secretViolations.list) < 20 {
		secretViolations.list = append(secretViolations.list, where+": "+text)
	}
}

// leaksSecret reports whether s holds one of the guarded tokens.
func leaksSecret(s string) bool {
	for _, sec := range guardedSecrets {
		if strings.Contains(s, sec) || strings.Contains(s, escapeDSN(sec)) {
			return true
		}
	}
	return false
}

// secretGuard is a slog.Handler that records a violation whenever a
// record's message or any attribute value - resolved through LogValuer,
// walked through groups, errors and other values by their %v, %+v and
// %#v texts - holds a guarded token. It is enabled at every level so the
// connector's own levels decide what is logged, and passes records on to
// next.
type secretGuard struct {
	next  slog.Handler
	group string
}

func guardLogger(l *slog.Logger) *slog.Logger {
	var next slog.Handler = slog.DiscardHandler
	if l != nil {
		next = l.Handler()
	}
	return slog.New(&secretGuard{next: next})
}

func (g *secretGuard) Enabled(ctx context.Context, l slog.Level) bool { return true }

func (g *secretGuard) Handle(ctx context.Context, r slog.Record) error {
	if leaksSecret(r.Message) {
		recordSecretLeak("log message", r.Message)
	}
	r.Attrs(func(a slog.Attr) bool {
		g.checkAttr("record "+r.Message, a)
		return true
	})
	if g.next.Enabled(ctx, r.Level) {
		return g.next.Handle(ctx, r)
	}
	return nil
}

func (g *secretGuard) checkAttr(where string, a slog.Attr) {
	if leaksSecret(a.Key) {
		recordSecretLeak(where+" attribute key", a.Key)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		for _, ga := range v.Group() {
			g.checkAttr(where, ga)
		}
		return
	case slog.KindAny:
		x := v.Any()
		var texts []string
		if err, ok := x.(error); ok {
			texts = append(texts, err.Error())
		}
		texts = append(texts, fmt.Sprintf("%v", x), fmt.Sprintf("%+v", x), fmt.Sprintf("%#v", x))
		for _, s := range texts {
			if leaksSecret(s) {
				recordSecretLeak(where+" attribute "+a.Key, s)
				return
			}
		}
		return
	}
	if s := v.String(); leaksSecret(s) {
		recordSecretLeak(where+" attribute "+a.Key, s)
	}
}

func (g *secretGuard) WithAttrs(attrs []slog.Attr) slog.Handler {
	for _, a := range attrs {
		g.checkAttr("logger attributes", a)
	}
	return &secretGuard{next: g.next.WithAttrs(attrs), group: g.group}
}

func (g *secretGuard) WithGroup(name string) slog.Handler {
	if leaksSecret(name) {
		recordSecretLeak("group name", name)
	}
	return &secretGuard{next: g.next.WithGroup(name), group: name}
}

// checkSecretViolations is TestMain's verdict: an error text when a token
// leaked into any log record of the run.
func checkSecretViolations() string {
	secretViolations.Lock()
	defer secretViolations.Unlock()
	if len(secretViolations.list) == 0 {
		return ""
	}
	return "a secret token reached the logs:\n  " + strings.Join(secretViolations.list, "\n  ")
}

// TestSecretGuardCatches: the guard is not blind - a token in a message,
// a string, a nested group, an error, a LogValuer and a struct is caught
// (the violations are taken back out so the run stays green), while the
// connector's own logger, redacting, lets nothing through.
func TestSecretGuardCatches(t *testing.T) {
	take := func() []string {
		secretViolations.Lock()
		defer secretViolations.Unlock()
		l := secretViolations.list
		secretViolations.list = nil
		return l
	}
	before := take()
	defer func() {
		secretViolations.Lock()
		secretViolations.list = append(before, secretViolations.list...)
		secretViolations.Unlock()
	}()
	raw := guardLogger(nil)
	raw.Info("token " + simToken)
	raw.Info("m", "s", "x"+simToken)
	raw.Info("m", slog.Group("g", slog.Group("h", "deep", simToken)))
	raw.Info("m", "err", fmt.Errorf("wrapped: %w", fmt.Errorf("auth %s", escapeDSN(otherToken))))
	raw.Info("m", "v", tokenValuer{})
	raw.Info("m", "any", struct{ T string }{simToken})
	raw.With("w", simToken).Info("m")
	if got := take(); len(got) != 7 {
		t.Fatalf("the guard caught %d of 7 leaks: %q", len(got), got)
	}

	// Through the connector's logger the same records are redacted.
	cfg := e6data.DefaultConfig()
	cfg.Token = simToken
	cfg.Logger = guardLogger(nil)
	cfg.LogLevel = slog.LevelDebug
	l := cfg.NewLogger()
	l.Info("token " + simToken)
	l.Info("m", "s", "x"+simToken)
	l.Info("m", slog.Group("g", slog.Group("h", "deep", simToken)))
	l.Info("m", "err", fmt.Errorf("wrapped: %w", fmt.Errorf("auth %s", simToken)))
	l.Info("m", "v", tokenValuer{})
	l.With("w", simToken).Info("m")
	if got := take(); len(got) != 0 {
		t.Fatalf("the connector's logger let a token through: %q", got)
	}
}

type tokenValuer struct{}

func (tokenValuer) LogValue() slog.Value { return slog.StringValue("valued " + simToken) }

// TestAuthFailureHidesToken: a wrong token is refused with an
// authentication error whose every rendering (Error, %v, %+v, %#v) and
// every log record leave the token out.
func TestAuthFailureHidesToken(t *testing.T) {
	srv := startSim(t, e6sim.Config{Users: e6sim.Users{"alice@example.com": "the-right-token"}})
	var logs strings.Builder
	db, _ := openDB(t, srv, e6data.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		e6data.WithSetting("log-level", "debug"), e6data.WithRetry(2, 100*time.Millisecond))
	var one int
	err := db.QueryRow("SELECT 1").Scan(&one)
	if err == nil {
		t.Fatal("a wrong token was accepted")
	}
	if !errors.Is(err, e6data.ErrAuth) {
		t.Errorf("error %v is not ErrAuth", err)
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), logs.String()} {
		if leaksSecret(s) {
			t.Errorf("the token shows in %q", s)
		}
	}
}

// countingHandler counts the records it is given.
type countingHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// TestConnectorNeverLogsViaDefault: the connector logs only through its
// own logger, never through slog.Default (nor the log package, which
// slog.SetDefault redirects too), even when its own records are many.
func TestConnectorNeverLogsViaDefault(t *testing.T) {
	h := &countingHandler{}
	old := slog.Default()
	slog.SetDefault(slog.New(h))
	defer slog.SetDefault(old)

	srv := startSim(t, e6sim.Config{Users: e6sim.Users{"alice@example.com": simToken}})
	own := &countingHandler{}
	db, _ := openDB(t, srv, e6data.WithLogger(slog.New(own)), e6data.WithSetting("log-level", "debug"), e6data.WithSetting("strategy-log-level", "debug"))
	var n int
	if err := db.QueryRow("SELECT count(*) FROM range(10)").Scan(&n); err != nil || n != 10 {
		t.Fatalf("query: %d %v", n, err)
	}
	if err := db.QueryRow("SELECT * FROM no_such_table").Scan(&n); err == nil {
		t.Fatal("a bad query succeeded")
	}
	bad, _ := openDB(t, srv, e6data.WithCredentials("alice@example.com", "wrong-"+simToken), e6data.WithLogger(slog.New(own)))
	if err := bad.Ping(); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	db.Close()
	bad.Close()
	own.mu.Lock()
	ownCount := len(own.msgs)
	own.mu.Unlock()
	if ownCount == 0 {
		t.Fatal("the connector logged nothing at DEBUG: the test proves nothing")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) != 0 {
		t.Fatalf("%d records went to slog.Default: %q", len(h.msgs), h.msgs)
	}
}
