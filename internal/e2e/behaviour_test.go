package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/enginepb"
)

// longQuery runs for minutes on DuckDB unless it is cancelled.
const longQuery = "SELECT count(*) FROM range(10000000000) t1, range(1000) t2"

func TestQueryTimeoutSettingCancelsOnServer(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	for _, timeout := range []any{300 * time.Millisecond, "300ms"} {
		start := time.Now()
		_, err := db.QueryContext(context.Background(), longQuery, sql.Named("query_timeout", timeout))
		took := time.Since(start)
		if !errors.Is(err, e6data.ErrQueryCancelled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v: err = %v, want ErrQueryCancelled and DeadlineExceeded", timeout, err)
		}
		// It returns once the deadline has passed and the cancel is sent:
		// a bound far above that only catches a hang.
		if took < 300*time.Millisecond || took > time.Minute {
			t.Errorf("%v: the query returned after %v", timeout, took)
		}
		waitFor(t, time.Minute, "the server to cancel the query", func() bool { return openQueries(srv) == 0 })
	}
	if st := srv.Stats(); st.CancelCalls+st.Cancels < 2 {
		t.Fatalf("the server saw no cancel: %+v", st)
	}
	// Whole seconds as an integer; and the configured default.
	dbDefault, _ := openDB(t, srv, e6data.WithSetting("QueryTimeout", (300*time.Millisecond).String()))
	if _, err := dbDefault.Query(longQuery); !errors.Is(err, e6data.ErrQueryCancelled) {
		t.Fatalf("default timeout: %v", err)
	}
	var n int64
	if err := dbDefault.QueryRow("SELECT count(*) FROM customers", sql.Named("query_timeout", int64(30))).Scan(&n); err != nil || n != 10 {
		t.Fatalf("a per-query timeout in seconds overriding the default: %d %v", n, err)
	}
	if err := dbDefault.QueryRow("SELECT count(*) FROM customers", sql.Named("query_timeout", time.Duration(0))).Scan(&n); err != nil {
		t.Fatalf("query_timeout 0 = none: %v", err)
	}
	for _, timeout := range []any{30, 2.5, int64(30), "1m"} { // seconds as int or float, or a duration string
		if err := dbDefault.QueryRow("SELECT count(*) FROM customers", sql.Named("query_timeout", timeout)).Scan(&n); err != nil {
			t.Errorf("query_timeout=%#v: %v", timeout, err)
		}
	}
	for _, bad := range []any{"soon", -time.Second, -1, -0.5, math.NaN(), true} {
		_, err := db.Query("SELECT 1", sql.Named("query_timeout", bad))
		if err == nil || !strings.Contains(err.Error(), "query_timeout") {
			t.Errorf("query_timeout=%#v: err = %v", bad, err)
		}
	}
}

func TestPerQueryCatalogAndDatabase(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv, e6data.WithSetting("Catalog", ""), e6data.WithSetting("Database", ""))
	var n int64
	before := srv.Stats()
	if err := db.QueryRow("SELECT count(*) FROM customers", sql.Named("catalog", "sample"), sql.Named("database", "main")).Scan(&n); err != nil || n != 10 {
		t.Fatalf("catalog+database: %d %v", n, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM orders", sql.Named("DATABASE", "main")).Scan(&n); err != nil || n != 50 {
		t.Fatalf("database only (names ignore case): %d %v", n, err)
	}
	after := srv.Stats()
	if rpcDelta(before, after, "prepareStatementV2") != 1 || rpcDelta(before, after, "prepareStatement") != 1 {
		t.Fatalf("V2 with a catalog, V1 without: %v", after.RPCs)
	}
	_, err := db.Query("SELECT 1", sql.Named("catalog", "no_such_catalog"))
	if !errors.Is(err, e6data.ErrQueryFailed) || !strings.Contains(err.Error(), "no_such_catalog") {
		t.Fatalf("unknown catalog: %v", err)
	}
	// The per-query values win over the configured ones.
	db2, _ := openDB(t, srv, e6data.WithSetting("Catalog", "no_such_catalog"))
	if err := db2.QueryRow("SELECT count(*) FROM customers", sql.Named("catalog", "sample")).Scan(&n); err != nil {
		t.Fatalf("per-query catalog over the configured one: %v", err)
	}
	for _, c := range []struct {
		arg  any
		want string
	}{
		{sql.Named("timeout", time.Second), `unknown named argument "timeout"`},
		{sql.Named("serverSideParams", true), "known settings: catalog, database, query_timeout, server_side_params"},
		{sql.Named("catalog", 5), `setting "catalog"`},
		{sql.Named("database", []byte("main")), `setting "database"`},
		{sql.Named("server_side_params", "yes"), `setting "server_side_params"`},
	} {
		if _, err := db.Query("SELECT 1", c.arg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.arg, err, c.want)
		}
	}
}

