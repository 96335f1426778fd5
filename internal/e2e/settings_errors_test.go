package e2e

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

func wantErrNaming(t *testing.T, err, sentinel error, not error, words ...string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("want %v, got %v", sentinel, err)
	}
	if not != nil && errors.Is(err, not) {
		t.Fatalf("%v is also %v", err, not)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not say %q", err, w)
		}
	}
}

// A prepare cut by prepare-timeout is ErrTimeout naming the setting and
// the address: the caller cancelled nothing.
func TestPrepareTimeoutIsItsOwnError(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	db, _ := openDB(t, srv, e6data.WithGRPCOptions(map[string]any{"grpc_prepare_timeout": 1}))
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "prepareStatementV2", Kind: e6sim.FaultStall}, {Method: "prepareStatement", Kind: e6sim.FaultStall}}); err != nil {
		t.Fatal(err)
	}
	_, err := db.Query("SELECT 1")
	wantErrNaming(t, err, e6data.ErrTimeout, e6data.ErrQueryCancelled, "prepare-timeout=1s", srv.Addr())
}

// A connect cut by connection-timeout (the server stalls authenticate) is
// ErrTimeout naming the setting and the address.
func TestConnectTimeoutIsItsOwnError(t *testing.T) {
	srv := startSim(t, e6sim.Config{})
	ctr, err := e6data.NewConnector(testConfig(t, srv, e6data.WithSetting("connection-timeout", "1")))
	if err != nil {
		t.Fatal(err)
	}
	defer ctr.Close()
	if err := srv.SetFaults([]e6sim.FaultRule{{Method: "authenticate", Kind: e6sim.FaultStall}}); err != nil {
		t.Fatal(err)
	}
	_, err = ctr.Connect(context.Background())
	wantErrNaming(t, err, e6data.ErrTimeout, e6data.ErrQueryCancelled, "connection-timeout=1s", srv.Addr())
}

// The client-side send limit is ErrMessageTooLarge naming the setting.
func TestSendSizeLimitSaysWhatItIs(t *testing.T) {
	srv := startSim(t, e6sim.Config{MaxRecvMsgSize: 64 << 20})
	db, _ := openDB(t, srv, e6data.WithSetting("max-send-msg-length", "1048576"))
	q := "SELECT '" + strings.Repeat("x", 2<<20) + "'"
	_, err := db.Query(q)
	wantErrNaming(t, err, e6data.ErrMessageTooLarge, e6data.ErrQueryFailed, "max-send-msg-length", "E6DATA_MAX_SEND_MSG_LENGTH")
}

// An unknown cluster name is ErrClusterNotFound, not a failed query.
func TestClusterNotFoundSaysWhatItIs(t *testing.T) {
	srv := startSim(t, e6sim.Config{ClusterName: "prod"})
	db, _ := openDB(t, srv, e6data.WithSetting("ClusterName", "staging"))
	err := db.Ping()
	wantErrNaming(t, err, e6data.ErrClusterNotFound, e6data.ErrQueryFailed, "staging")
}

// An unknown host is named, and not retried until the timeout.
func TestUnknownHostIsNamed(t *testing.T) {
	var dnsErr *net.DNSError
	if _, err := net.LookupHost("nosuchhost.invalid"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Skipf("this machine's resolver does not answer \"no such host\": %v", err)
	}
	cfg, err := e6data.LoadConfig("e6data://u:t@nosuchhost.invalid:4000/?log-level=error&connection-timeout=20", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := e6data.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ctr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = ctr.Connect(ctx)
	wantErrNaming(t, err, e6data.ErrUnknownHost, e6data.ErrTimeout, `"nosuchhost.invalid"`, "E6DATA_HOST")
}
