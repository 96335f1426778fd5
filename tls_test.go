package e6data

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/e6go/e6data/e6sim"
)

// pki is a CA generated for one test, and the files of certificates it
// signed.
type pki struct {
	t      *testing.T
	dir    string
	key    *ecdsa.PrivateKey
	cert   *x509.Certificate
	caFile string
	serial int64
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{t: t, dir: t.TempDir(), key: key, cert: cert, serial: 1}
	p.caFile = p.write(name+"-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return p
}

func (p *pki) write(name string, data []byte) string {
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return f
}

// leafOpts shape a certificate.
type leafOpts struct {
	dns      []string
	ips      []net.IP
	notAfter time.Time // zero: a day from now
	client   bool      // client authentication instead of server
	both     bool      // server and client authentication
}

// issue signs a certificate and returns its certificate and key files.
func (p *pki) issue(name string, o leafOpts) (certFile, keyFile string) {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serial++
	notAfter := o.notAfter
	if notAfter.IsZero() {
		notAfter = time.Now().Add(24 * time.Hour)
	}
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	switch {
	case o.both:
		usage = append(usage, x509.ExtKeyUsageClientAuth)
	case o.client:
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     o.dns,
		IPAddresses:  o.ips,
		NotBefore:    notAfter.Add(-48 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.write(name+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		p.write(name+".key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

var loopbackIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

// startTLSSim starts a simulator serving TLS with the given certificate
// (and requiring client certificates signed by clientCA, when given).
func startTLSSim(t *testing.T, certFile, keyFile, clientCA string) *e6sim.Server {
	t.Helper()
	return startSim(t, e6sim.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: clientCA})
}

// tlsQuery runs SELECT 1 over a fresh connector and returns its error.
func tlsQuery(t *testing.T, srv *e6sim.Server, opts ...Option) error {
	t.Helper()
	opts = append([]Option{WithSecure(true), WithRetry(3, 100*time.Millisecond)}, opts...)
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
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrTLS) || e.Retryable || SafeToRetry(err) {
		t.Errorf("error %v (%T) is not a non-retryable *Error matching ErrTLS", err, err)
	}
	if errors.Is(err, ErrRetriesExhausted) || e != nil && e.Attempts > 1 {
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
	ca := newPKI(t, "e6data-test")
	cert, key := ca.issue("server", leafOpts{dns: []string{"localhost"}, ips: loopbackIPs})
	srv := startTLSSim(t, cert, key, "")
	if err := tlsQuery(t, srv, WithCAFile(ca.caFile)); err != nil {
		t.Fatalf("verified TLS with the custom CA file: %v", err)
	}
	pemData, err := os.ReadFile(ca.caFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsQuery(t, srv, WithCAPEM(pemData)); err != nil {
		t.Fatalf("verified TLS with the CA given as PEM: %v", err)
	}
	// By name: the certificate holds localhost too.
	if err := tlsQuery(t, srv, WithCAFile(ca.caFile), WithServerName("localhost")); err != nil {
		t.Fatalf("verified TLS checked against localhost: %v", err)
	}
	// The connection really is TLS: a plaintext client is refused.
	if err := tlsQuery(t, srv, WithSecure(false)); err == nil {
		t.Fatal("a plaintext client was served by a TLS simulator")
	}
}

func TestTLSUnknownAuthority(t *testing.T) {
	ca := newPKI(t, "e6data-test")
	cert, key := ca.issue("server", leafOpts{ips: loopbackIPs})
	srv := startTLSSim(t, cert, key, "")
	// The system roots do not hold the test CA.
	err := tlsQuery(t, srv)
	checkTLSFailure(t, srv, 0, err, "certificate", "unknown authority")
	// Nor does another CA.
	other := newPKI(t, "other")
	err = tlsQuery(t, srv, WithCAFile(other.caFile))
	checkTLSFailure(t, srv, 0, err, "certificate", "unknown authority")
}

func TestTLSHostnameMismatch(t *testing.T) {
	ca := newPKI(t, "e6data-test")
	cert, key := ca.issue("server", leafOpts{dns: []string{"engine.example.com"}})
	srv := startTLSSim(t, cert, key, "")
	err := tlsQuery(t, srv, WithCAFile(ca.caFile))
	checkTLSFailure(t, srv, 0, err, "certificate", "127.0.0.1")
	// With the right server name it is accepted; with a wrong one it is not.
	if err := tlsQuery(t, srv, WithCAFile(ca.caFile), WithServerName("engine.example.com")); err != nil {
		t.Fatalf("server name override: %v", err)
	}
	before := authCalls(srv)
	err = tlsQuery(t, srv, WithCAFile(ca.caFile), WithServerName("other.example.com"))
	checkTLSFailure(t, srv, before, err, "certificate", "other.example.com")
}

func TestTLSExpiredCertificate(t *testing.T) {
	ca := newPKI(t, "e6data-test")
	cert, key := ca.issue("server", leafOpts{ips: loopbackIPs, notAfter: time.Now().Add(-time.Hour)})
	srv := startTLSSim(t, cert, key, "")
	err := tlsQuery(t, srv, WithCAFile(ca.caFile))
	checkTLSFailure(t, srv, 0, err, "certificate", "expired")
}

func TestTLSMutual(t *testing.T) {
	ca := newPKI(t, "e6data-test")
	cert, key := ca.issue("server", leafOpts{ips: loopbackIPs})
	clientCA := newPKI(t, "clients")
	ccert, ckey := clientCA.issue("client", leafOpts{client: true})
	srv := startTLSSim(t, cert, key, clientCA.caFile)

	if err := tlsQuery(t, srv, WithCAFile(ca.caFile), WithClientCert(ccert, ckey)); err != nil {
		t.Fatalf("mutual TLS with a client certificate: %v", err)
	}
	// Without a client certificate, or with one the server's client CA did
	// not sign. Under TLS 1.3 the server checks it after the client's
	// handshake is over, and its alert may lose the race with the client's
	// first write ("broken pipe"), so only the refusal, the bound on
	// attempts and, when the alert arrived, ErrTLS are certain here.
	before := authCalls(srv)
	stranger, skey := ca.issue("stranger", leafOpts{client: true})
	for name, opts := range map[string][]Option{
		"no client certificate":          {WithCAFile(ca.caFile)},
		"a certificate of another CA":    {WithCAFile(ca.caFile), WithClientCert(stranger, skey)},
		"no client certificate, TLS 1.2": {WithTLSConfig(tls12(t, ca.caFile, "", ""))},
		"another CA's certificate, 1.2":  {WithTLSConfig(tls12(t, ca.caFile, stranger, skey))},
	} {
		err := tlsQuery(t, srv, opts...)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Attempts > 3 {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), "remote error: tls:") && !errors.Is(err, ErrTLS) {
			t.Errorf("%s: a certificate alert is not ErrTLS: %v", name, err)
		}
		if strings.HasSuffix(name, "1.2") && !errors.Is(err, ErrTLS) {
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
	ca := newPKI(t, "e6data-test")
	certFile, keyFile := ca.issue("server", leafOpts{ips: loopbackIPs})
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSim(t, e6sim.Config{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}) //nolint:gosec // the old version is the point
	err = tlsQuery(t, srv, WithCAFile(ca.caFile))
	checkTLSFailure(t, srv, 0, err, "protocol version")
}

// TestTLSPlaintextServer: TLS towards a server that does not speak it.
func TestTLSPlaintextServer(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	err := tlsQuery(t, srv)
	checkTLSFailure(t, srv, 0, err, "TLS handshake")
}

func TestTLSInsecureSkipVerifyWarns(t *testing.T) {
	ca := newPKI(t, "e6data-test")
	cert, key := ca.issue("server", leafOpts{dns: []string{"engine.example.com"}, notAfter: time.Now().Add(-time.Hour)})
	srv := startTLSSim(t, cert, key, "")
	for _, opt := range []Option{WithInsecureSkipVerify(true), WithSetting("insecure-skip-verify", "true"),
		WithTLSConfig(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})} {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		// Expired, wrong name, unknown CA: accepted all the same.
		if err := tlsQuery(t, srv, opt, WithLogger(logger)); err != nil {
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
	ca := newPKI(t, "e6data-test")
	cert, key := ca.issue("server", leafOpts{dns: []string{"localhost"}, ips: loopbackIPs})
	srv := startTLSSim(t, cert, key, "")
	var dials atomic.Int64
	dialer := grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	})
	c, err := NewConnector(testConfig(t, srv, WithSecure(true), WithCAFile(ca.caFile), WithGRPCConnections(3), WithDialOptions(dialer)))
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
	if _, err := c.Health(ctx); !errors.Is(err, ErrConnClosed) {
		t.Fatalf("Health after Close: %v, want ErrConnClosed", err)
	}
}