// sentQueries records the query text of every prepare the connector sends.
type sentQueries struct {
	mu   sync.Mutex
	text []string
}

func (s *sentQueries) interceptor() grpc.DialOption {
	return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		var q string
		switch r := req.(type) {
		case *enginepb.PrepareStatementRequest:
			q = r.GetQueryString()
		case *enginepb.PrepareStatementV2Request:
			q = r.GetQueryString()
		case *enginepb.DryRunRequest:
			q = r.GetQueryString()
		}
		if q != "" {
			s.mu.Lock()
			s.text = append(s.text, q)
			s.mu.Unlock()
		}
		return inv(ctx, method, req, reply, cc, opts...)
	})
}

func (s *sentQueries) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.text) == 0 {
		return ""
	}
	return s.text[len(s.text)-1]
}

func TestTrailingSemicolonStripped(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	var sent sentQueries
	db, _ := openDB(t, srv, e6data.WithDialOptions(sent.interceptor()))
	for _, c := range []struct {
		q    string
		args []any
		want string
	}{
		{"SELECT 1;", nil, "SELECT 1"},
		{"SELECT 1 ; \n\t", nil, "SELECT 1"},
		{"SELECT ';'", nil, "SELECT ';'"},
		{"SELECT ?;", []any{"a;"}, "SELECT 'a;'"},
		{"SELECT 1;;", nil, "SELECT 1;"}, // one, as the Python connector strips
	} {
		rows, err := db.Query(c.q, c.args...)
		if err == nil {
			rows.Close()
		}
		if got := sent.last(); got != c.want {
			t.Errorf("%q sent as %q, want %q (err %v)", c.q, got, c.want, err)
		}
	}
	err := e6data.Raw(context.Background(), db, func(c e6data.Conn) error {
		_, err := c.DryRun(context.Background(), "SELECT 2;")
		return err
	})
	if err != nil || sent.last() != "SELECT 2" {
		t.Fatalf("dry run sent %q: %v", sent.last(), err)
	}
}

func TestExecContext(t *testing.T) {
	srv := startSim(t, e6sim.Config{ChunkRows: 100})
	db, _ := openDB(t, srv)
	res, err := db.ExecContext(context.Background(), "SELECT id FROM numbers WHERE id < ?", 1234)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1234 {
		t.Fatalf("RowsAffected = %d, %v", n, err)
	}
	if _, err := res.LastInsertId(); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("LastInsertId: %v", err)
	}
	if _, err := db.Exec("SELEC 1"); !errors.Is(err, e6data.ErrQueryFailed) {
		t.Fatalf("bad SQL: %v", err)
	}
	waitFor(t, time.Minute, "exec'd queries to be cleared", func() bool { return openQueries(srv) == 0 })
	// A prepared statement runs the same way, several times.
	st, err := db.Prepare("SELECT id FROM numbers WHERE id < ?")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, k := range []int64{0, 1, 250} {
		res, err := st.Exec(k)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != k {
			t.Fatalf("RowsAffected = %d, want %d", n, k)
		}
	}
}

