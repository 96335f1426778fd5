package e6data

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data/internal/testpki"

	"google.golang.org/grpc"
)

// testPKI is a CA and a certificate it signed, generated for the test.
type testPKI struct {
	caPEM             []byte
	caFile            string
	leafCert, leafKey string // files
	leaf              tls.Certificate
}

func newTestPKI(t *testing.T, dnsName string) *testPKI {
	t.Helper()
	ca := testpki.New(t, "e6data test CA")
	certFile, keyFile := ca.Issue(dnsName, testpki.Leaf{DNS: []string{dnsName}, Both: true})
	caPEM, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{caPEM: caPEM, caFile: ca.CAFile, leafCert: certFile, leafKey: keyFile, leaf: leaf}
}

// handshake runs a TLS handshake between client config cc and a server
// presenting the PKI's leaf certificate, over loopback TCP (a net.Pipe
// would deadlock when one side aborts while the other is writing).
func handshake(t *testing.T, p *testPKI, cc *tls.Config, requireClientCert bool) error {
	t.Helper()
	sc := &tls.Config{Certificates: []tls.Certificate{p.leaf}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(p.caPEM)
		sc.ClientCAs, sc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		err = conn.(*tls.Conn).Handshake()
		if err == nil {
			_, err = conn.Write([]byte("k")) // proves the server accepted the client
		}
		srvErr <- err
	}()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), cc)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	sErr := <-srvErr
	if err == nil {
		err = sErr
	}
	return err
}

func TestTLSBuildNotSecure(t *testing.T) {
	c := DefaultConfig()
	tc, err := c.BuildTLS()
	if tc != nil || err != nil {
		t.Errorf("BuildTLS without Secure = %v, %v", tc, err)
	}
}

func TestTLSBuildSystemRoots(t *testing.T) {
	c := DefaultConfig()
	c.Secure = true
	tc, err := c.BuildTLS()
	if err != nil {
		t.Fatal(err)
	}
	if tc.RootCAs != nil || tc.MinVersion != tls.VersionTLS12 || tc.InsecureSkipVerify || tc.ServerName != "" {
		t.Errorf("unexpected TLS config %+v", tc)
	}
}

func TestTLSBuildWithCAFile(t *testing.T) {
	p := newTestPKI(t, "engine.test")
	cfg, err := LoadConfig("e6data://u:t@engine.test?secure=true&ca-file="+escapeDSN(p.caFile, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := cfg.BuildTLS()
	if err != nil {
		t.Fatal(err)
	}
	tc.ServerName = "engine.test" // what gRPC does from the target
	if err := handshake(t, p, tc, false); err != nil {
		t.Errorf("handshake with the test CA: %v", err)
	}
	// The wrong name is refused; ServerName fixes it.
	tc.ServerName = "other.test"
	if err := handshake(t, p, tc, false); err == nil {
		t.Error("handshake with a wrong server name succeeded")
	}
	cfg.ServerName = "engine.test"
	tc, err = cfg.BuildTLS()
	if err != nil || tc.ServerName != "engine.test" {
		t.Fatalf("ServerName: %v %v", tc, err)
	}
	if err := handshake(t, p, tc, false); err != nil {
		t.Errorf("handshake with ServerName: %v", err)
	}
	// Without the CA, the certificate is not trusted.
	plain := DefaultConfig()
	plain.Secure, plain.ServerName = true, "engine.test"
	tc, _ = plain.BuildTLS()
	if err := handshake(t, p, tc, false); err == nil {
		t.Error("handshake trusted a certificate of an unknown CA")
	}
}

func TestTLSBuildWithCAPEMAndClientCert(t *testing.T) {
	p := newTestPKI(t, "engine.test")
	cfg, err := LoadConfig("", baseEnv(), WithCAPEM(p.caPEM), WithSetting("ClientCertFile", p.leafCert), WithSetting("ClientKeyFile", p.leafKey), WithSetting("Secure", "true"), WithSetting("ServerName", "engine.test"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Secure {
		t.Error("TLS options did not turn Secure on")
	}
	tc, err := cfg.BuildTLS()
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Certificates) != 1 {
		t.Fatalf("client certificate not loaded")
	}
	if err := handshake(t, p, tc, true); err != nil {
		t.Errorf("mutual TLS handshake: %v", err)
	}
}

func TestTLSBuildErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name  string
		cfg   func(c *Config)
		wants []string
	}{
		{"missing CA file", func(c *Config) { c.CAFile = missing }, []string{missing, "readable PEM file", "no such file"}},
		{"CA file without certificates", func(c *Config) { c.CAFile = garbage }, []string{garbage, "contains no PEM certificate"}},
		{"CAPEM without certificates", func(c *Config) { c.CAPEM = []byte("x") }, []string{"CAPEM", "none found"}},
		{"missing client cert", func(c *Config) { c.ClientCertFile, c.ClientKeyFile = missing, garbage }, []string{missing, "client certificate"}},
		{"cert without key", func(c *Config) { c.ClientCertFile = garbage }, []string{"ClientCertFile", "or neither"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Secure = true
			tc.cfg(c)
			_, err := c.BuildTLS()
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			if _, err := c.dialOptions(); err == nil {
				t.Error("dialOptions ignored the TLS error")
			}
		})
	}
	// The error names the variable that set the file.
	c, err := LoadConfig("", baseEnv("E6DATA_SECURE=true", "E6DATA_CA_FILE="+missing))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.BuildTLS(); err == nil || !strings.Contains(err.Error(), "E6DATA_CA_FILE") {
		t.Errorf("error does not name the variable: %v", err)
	}
}

func TestTLSConfigOverride(t *testing.T) {
	own := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "mine"}
	c, err := LoadConfig("e6data://u:t@h?ca-file=/nonexistent", nil, WithTLSConfig(own))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.BuildTLS()
	if err != nil {
		t.Fatal(err)
	}
	if tc == own || tc.ServerName != "mine" || tc.MinVersion != tls.VersionTLS13 {
		t.Errorf("override not cloned as is: %+v", tc)
	}
	if _, ok := findDiag(c, 4, "TLSConfig"); !ok {
		t.Errorf("no WARN that ca-file is ignored: %v", c.Diagnostics())
	}
}

func TestTLSInsecureSkipVerify(t *testing.T) {
	p := newTestPKI(t, "engine.test")
	c, err := LoadConfig("", baseEnv(), WithSetting("InsecureSkipVerify", "true"), WithSetting("Secure", "true"))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.BuildTLS()
	if err != nil || !tc.InsecureSkipVerify {
		t.Fatalf("%v %v", tc, err)
	}
	if err := handshake(t, p, tc, false); err != nil {
		t.Errorf("insecure handshake: %v", err)
	}
	if _, ok := findDiag(c, 4, "InsecureSkipVerify"); !ok {
		t.Errorf("no WARN diagnostic: %v", c.Diagnostics())
	}
}

func TestTLSGRPCDialOptions(t *testing.T) {
	for _, secure := range []bool{false, true} {
		c, err := LoadConfig("", baseEnv(), WithSetting("Secure", strconv.FormatBool(secure)), WithDialOptions(grpc.WithUserAgent("test")))
		if err != nil {
			t.Fatal(err)
		}
		opts, err := c.dialOptions()
		if err != nil {
			t.Fatal(err)
		}
		if len(opts) != 7 {
			t.Errorf("secure=%v: %d dial options, want 7", secure, len(opts))
		}
		cc, err := grpc.NewClient("passthrough:///engine.test:443", opts...)
		if err != nil {
			t.Fatalf("secure=%v: grpc.NewClient: %v", secure, err)
		}
		cc.Close()
	}
}
