package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/testpki"
)

var loopbackIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

// startTLSSim starts a simulator serving TLS with the given certificate
// (and requiring client certificates signed by clientCA, when given).
func startTLSSim(t *testing.T, certFile, keyFile, clientCA string) *e6sim.Server {
	t.Helper()
	return startSim(t, e6sim.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: clientCA})
}

// tlsQuery runs SELECT 1 over a fresh connector and returns its error.
func tlsQuery(t *testing.T, srv *e6sim.Server, opts ...e6data.Option) error {
	t.Helper()
	opts = append([]e6data.Option{e6data.WithSetting("Secure", "true"), e6data.WithRetry(3, 100*time.Millisecond)}, opts...)
	db, _ := openDB(t, srv, opts...)
	var one int
	err := db.QueryRow("SELECT 1").Scan(&one)
	if err == nil && one != 1 {
		t.Fatalf("SELECT 1 gave %d", one)
	}
	return err
}

// checkTLSFailure: err is a non-retryable *Error matching ErrTLS, made in
// one attempt (a certificate problem does not go away by retrying), whose
// text holds every one of want.
func checkTLSFailure(t *testing.T, srv *e6sim.Server, authsBefore int64, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("the connection was accepted")
	}
	t.Logf("error: %v", err)
	var e *e6data.Error
	if !errors.As(err, &e) || !errors.Is(err, e6data.ErrTLS) || e.Retryable || e6data.SafeToRetry(err) {
		t.Errorf("error %v (%T) is not a non-retryable *Error matching ErrTLS", err, err)
	}
	if errors.Is(err, e6data.ErrRetriesExhausted) || e != nil && e.Attempts > 1 {
		t.Errorf("a certificate failure was retried: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if n := authCalls(srv) - authsBefore; n != 0 {
		t.Errorf("%d authenticate calls reached the server over an unverified connection", n)
	}
}

func TestTLSVerifiedWithCustomCA(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	cert, key := ca.Issue("server", testpki.Leaf{DNS: []string{"localhost"}, IPs: loopbackIPs})
	srv := startTLSSim(t, cert, key, "")
	if err := tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true")); err != nil {
		t.Fatalf("verified TLS with the custom CA file: %v", err)
	}
	pemData, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsQuery(t, srv, e6data.WithCAPEM(pemData)); err != nil {
		t.Fatalf("verified TLS with the CA given as PEM: %v", err)
	}
	// By name: the certificate holds localhost too.
	if err := tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"), e6data.WithSetting("ServerName", "localhost")); err != nil {
		t.Fatalf("verified TLS checked against localhost: %v", err)
	}
	// The connection really is TLS: a plaintext client is refused.
	if err := tlsQuery(t, srv, e6data.WithSetting("Secure", "false")); err == nil {
		t.Fatal("a plaintext client was served by a TLS simulator")
	}
}

func TestTLSUnknownAuthority(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	cert, key := ca.Issue("server", testpki.Leaf{IPs: loopbackIPs})
	srv := startTLSSim(t, cert, key, "")
	// The system roots do not hold the test CA.
	err := tlsQuery(t, srv)
	checkTLSFailure(t, srv, 0, err, "certificate", "unknown authority")
	// Nor does another CA.
	other := testpki.New(t, "other")
	err = tlsQuery(t, srv, e6data.WithSetting("CAFile", other.CAFile), e6data.WithSetting("Secure", "true"))
	checkTLSFailure(t, srv, 0, err, "certificate", "unknown authority")
}

func TestTLSHostnameMismatch(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	cert, key := ca.Issue("server", testpki.Leaf{DNS: []string{"engine.example.com"}})
	srv := startTLSSim(t, cert, key, "")
	err := tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"))
	checkTLSFailure(t, srv, 0, err, "certificate", "127.0.0.1")
	// With the right server name it is accepted; with a wrong one it is not.
	if err := tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"), e6data.WithSetting("ServerName", "engine.example.com")); err != nil {
		t.Fatalf("server name override: %v", err)
	}
	before := authCalls(srv)
	err = tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"), e6data.WithSetting("ServerName", "other.example.com"))
	checkTLSFailure(t, srv, before, err, "certificate", "other.example.com")
}

func TestTLSExpiredCertificate(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	cert, key := ca.Issue("server", testpki.Leaf{IPs: loopbackIPs, NotAfter: time.Now().Add(-time.Hour)})
	srv := startTLSSim(t, cert, key, "")
	err := tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"))
	checkTLSFailure(t, srv, 0, err, "certificate", "expired")
}

