package e6data

import (
	"crypto/tls"
	"crypto/x509"
	"os"
)

// insecureTLSRisk is the warning logged, at every connector creation, when
// server certificates are not verified.
const insecureTLSRisk = "the server certificate is NOT verified, so anyone on the network path " +
	"(a man in the middle) can pose as the cluster and read the token and every result; use it only in tests"

// insecureTLS reports whether the connection skips the verification of the
// server certificate, whichever way that was asked for.
func (c *Config) insecureTLS() bool {
	if !c.Secure {
		return false
	}
	if c.TLSConfig != nil {
		return c.TLSConfig.InsecureSkipVerify
	}
	return c.InsecureSkipVerify
}

// BuildTLS returns the TLS configuration of the connection: nil, nil when
// Secure is false; a clone of TLSConfig when it is set; otherwise a
// configuration with MinVersion TLS 1.2 that trusts the system roots, or
// only the CAs of CAFile and CAPEM when either is given, presents the
// client certificate of ClientCertFile/ClientKeyFile when given, and checks
// the server certificate against ServerName (default: the host). Errors
// are *ConfigError naming the file and the problem.
func (c *Config) BuildTLS() (*tls.Config, error) {
	if !c.Secure {
		return nil, nil
	}
	if c.TLSConfig != nil {
		return c.TLSConfig.Clone(), nil
	}
	t := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // opt-in, reported at WARN
	}
	if c.CAFile != "" || len(c.CAPEM) > 0 {
		pool := x509.NewCertPool()
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, &ConfigError{Key: c.keyFor("CAFile"), Value: c.CAFile, Source: "file",
					Expected: "a readable PEM file of CA certificates", Err: err}
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, &ConfigError{Key: c.keyFor("CAFile"), Value: c.CAFile, Source: "file",
					Expected: "a PEM file of CA certificates (it contains no PEM certificate)"}
			}
		}
		if len(c.CAPEM) > 0 && !pool.AppendCertsFromPEM(c.CAPEM) {
			return nil, &ConfigError{Key: "CAPEM", Source: string(SourceCode),
				Expected: "PEM-encoded CA certificates (none found)"}
		}
		t.RootCAs = pool
	}
	switch {
	case c.ClientCertFile != "" && c.ClientKeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.ClientCertFile, c.ClientKeyFile)
		if err != nil {
			return nil, &ConfigError{Key: c.keyFor("ClientCertFile") + "/" + c.keyFor("ClientKeyFile"),
				Value: c.ClientCertFile + " " + c.ClientKeyFile, Source: "file",
				Expected: "a PEM client certificate and its matching private key", Err: err}
		}
		t.Certificates = []tls.Certificate{cert}
	case c.ClientCertFile != "" || c.ClientKeyFile != "":
		return nil, &ConfigError{Key: "ClientCertFile/ClientKeyFile", Value: c.ClientCertFile + " " + c.ClientKeyFile,
			Source: string(c.sourceOf("ClientCertFile")), Expected: "both a client certificate and its key, or neither"}
	}
	return t, nil
}