func TestTransactionsNotSupported(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv)
	if _, err := db.Begin(); err == nil || !strings.Contains(err.Error(), "transactions are not supported") {
		t.Fatalf("Begin: %v", err)
	}
	sc, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if _, err := sc.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("BeginTx: %v", err)
	}
	// The connection is still fine.
	if err := sc.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Expired sessions never reach the application: Ping, pooled connections
// and new queries all recover.
func TestPoolSurvivesSessionExpiry(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, ctr := openDB(t, srv)
		db.SetMaxIdleConns(8)
		run := func() {
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var n int64
					if err := db.QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil || n != 50 {
						errs <- fmt.Errorf("n=%d err=%v", n, err)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		}
		run()
		if st := srv.Stats().Stacks["blue"]; st.Sessions < 2 {
			t.Fatalf("expected several pooled sessions, got %d", st.Sessions)
		}
		for round := 0; round < 3; round++ {
			srv.ExpireSessions()
			if err := db.Ping(); err != nil {
				t.Fatalf("round %d: Ping after expiry: %v", round, err)
			}
			run()
		}
		if ctr.Stats().Reauths < 3 {
			t.Fatalf("reauths %d", ctr.Stats().Reauths)
		}
	})
}

// A suspended cluster is resumed once, however many queries meet it.
func TestAutoResumeOnceUnderLoad(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ResumeDuration: 300 * time.Millisecond})
		db, ctr := openDB(t, srv, e6data.WithSetting("E6DATA_RESUME_POLL_INTERVAL", "0.1"), e6data.WithAutoResume(true, 30*time.Second))
		db.SetMaxIdleConns(16)
		const workers = 16
		var wg sync.WaitGroup
		query := func(errs chan<- error) {
			defer wg.Done()
			var n int64
			if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
				errs <- fmt.Errorf("n=%d err=%v", n, err)
			}
		}
		warm := make(chan error, workers)
		for i := 0; i < workers; i++ { // sessions in the pool before the suspend
			wg.Add(1)
			go query(warm)
		}
		wg.Wait()
		close(warm)
		for err := range warm {
			t.Fatal(err)
		}

		srv.Suspend()
		start := time.Now()
		errs := make(chan error, workers)
		gate := make(chan struct{})
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() { <-gate; query(errs) }()
		}
		close(gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		st := srv.Stats()
		if st.Resumes != 1 || st.ClusterStatus != e6sim.StatusActive {
			t.Fatalf("resumes %d (status %s), want exactly 1", st.Resumes, st.ClusterStatus)
		}
		if st.RPCs["ClusterService/resume"] != 1 || st.Sent503 < 1 {
			t.Fatalf("cluster rpcs %v, 503s %d", st.RPCs, st.Sent503)
		}
		if cs := ctr.Stats(); cs.Resumes < 1 || cs.Active != "blue" {
			t.Fatalf("connector stats %+v", cs)
		}
		t.Logf("%s: %d workers done %v after the suspend", sig, workers, time.Since(start).Round(time.Millisecond))
	})
}

func TestAutoResumeOffOrTooSlow(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ResumeDuration: time.Minute})
		off, _ := openDB(t, srv, e6data.WithAutoResume(false, 0))
		if err := off.Ping(); err != nil {
			t.Fatal(err)
		}
		srv.Suspend()
		_, err := off.Query("SELECT 1")
		var e *e6data.Error
		if !errors.Is(err, e6data.ErrClusterUnavailable) || !errors.As(err, &e) || !e.Retryable {
			t.Fatalf("auto-resume off: err = %v, want a retryable ErrClusterUnavailable", err)
		}
		if st := srv.Stats(); st.Resumes != 0 || st.RPCs["ClusterService/status"] != 0 {
			t.Fatalf("auto-resume off must not touch the ClusterService: %v", st.RPCs)
		}
		// On, but the cluster takes longer than the auto-resume timeout.
		slow, _ := openDB(t, srv, e6data.WithAutoResume(true, time.Second), e6data.WithSetting("resume-poll-interval", "0.1"))
		start := time.Now()
		err = slow.Ping()
		if !errors.Is(err, e6data.ErrClusterUnavailable) || !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "auto-resume failed") || !strings.Contains(err.Error(), "resuming") {
			t.Fatalf("resume timeout: err = %v, want ErrClusterUnavailable saying the resume did not finish", err)
		}
		if took := time.Since(start); took < time.Second || took > time.Minute {
			t.Fatalf("gave up after %v, want about the 1 s auto-resume timeout", took)
		}
		if srv.Stats().Resumes != 1 {
			t.Fatalf("resumes %d", srv.Stats().Resumes)
		}
	})
}

