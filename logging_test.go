package e6data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/grpclog"

	"github.com/e6go/e6data/internal/logcapture"
)

// newCapture returns a slog handler that records what the connector logs.
func newCapture() *logcapture.Handler { return logcapture.New() }

func TestLoggerLevelsPerComponent(t *testing.T) {
	capt := newCapture()
	c, err := LoadConfig("", baseEnv("E6DATA_LOG_LEVEL=WARNING", "E6DATA_STRATEGY_LOG_LEVEL=DEBUG", "E6DATA_GRPC_LOG_LEVEL=ERROR"),
		WithLogger(slog.New(capt)))
	if err != nil {
		t.Fatal(err)
	}
	log := c.NewLogger()
	strat := log.With("component", ComponentStrategy)
	grpcLog := log.With("component", ComponentGRPC)
	conn := log.With("component", ComponentConnector)
	for _, l := range []*slog.Logger{log, conn, strat, grpcLog} {
		l.Debug("debug")
		l.Info("info")
		l.Warn("warn")
		l.Error("error")
		l.Log(context.Background(), LevelCritical, "critical")
	}
	got := map[string][]string{}
	for _, r := range capt.Records() {
		comp := r.Attrs["component"]
		if strings.Contains(comp, "|") {
			t.Errorf("component attribute given twice: %q", comp)
		}
		got[comp] = append(got[comp], r.Msg)
	}
	want := map[string]string{
		"connector": "warn error critical warn error critical",
		"strategy":  "debug info warn error critical",
		"grpc":      "error critical",
	}
	for comp, w := range want {
		if g := strings.Join(got[comp], " "); g != w {
			t.Errorf("%s: got %q, want %q", comp, g, w)
		}
	}
	// A component given on the record itself is filtered too.
	before := len(capt.Records())
	strat.Debug("kept")
	log.Warn("dropped", "component", ComponentGRPC)
	if n := len(capt.Records()) - before; n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}

func TestLoggerTextJSONStdoutStderr(t *testing.T) {
	for _, tc := range []struct {
		format, output string
	}{{"text", "stderr"}, {"json", "stderr"}, {"text", "stdout"}, {"json", "stdout"}} {
		t.Run(tc.format+"/"+tc.output, func(t *testing.T) {
			c, err := LoadConfig("", baseEnv("E6DATA_LOG_FORMAT="+tc.format, "E6DATA_LOG_OUTPUT="+tc.output))
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			log, _ := c.newLogger(&stdout, &stderr)
			log.With("component", "strategy").Info("hello", "strategy", "blue", "query_id", "q1")
			log.Log(context.Background(), LevelCritical, "boom")
			out, other := &stderr, &stdout
			if tc.output == "stdout" {
				out, other = &stdout, &stderr
			}
			if other.Len() != 0 {
				t.Errorf("wrote to the other stream: %q", other)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("output %q", out)
			}
			if tc.format == "json" {
				var m map[string]any
				if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
					t.Fatalf("not JSON: %q", lines[0])
				}
				if m["msg"] != "hello" || m["component"] != "strategy" || m["strategy"] != "blue" || m["level"] != "INFO" {
					t.Errorf("record %v", m)
				}
				if err := json.Unmarshal([]byte(lines[1]), &m); err != nil || m["level"] != "CRITICAL" || m["component"] != "connector" {
					t.Errorf("critical record %v", m)
				}
			} else {
				if !strings.Contains(lines[0], "level=INFO msg=hello component=strategy strategy=blue query_id=q1") {
					t.Errorf("text record %q", lines[0])
				}
				if !strings.Contains(lines[1], "level=CRITICAL msg=boom component=connector") {
					t.Errorf("critical record %q", lines[1])
				}
			}
		})
	}
}

func TestLoggerUserLoggerKeepsLevels(t *testing.T) {
	capt := logcapture.NewLevel(slog.LevelInfo) // the user's own level applies too
	c, err := LoadConfig("", baseEnv("E6DATA_STRATEGY_LOG_LEVEL=DEBUG"), WithLogger(slog.New(capt)))
	if err != nil {
		t.Fatal(err)
	}
	log := c.NewLogger()
	log.Debug("a")
	log.With("component", "strategy").Debug("b")
	log.Info("c")
	if got := capt.Records(); len(got) != 1 || got[0].Msg != "c" {
		t.Errorf("records %v", got)
	}
}

