package e6data

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The process-wide cluster registry, without a server: Connectors are made
// and closed, no call is made. How Connectors to one cluster share its
// strategy under load is tested end to end in internal/e2e/cluster_test.go.

// forgetTarget drops the released cluster states of target (host:port), so
// that a later test on the same port starts from nothing. States in use
// stay.
func (r *clusterRegistry) forgetTarget(target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prefix := strings.ToLower(target) + "/"
	for key, cl := range r.clusters {
		if strings.HasPrefix(key, prefix) && cl.lru != nil {
			r.released.Remove(cl.lru)
			cl.lru = nil
			delete(r.clusters, key)
		}
	}
}

// advance moves the clock of cl's strategy state forward by d.
func (cl *cluster) advance(d time.Duration) { cl.skew.Add(int64(d)) }

func (cl *cluster) memberCount() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.members)
}

// released reports whether cl is kept among the released clusters.
func (cl *cluster) released() bool {
	clusters.mu.Lock()
	defer clusters.mu.Unlock()
	return cl.lru != nil
}

// registryConfig is a configuration for a port nothing listens on (no call
// is made), forgotten by the registry when the test ends.
func registryConfig(t *testing.T, port int, opts ...Option) *Config {
	t.Helper()
	base := []Option{WithSetting("Host", "127.0.0.1"), WithSetting("Port", strconv.Itoa(port)), WithCredentials("alice@example.com", "token"),
		WithLogger(slog.New(slog.DiscardHandler))}
	cfg, err := LoadConfig("", nil, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clusters.forgetTarget(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))) })
	return cfg
}

func TestClusterKey(t *testing.T) {
	cfg := func(name string) *Config { return &Config{ClusterName: name} }
	if a, b := clusterKey(cfg("Sales"), "DB.Example.com:443"), clusterKey(cfg("sales"), "db.example.com:443"); a != b {
		t.Errorf("keys differ only in case: %q %q", a, b)
	}
	keys := map[string]bool{}
	for _, k := range []string{
		clusterKey(cfg(""), "db.example.com:443"),
		clusterKey(cfg("sales"), "db.example.com:443"),
		clusterKey(cfg("ops"), "db.example.com:443"),
		clusterKey(cfg("sales"), "db.example.com:80"),
		clusterKey(cfg("sales"), "db2.example.com:443"),
	} {
		if keys[k] {
			t.Errorf("two targets share the key %q", k)
		}
		keys[k] = true
	}
}

// The state is released when the last Connector closes, and kept (with
// StrategyCacheSize at least 1) for the next Connector to the cluster.
func TestClusterReleasedOnLastClose(t *testing.T) {
	cfg := registryConfig(t, 3)
	a, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl := a.cl
	if b.cl != cl || cl.memberCount() != 2 || clusters.lookup(cl.key) != cl {
		t.Fatalf("two Connectors: shared %v, members %d", b.cl == cl, cl.memberCount())
	}
	if a.state != b.state {
		t.Fatal("two Connectors to one cluster keep separate strategy states")
	}
	a.Close()
	a.Close() // idempotent: released once
	if cl.memberCount() != 1 || cl.released() {
		t.Fatalf("after the first Close: members %d, released %v", cl.memberCount(), cl.released())
	}
	b.Close()
	if cl.memberCount() != 0 || !cl.released() || clusters.lookup(cl.key) != cl {
		t.Fatalf("after the last Close: members %d, released %v", cl.memberCount(), cl.released())
	}
	c, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.cl != cl || cl.released() || cl.memberCount() != 1 {
		t.Fatalf("reopened: same state %v, released %v", c.cl == cl, cl.released())
	}
	// Another cluster name on the same target is another cluster.
	d, err := NewConnector(registryConfig(t, 3, WithSetting("ClusterName", "other")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.cl == cl || d.state == c.state {
		t.Fatal("two cluster names on one target share a state")
	}
}

// Released states beyond StrategyCacheSize are dropped, least recently
// released first; a state in use is never dropped, whatever the size.
func TestClusterRegistryEvictsReleasedOnly(t *testing.T) {
	size1 := WithSetting("E6DATA_STRATEGY_CACHE_SIZE", "1")
	open := func(port int) *Connector {
		t.Helper()
		c, err := NewConnector(registryConfig(t, port, size1))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	inUse := open(4)
	defer inUse.Close()
	a := open(5)
	aKey := a.cl.key
	a.Close()
	b := open(6)
	b.Close() // released after a: a goes (size 1)
	if clusters.lookup(aKey) != nil {
		t.Fatal("size 1 kept two released states")
	}
	if clusters.lookup(b.cl.key) != b.cl {
		t.Fatal("the most recently released state was dropped")
	}
	if got := clusters.lookup(inUse.cl.key); got != inUse.cl {
		t.Fatal("a state in use was dropped")
	}
}

// Connectors opened and closed concurrently on two targets share one state
// per target and leave each released, with no member, when all are closed.
func TestClusterRegistryConcurrentOpenClose(t *testing.T) {
	targets := []int{1, 2} // ports nothing listens on: no call is made
	cfgs := make([]*Config, len(targets))
	for i, port := range targets {
		cfgs[i] = registryConfig(t, port, WithSetting("E6DATA_STRATEGY_CACHE_SIZE", "2"))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := cfgs[g%len(cfgs)]
			for i := 0; i < 20; i++ {
				c, err := NewConnector(cfg)
				if err != nil {
					errs <- err
					return
				}
				if got := clusters.lookup(clusterKey(cfg, c.target)); got != c.cl {
					errs <- fmt.Errorf("the registry holds another state than an open Connector's")
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, cfg := range cfgs {
		cl := clusters.lookup(clusterKey(cfg, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))))
		if cl == nil || cl.memberCount() != 0 || !cl.released() {
			t.Fatalf("after every Close: state %v", cl)
		}
	}
}