// countingProvider hands out a new token on every call.
type countingProvider struct {
	calls atomic.Int64
}

func (p *countingProvider) token(context.Context) (string, error) {
	return fmt.Sprintf("rotating-SECRET-%04d", p.calls.Add(1)), nil
}

func TestTokenProviderCalledForEveryAuthentication(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ResumeDuration: 100 * time.Millisecond})
		var p countingProvider
		db, _ := openDB(t, srv, e6data.WithTokenProvider(p.token), e6data.WithSetting("E6DATA_RESUME_POLL_INTERVAL", "0.1"))
		db.SetMaxOpenConns(2)
		q := func() {
			t.Helper()
			var n int64
			if err := db.QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil || n != 50 {
				t.Fatalf("n=%d err=%v", n, err)
			}
		}
		q()
		srv.ExpireSessions()
		q() // re-authentication after Access denied
		_ = srv.SetFaults([]e6sim.FaultRule{{Method: "getNextResultBatch", Kind: e6sim.FaultAccessDenied, Count: 1}})
		q() // Access denied mid-query: the query's session is re-made
		srv.Suspend()
		q() // resume (ClusterService calls carry credentials too), then a new session
		// A call whose token was just fetched may still be on its way to
		// the server (a status poll of the resume wait, on a loaded
		// machine): compare once the counts have settled.
		var auths, cluster int64
		settled := func() bool {
			st := srv.Stats()
			auths = st.RPCs["QueryEngineService/authenticate"]
			cluster = st.RPCs["ClusterService/status"] + st.RPCs["ClusterService/resume"]
			return p.calls.Load() == auths+cluster
		}
		deadline := time.Now().Add(time.Minute)
		for !settled() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if auths < 4 || cluster < 2 {
			t.Fatalf("authenticate %d, cluster calls %d", auths, cluster)
		}
		if got := p.calls.Load(); got != auths+cluster {
			t.Fatalf("provider called %d times for %d authentications and %d ClusterService calls", got, auths, cluster)
		}
	})
}

func TestTokenProviderRotationAndFailure(t *testing.T) {
	srv := startSim(t, e6sim.Config{Users: e6sim.Users{"alice@example.com": "rotating-SECRET-0002"}})
	var p countingProvider
	db, _ := openDB(t, srv, e6data.WithTokenProvider(p.token))
	err := db.Ping() // token 1 is refused
	if !errors.Is(err, e6data.ErrAuth) || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("first token: %v", err)
	}
	if err := db.Ping(); err != nil { // the provider now hands out the accepted one
		t.Fatalf("rotated token: %v", err)
	}
	boom := errors.New("vault unreachable")
	db2, _ := openDB(t, srv, e6data.WithTokenProvider(func(context.Context) (string, error) { return "", boom }))
	err = db2.Ping()
	if !errors.Is(err, e6data.ErrAuth) || !errors.Is(err, boom) || !strings.Contains(err.Error(), "token provider") {
		t.Fatalf("provider failure: %v", err)
	}
}