func TestLoggerGroupsKeepComponentTopLevel(t *testing.T) {
	c, err := LoadConfig("", baseEnv("E6DATA_LOG_FORMAT=json"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log, _ := c.newLogger(&buf, &buf)
	log.With("component", "strategy").WithGroup("g").Info("m", "k", "v", "token", "x")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	g, _ := m["g"].(map[string]any)
	if m["component"] != "strategy" || g["k"] != "v" || g["token"] != redactedValue {
		t.Errorf("record %s", buf.String())
	}
}

// secretValue is logged every way we can think of.
type secretHolder struct{ Tok string }

func (s secretHolder) String() string { return "holder(" + s.Tok + ")" }

func TestLoggerNeverShowsToken(t *testing.T) {
	capt := newCapture()
	c, err := LoadConfig("", baseEnv(), WithLogger(slog.New(capt)))
	if err != nil {
		t.Fatal(err)
	}
	log := c.NewLogger().With("session", "auth "+testToken)
	log.Info("token is "+testToken,
		"password", "hunter2-pass",
		"access_token", "abc123",
		"client_secret", "xyz789",
		"Authorization", "Bearer b3ar3r",
		"note", "contains "+testToken,
		"err", errors.New("denied for "+testToken),
		"holder", secretHolder{testToken},
		"cfg", c,
		slog.Group("nested", "deep", testToken, "tokenish", "zz"),
	)
	log.Warn(fmt.Sprintf("%v %+v %#v %s", c, c, c, c))
	c.logDiagnostics(context.Background(), log)

	recs := capt.Records()
	if len(recs) < 2 {
		t.Fatalf("records: %v", recs)
	}
	for _, r := range recs {
		all := r.Msg
		for k, v := range r.Attrs {
			all += " " + k + "=" + v
		}
		for _, secret := range []string{testToken, "hunter2-pass", "abc123", "xyz789", "b3ar3r", escapeDSN(testToken, "")} {
			if strings.Contains(all, secret) {
				t.Errorf("record shows a secret %q: %s", secret, all)
			}
		}
	}
	first := recs[0]
	for _, k := range []string{"password", "access_token", "client_secret", "Authorization", "nested.tokenish"} {
		if first.Attrs[k] != redactedValue {
			t.Errorf("%s = %q, want redacted", k, first.Attrs[k])
		}
	}
	if first.Attrs["note"] != "contains "+redactedValue || !strings.Contains(first.Attrs["err"], redactedValue) {
		t.Errorf("values not redacted in place: %v", first.Attrs)
	}
}

// The token never reaches String, errors or diagnostics either.
func TestConfigTokenNeverPrinted(t *testing.T) {
	env := baseEnv("E6DATA_PORT=bad", "E6DATA_PASSWROD=typo-secret", "E6DATA_STRATEGY_VALIDATION=false", "E6DATA_CA_FILE=/x")
	c, err := LoadConfig("e6data://u:"+escapeDSN(testToken, "")+"@h?max-retry-attempts=99&catalog=%zz", env)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	texts = append(texts, c.String(), c.GoString(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), c.LogValue().String(),
		fmt.Sprintf("%v %+v %#v %s", *c, *c, *c, *c), fmt.Sprint([]*Config{c}), fmt.Sprintf("%v", struct{ C *Config }{c}),
		c.FormatDSN(), fmt.Sprintf("%+v", []Config{*c}))
	for _, d := range c.Diagnostics() {
		texts = append(texts, d.String(), d.Key, d.Value)
	}
	for _, s := range c.Settings() {
		texts = append(texts, s.Value, s.Default)
	}
	_, err = LoadConfig("e6data://u:"+escapeDSN(testToken, "")+"@h:x", nil)
	texts = append(texts, err.Error())
	_, err = LoadConfig("", []string{"E6DATA_PASSWORD=" + testToken, "E6DATA_PORT=x"})
	texts = append(texts, err.Error())
	_, err = LoadConfig("", nil, WithSetting("E6DATA_PASSWORD", testToken), WithSetting("Port", "0"))
	texts = append(texts, err.Error())
	for _, s := range texts {
		for _, secret := range []string{testToken, escapeDSN(testToken, ""), "typo-secret"} {
			if strings.Contains(s, secret) {
				t.Errorf("secret %q shown in %q", secret, s)
			}
		}
	}
}

func TestLoggerRedactorRegistersRotatedTokens(t *testing.T) {
	c, err := LoadConfig("", baseEnv("E6DATA_LOG_FORMAT=json"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log, red := c.newLogger(&buf, &buf)
	red.add("rotated-token-2")
	red.add("ab") // too short to replace inside text
	log.Info("using rotated-token-2 now, ab")
	if strings.Contains(buf.String(), "rotated-token-2") || !strings.Contains(buf.String(), "ab") {
		t.Errorf("output %s", buf.String())
	}
}

func TestLoggerGRPCAdapter(t *testing.T) {
	for _, tc := range []struct {
		level   string
		want    string // messages that pass
		verbose bool
	}{
		{"WARNING", "w wl wf e el ef f fl ff", false},
		{"DEBUG", "i il if w wl wf e el ef f fl ff", true},
		{"ERROR", "e el ef f fl ff", false},
	} {
		t.Run(tc.level, func(t *testing.T) {
			capt := newCapture()
			c, err := LoadConfig("", baseEnv("E6DATA_GRPC_LOG_LEVEL="+tc.level), WithLogger(slog.New(capt)))
			if err != nil {
				t.Fatal(err)
			}
			g := newGRPCLogger(c.NewLogger())
			var _ grpclog.LoggerV2 = g
			g.Info("i")
			g.Infoln("il")
			g.Infof("%s", "if")
			g.Warning("w")
			g.Warningln("wl")
			g.Warningf("%s", "wf")
			g.Error("e")
			g.Errorln("el")
			g.Errorf("%s", "ef")
			g.Fatal("f")
			g.Fatalln("fl")
			g.Fatalf("%s", "ff")
			var msgs []string
			for _, r := range capt.Records() {
				if r.Attrs["component"] != "grpc" {
					t.Errorf("component %q", r.Attrs["component"])
				}
				msgs = append(msgs, r.Msg)
			}
			if got := strings.Join(msgs, " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if g.V(2) != tc.verbose || !g.V(0) {
				t.Errorf("V(2) = %v", g.V(2))
			}
			if last := capt.Records()[len(capt.Records())-1]; last.Level != LevelCritical {
				t.Errorf("Fatal level %v", last.Level)
			}
		})
	}
}

func TestLoggerInstallGRPCOnce(t *testing.T) {
	var installed []grpclog.LoggerV2
	inst := &grpcLogInstaller{set: func(l grpclog.LoggerV2) { installed = append(installed, l) }}
	c, err := LoadConfig("", baseEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !inst.install(c) || inst.install(c) || len(installed) != 1 {
		t.Errorf("install: %d installs", len(installed))
	}
}

// With no logger and no logging setting, only WARNING and above are
// written; any explicit logging setting restores the configured levels.
func TestDefaultLoggerQuietBelowWarning(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		dsn     string
		wantInf bool
	}{
		{"nothing set", nil, "", false},
		{"E6DATA_LOG_LEVEL=INFO", []string{"E6DATA_LOG_LEVEL=INFO"}, "", true},
		{"E6DATA_LOG_FORMAT=json", []string{"E6DATA_LOG_FORMAT=json"}, "", true},
		{"DSN log-level=info", nil, "e6data://h:1/?log-level=info", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{"E6DATA_USERNAME=u", "E6DATA_PASSWORD=p"}, tc.env...)
			cfg, err := LoadConfig(tc.dsn, env)
			if err != nil {
				t.Fatal(err)
			}
			var out, errw bytes.Buffer
			log, _ := cfg.newLogger(&out, &errw)
			log.Info("informational")
			log.With("component", ComponentStrategy).Info("strategy detected")
			log.Warn("a warning")
			got := errw.String()
			if !strings.Contains(got, "a warning") {
				t.Fatalf("warning missing: %q", got)
			}
			if strings.Contains(got, "informational") != tc.wantInf || strings.Contains(got, "strategy detected") != tc.wantInf {
				t.Fatalf("INFO written = %v, want %v: %q", !tc.wantInf, tc.wantInf, got)
			}
		})
	}
}

// The connector's own loggers: a token from the TokenProvider is redacted
// wherever it shows (message, attribute, error value) once the connector
// has fetched it, and each component logs from its own level. (The same
// through a workload against e6sim: internal/e2e/logging_e2e_test.go.)
func TestConnectorLoggersRedactRotatedTokens(t *testing.T) {
	capt := newCapture()
	var calls int
	provider := func(context.Context) (string, error) {
		calls++
		return fmt.Sprintf("rotating-SECRET-%04d", calls), nil
	}
	cfg, err := LoadConfig("", baseEnv("E6DATA_STRATEGY_LOG_LEVEL=DEBUG", "E6DATA_LOG_LEVEL=ERROR"),
		WithSetting("Host", "127.0.0.1"), WithSetting("Port", "1"), WithCredentials("alice@example.com", "static-SECRET-77aa"),
		WithTokenProvider(provider), WithLogger(slog.New(capt)))
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ctr.Close()
	for range 2 {
		if _, err := ctr.token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	latest := fmt.Sprintf("rotating-SECRET-%04d", calls)
	ctr.log.Error("debugging auth with "+latest, "note", "first was rotating-SECRET-0001", "error", fmt.Errorf("denied: %s", latest))
	ctr.stratLog.Debug("strategy debug with static-SECRET-77aa", "strategy", "blue", "transition_type", "test", "query_id", "")
	ctr.log.Debug("connector debug")
	ctr.log.Info("connector info")
	ctr.log.Warn("connector warn")
	ctr.log.Error("connector error")
	var got []string
	for _, r := range capt.Records() {
		text := r.Msg
		for k, v := range r.Attrs {
			text += " " + k + "=" + v
		}
		if strings.Contains(text, "SECRET") {
			t.Errorf("a secret shows: %s", text)
		}
		if r.Attrs["transition_type"] == "test" || strings.HasPrefix(r.Msg, "connector ") || strings.HasPrefix(r.Msg, "debugging auth") {
			got = append(got, r.Level.String()+" "+r.Attrs["component"]+" "+strings.SplitN(r.Msg, " ", 2)[0])
		}
	}
	want := []string{"ERROR connector debugging", "DEBUG strategy strategy", "ERROR connector connector"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records %q, want %q", got, want)
	}
	recs := capt.Records()
	for _, r := range recs {
		if strings.HasPrefix(r.Msg, "debugging auth") {
			if !strings.Contains(r.Msg, redactedValue) || !strings.Contains(r.Attrs["note"], redactedValue) || !strings.Contains(r.Attrs["error"], redactedValue) {
				t.Errorf("rotated tokens not redacted: %+v", r)
			}
		}
	}
}