func TestTLSMutual(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	cert, key := ca.Issue("server", testpki.Leaf{IPs: loopbackIPs})
	clientCA := testpki.New(t, "clients")
	ccert, ckey := clientCA.Issue("client", testpki.Leaf{Client: true})
	srv := startTLSSim(t, cert, key, clientCA.CAFile)

	if err := tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"), e6data.WithSetting("ClientCertFile", ccert), e6data.WithSetting("ClientKeyFile", ckey)); err != nil {
		t.Fatalf("mutual TLS with a client certificate: %v", err)
	}
	// Without a client certificate, or with one the server's client CA did
	// not sign. Under TLS 1.3 the server checks it after the client's
	// handshake is over, and its alert may lose the race with the client's
	// first write ("broken pipe"), so only the refusal, the bound on
	// attempts and, when the alert arrived, ErrTLS are certain here.
	before := authCalls(srv)
	stranger, skey := ca.Issue("stranger", testpki.Leaf{Client: true})
	for name, opts := range map[string][]e6data.Option{
		"no client certificate":          {e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true")},
		"a certificate of another CA":    {e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"), e6data.WithSetting("ClientCertFile", stranger), e6data.WithSetting("ClientKeyFile", skey)},
		"no client certificate, TLS 1.2": {e6data.WithTLSConfig(tls12(t, ca.CAFile, "", ""))},
		"another CA's certificate, 1.2":  {e6data.WithTLSConfig(tls12(t, ca.CAFile, stranger, skey))},
	} {
		err := tlsQuery(t, srv, opts...)
		var e *e6data.Error
		if err == nil || !errors.As(err, &e) || e.Attempts > 3 {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), "remote error: tls:") && !errors.Is(err, e6data.ErrTLS) {
			t.Errorf("%s: a certificate alert is not ErrTLS: %v", name, err)
		}
		if strings.HasSuffix(name, "1.2") && !errors.Is(err, e6data.ErrTLS) {
			t.Errorf("%s: under TLS 1.2 the refusal is part of the handshake, want ErrTLS: %v", name, err)
		}
	}
	if n := authCalls(srv) - before; n != 0 {
		t.Errorf("%d authentications got through without a trusted client certificate", n)
	}
}

// tls12 is a client TLS configuration capped at TLS 1.2 trusting caFile,
// with a client certificate when certFile is set.
func tls12(t *testing.T, caFile, certFile, keyFile string) *tls.Config {
	t.Helper()
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA certificate in " + caFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// TestTLSMinimumVersion: a server that offers nothing above TLS 1.1 is
// refused at once.
func TestTLSMinimumVersion(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	certFile, keyFile := ca.Issue("server", testpki.Leaf{IPs: loopbackIPs})
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSim(t, e6sim.Config{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}) //nolint:gosec // the old version is the point
	err = tlsQuery(t, srv, e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("Secure", "true"))
	checkTLSFailure(t, srv, 0, err, "protocol version")
}

// TestTLSPlaintextServer: TLS towards a server that does not speak it.
func TestTLSPlaintextServer(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	err := tlsQuery(t, srv)
	checkTLSFailure(t, srv, 0, err, "TLS handshake")
}

func TestTLSInsecureSkipVerifyWarns(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	cert, key := ca.Issue("server", testpki.Leaf{DNS: []string{"engine.example.com"}, NotAfter: time.Now().Add(-time.Hour)})
	srv := startTLSSim(t, cert, key, "")
	for _, opt := range []e6data.Option{e6data.WithSetting("InsecureSkipVerify", "true"), e6data.WithSetting("insecure-skip-verify", "true"),
		e6data.WithTLSConfig(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})} {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		// Expired, wrong name, unknown CA: accepted all the same.
		if err := tlsQuery(t, srv, opt, e6data.WithLogger(logger)); err != nil {
			t.Fatalf("insecure-skip-verify did not connect: %v", err)
		}
		text := logs.String()
		if strings.Count(text, "level=WARN msg=\"INSECURE: ") != 1 || !strings.Contains(text, "NOT verified") ||
			!strings.Contains(text, "man in the middle") {
			t.Errorf("no loud WARN at connector creation:\n%s", text)
		}
	}
}

// A connector with several gRPC connections speaks TLS on every one of
// them, reports its health through them, and Close ends them all (the
// package's goleak check sees any left behind).
func TestTLSWithSeveralGRPCConnections(t *testing.T) {
	ca := testpki.New(t, "e6data-test")
	cert, key := ca.Issue("server", testpki.Leaf{DNS: []string{"localhost"}, IPs: loopbackIPs})
	srv := startTLSSim(t, cert, key, "")
	var dials atomic.Int64
	dialer := grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	})
	c, err := e6data.NewConnector(testConfig(t, srv, e6data.WithSetting("Secure", "true"), e6data.WithSetting("CAFile", ca.CAFile), e6data.WithSetting("GRPCConnections", "3"), e6data.WithDialOptions(dialer)))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	c.ConfigurePool(db)
	defer db.Close()
	for i := range 6 {
		var one int
		if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("query %d over TLS: %d, %v", i, one, err)
		}
	}
	if d := dials.Load(); d != 3 {
		t.Fatalf("%d TCP dials, want 3 (calls spread over every gRPC connection)", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 { // one status call per gRPC connection at least
		h, err := c.Health(ctx)
		if err != nil || !h.Healthy() {
			t.Fatalf("health %+v, %v", h, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(ctx); !errors.Is(err, e6data.ErrConnClosed) {
		t.Fatalf("Health after Close: %v, want ErrConnClosed", err)
	}
}