func TestOpenDBAppliesPoolSettings(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, err := e6data.OpenDB(testConfig(t, srv, e6data.WithPool(7, 3, time.Minute, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctr, ok := e6data.ConnectorOf(db)
	if !ok {
		t.Fatal("ConnectorOf(OpenDB): no connector")
	}
	h, err := ctr.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Pool.MaxOpenConnections; got != 7 {
		t.Fatalf("MaxOpenConnections = %d, want 7 (the connector's bound)", got)
	}
	waitFor(t, time.Minute, "3 warm sessions", func() bool {
		return srv.Stats().Stacks["blue"].Sessions >= 3 && db.Stats().Idle >= 3
	})
	// Those warm connections serve queries without a new authentication.
	auths := srv.Stats().RPCs["QueryEngineService/authenticate"]
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil || n != 10 {
		t.Fatal(n, err)
	}
	if srv.Stats().RPCs["QueryEngineService/authenticate"] != auths {
		t.Fatal("a warm connection was not reused")
	}
}

// The sessions of a Connector share its gRPC connections: as many TCP
// connections as GRPCConnections (or its automatic choice), not one per
// session, and calls are spread over all of them.
func TestConnectionsShareTheGRPCConnections(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []e6data.Option
		want int64
	}{
		{"default", nil, 1},
		{"three", []e6data.Option{e6data.WithSetting("GRPCConnections", "3")}, 3},
		{"automatic for a large pool", []e6data.Option{e6data.WithPool(200, 0, 0, 0)}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSim(t, e6sim.Config{})
			var dials atomic.Int64
			dialer := grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
				dials.Add(1)
				return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			})
			db, _ := openDB(t, srv, append(tc.opts, e6data.WithDialOptions(dialer))...)
			db.SetMaxIdleConns(8)
			var wg sync.WaitGroup
			conns := make([]*sql.Conn, 8)
			for i := range conns {
				c, err := db.Conn(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				conns[i] = c
			}
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var n int64
					if err := c.QueryRowContext(context.Background(), "SELECT count(*) FROM orders").Scan(&n); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			for _, c := range conns {
				c.Close()
			}
			if st := srv.Stats().Stacks["blue"]; st.Sessions < 8 {
				t.Fatalf("%d sessions, want 8", st.Sessions)
			}
			if d := dials.Load(); d != tc.want {
				t.Fatalf("%d TCP dials for 8 connections, want %d", d, tc.want)
			}
		})
	}
}

// corruptMetadata makes the next getResultMetadata answer unreadable.
func corruptMetadata(on *atomic.Bool) grpc.DialOption {
	return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := inv(ctx, method, req, reply, cc, opts...)
		if r, ok := reply.(*enginepb.GetResultMetadataResponse); ok && err == nil && on.Load() {
			r.ResultMetaData = []byte{0, 0, 0}
		}
		return err
	})
}

const errToken = "tok-SECRET-5f1c9e"

