package e6sim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	"github.com/e6go/e6data/internal/enginepb"
)

func TestStartRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Strategy: "purple"}, `strategy "purple"`},
		{Config{Strategy: "Blue"}, `strategy "Blue"`},
		{Config{Signal: Signal(7)}, "signal"},
		{Config{SessionTTL: -time.Second}, "SessionTTL"},
		{Config{ChunkRows: -1}, "ChunkRows"},
		{Config{TLSCertFile: cert}, "together"},
		{Config{TLSCertFile: cert, TLSKeyFile: key, TLSConfig: &tls.Config{}}, "not both"},
		{Config{TLSCertFile: filepath.Join(dir, "nope"), TLSKeyFile: key}, "TLS certificate"},
		{Config{TLSClientCAFile: cert}, "TLSClientCAFile needs TLSCertFile"},
		{Config{TLSCertFile: cert, TLSKeyFile: key, TLSClientCAFile: filepath.Join(dir, "nope")}, "TLS client CA"},
		{Config{TLSCertFile: cert, TLSKeyFile: key, TLSClientCAFile: key}, "no PEM certificate"},
		{Config{Users: map[string]string{"a": "b"}, UsersFile: "x"}, "not both"},
		{Config{UsersFile: filepath.Join(dir, "nope")}, "users file"},
		{Config{Addr: busy.Addr().String()}, "engine listener"},
		{Config{AdminAddr: busy.Addr().String()}, "admin listener"},
		{Config{Addr: "not an address"}, "engine listener"},
	} {
		tc.cfg.DB = testDB(t)
		s, err := Start(context.Background(), tc.cfg)
		if err == nil {
			s.Close()
			t.Errorf("%+v: started", tc.cfg)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "e6sim: ") {
			t.Errorf("%+v: error %q, want it to mention %q", tc.cfg, err, tc.want)
		}
	}
}

func TestUsersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	must(t, os.WriteFile(path, []byte("# users\nalice token\n"), 0o600))
	s := start(t, Config{UsersFile: path})
	c := dial(t, s.Addr())
	c.mustAuth("blue")
	if _, err := c.qe.Authenticate(ctxFor(t, ""), &enginepb.AuthenticateRequest{User: "bob", Password: "token"}); err == nil {
		t.Fatal("unknown user authenticated")
	}
	_, err := c.cl.Status(ctxFor(t, ""), &enginepb.ClusterStatusRequest{User: "bob", Password: "token"})
	wantCode(t, err, codes.Unauthenticated, "")
}

func TestCloseIsIdempotent(t *testing.T) {
	s, err := Start(context.Background(), Config{DB: testDB(t), AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr())
	c.mustAuth("blue")
	must(t, s.Close())
	must(t, s.Close())
	must(t, s.Shutdown(context.Background()))
	if err := s.Switch(context.Background(), 0, 0); err != ErrClosed {
		t.Fatalf("Switch after Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("engine port still open")
	}
	if _, err := net.DialTimeout("tcp", s.AdminAddr(), time.Second); err == nil {
		t.Fatal("admin port still open")
	}
	// The shared database is not closed by Close: another simulator works.
	s2 := start(t, Config{})
	c2 := dial(t, s2.Addr())
	c2.mustQuery("blue", c2.mustAuth("blue"), "SELECT 1")
}

func TestStrayRequests(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	s := start(t, Config{})
	// HTTP/1 on the engine port: a readable refusal, no crash.
	resp, err := http.Get("http://" + s.Addr() + "/QueryEngineService/authenticate")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 400 || len(body) == 0 {
		t.Fatalf("HTTP/1 GET: %d %q", resp.StatusCode, body)
	}
	// An rpc that does not exist.
	c := dial(t, s.Addr())
	err = c.cc.Invoke(ctxFor(t, "blue"), "/QueryEngineService/noSuchRpc", &enginepb.HealthCheckRequest{}, &enginepb.HealthCheckResponse{})
	wantCode(t, err, codes.Unimplemented, "")
	if got := s.Stats().RPCs["QueryEngineService/noSuchRpc"]; got != 0 {
		t.Fatalf("unknown rpc counted: %d", got)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	pemBytes, err := os.ReadFile(certFile)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	creds := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))

	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	must(t, err)
	for name, cfg := range map[string]Config{
		"files":  {TLSCertFile: certFile, TLSKeyFile: keyFile},
		"config": {TLSConfig: &tls.Config{Certificates: []tls.Certificate{kp}}},
	} {
		t.Run(name, func(t *testing.T) {
			s := start(t, cfg)
			c := dial(t, s.Addr(), creds)
			c.mustQuery("blue", c.mustAuth("blue"), "SELECT 1")
			_, err := c.auth("green")
			wantSignal(t, err, SignalHTTP, 456)
			s.Suspend()
			_, err = c.auth("blue")
			wantSignal(t, err, SignalHTTP, 503)
			// Plaintext clients cannot talk to a TLS simulator.
			plain := dial(t, s.Addr())
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if _, err := plain.qe.HealthCheck(ctx, &enginepb.HealthCheckRequest{}); err == nil {
				t.Fatal("plaintext call to a TLS server succeeded")
			}
		})
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "e6sim test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile
}