// Every sentinel is reachable from a real failure, with errors.Is and as an
// *Error, and no error text shows the token.
func TestErrorsSentinelsFromRealFailures(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig, ChunkRows: 100, Users: e6sim.Users{"alice@example.com": errToken}})
		var corrupt atomic.Bool
		open := func(opts ...e6data.Option) (*sql.DB, *e6data.Connector) {
			return openDB(t, srv, append([]e6data.Option{e6data.WithCredentials("alice@example.com", errToken), e6data.WithRetry(3, 100*time.Millisecond),
				e6data.WithDialOptions(corruptMetadata(&corrupt))}, opts...)...)
		}
		db, ctr := open()
		ctx := context.Background()
		check := func(name string, err error, sentinel error) {
			t.Helper()
			var e *e6data.Error
			if !errors.Is(err, sentinel) || !errors.As(err, &e) {
				t.Errorf("%s: err = %v, want %v as *Error", name, err, sentinel)
				return
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), e.Message} {
				if strings.Contains(s, "SECRET") {
					t.Errorf("%s: error text shows the token: %s", name, s)
				}
			}
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				if strings.Contains(u.Error(), "SECRET") {
					t.Errorf("%s: cause shows the token: %v", name, u)
				}
			}
			t.Logf("%s: %v", name, err)
		}

		bad, _ := open(e6data.WithCredentials("alice@example.com", "wrong-SECRET-1"))
		check("ErrAuth", bad.Ping(), e6data.ErrAuth)

		_, err := db.Query("SELECT * FROM no_such_table")
		check("ErrQueryFailed", err, e6data.ErrQueryFailed)

		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		_, err = db.QueryContext(cctx, longQuery)
		cancel()
		check("ErrQueryCancelled", err, e6data.ErrQueryCancelled)

		corrupt.Store(true)
		_, err = db.Query("SELECT 1")
		corrupt.Store(false)
		check("ErrProtocol", err, e6data.ErrProtocol)

		_ = srv.SetFaults([]e6sim.FaultRule{{Method: "prepareStatementV2", Kind: e6sim.FaultUnavailable}})
		_, err = db.Query("SELECT 1")
		check("ErrRetriesExhausted", err, e6data.ErrRetriesExhausted)

		_ = srv.SetFaults([]e6sim.FaultRule{{Method: "prepareStatementV2", Kind: e6sim.FaultAccessDenied}})
		_, err = db.Query("SELECT 1")
		check("ErrSessionExpired", err, e6data.ErrSessionExpired)

		_ = srv.SetFaults([]e6sim.FaultRule{{Method: "authenticate", Kind: e6sim.Fault456}, {Method: "prepareStatementV2", Kind: e6sim.Fault456}})
		fresh, _ := open()
		check("ErrStrategyMismatch", fresh.Ping(), e6data.ErrStrategyMismatch)
		srv.ClearFaults()

		rows, err := db.Query("SELECT id FROM numbers")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10 && rows.Next(); i++ {
		}
		if err := srv.Switch(ctx, 0, 0); err != nil { // abrupt: the query is lost
			t.Fatal(err)
		}
		for rows.Next() {
		}
		check("ErrQueryInterrupted", rows.Err(), e6data.ErrQueryInterrupted)
		rows.Close()

		off, _ := open(e6data.WithAutoResume(false, 0))
		srv.Suspend()
		check("ErrClusterUnavailable", off.Ping(), e6data.ErrClusterUnavailable)
		srv.Resume()
		waitFor(t, time.Minute, "the cluster to be active", func() bool { return srv.ClusterStatus() == e6sim.StatusActive })

		sc, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ctr.Close()
		_, err = sc.QueryContext(ctx, "SELECT 1")
		check("ErrConnClosed", err, e6data.ErrConnClosed)
		sc.Close()
	})
}

// A failing statement whose text the server echoes must not be taken for a
// 456 or 503 signal because the SQL mentions a status.
func TestErrorsSQLMentioningStatusIsNotASignal(t *testing.T) {
	signals(t, func(t *testing.T, sig e6sim.Signal) {
		srv := startSim(t, e6sim.Config{Signal: sig})
		db, ctr := openDB(t, srv)
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		before := srv.Stats()
		for _, q := range []string{
			"SELECT nonexist FROM orders WHERE status = 503",
			"SELECT nonexist FROM orders WHERE status = 456",
			"SELECT 'status: 503' + 1",
			`SELECT "status: 456" FROM orders`,
			"SELECT http_status FROM orders WHERE http_status: 503",
		} {
			start := time.Now()
			_, err := db.Query(q)
			if !errors.Is(err, e6data.ErrQueryFailed) || errors.Is(err, e6data.ErrClusterUnavailable) || errors.Is(err, e6data.ErrStrategyMismatch) {
				t.Errorf("%q: err = %v, want a plain ErrQueryFailed", q, err)
			}
			var e *e6data.Error
			if errors.As(err, &e) && (e.Attempts > 1 || e.Retryable) {
				t.Errorf("%q: retried (%d attempts, retryable %v)", q, e.Attempts, e.Retryable)
			}
			if took := time.Since(start); took > time.Minute {
				t.Errorf("%q took %v (hung in recovery?)", q, took)
			}
		}
		after := srv.Stats()
		if after.RPCs["ClusterService/status"] != before.RPCs["ClusterService/status"] || ctr.Stats().WrongStrategy != 0 {
			t.Fatalf("a bad statement was taken for a signal: %v, 456 seen %d", after.RPCs, ctr.Stats().WrongStrategy)
		}
	})
}
