package faults

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
)

// logRecord is one record a server logged, with the attributes of its
// logger and its own, flattened to strings.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (r logRecord) String() string {
	keys := make([]string, 0, len(r.attrs))
	for k := range r.attrs {
		if k != "stack" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", r.level, r.msg)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, r.attrs[k])
	}
	return b.String()
}

// logSink keeps every record logged through its handlers.
type logSink struct {
	mu      sync.Mutex // guards records
	records []logRecord
}

// logger returns a logger that records into s at every level.
func (s *logSink) logger() *slog.Logger { return slog.New(&sinkHandler{sink: s}) }

// find returns the records at level or above for which match is true.
func (s *logSink) find(level slog.Level, match func(logRecord) bool) []logRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logRecord
	for _, r := range s.records {
		if r.level >= level && (match == nil || match(r)) {
			out = append(out, r)
		}
	}
	return out
}

type sinkHandler struct {
	sink   *logSink
	prefix string // of the open groups, "a.b."
	attrs  map[string]string
}

var _ slog.Handler = (*sinkHandler)(nil)

func (h *sinkHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *sinkHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: make(map[string]string, len(h.attrs)+r.NumAttrs())}
	for k, v := range h.attrs {
		rec.attrs[k] = v
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[h.prefix+a.Key] = a.Value.String()
		return true
	})
	h.sink.mu.Lock()
	h.sink.records = append(h.sink.records, rec)
	h.sink.mu.Unlock()
	return nil
}

func (h *sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &sinkHandler{sink: h.sink, prefix: h.prefix, attrs: make(map[string]string, len(h.attrs)+len(as))}
	for k, v := range h.attrs {
		n.attrs[k] = v
	}
	for _, a := range as {
		n.attrs[h.prefix+a.Key] = a.Value.String()
	}
	return n
}

func (h *sinkHandler) WithGroup(name string) slog.Handler {
	return &sinkHandler{sink: h.sink, prefix: h.prefix + name + ".", attrs: h.attrs}
}

// inCI reports whether the tests run in CI, where a missing tool fails.
func inCI() bool { return os.Getenv("CI") == "true" }

// skipOrFail skips the test outside CI and fails it in CI.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		t.Fatalf("%s (CI=true: the fault tests need it)", msg)
	}
	t.Skip(msg)
}

// serveOn serves app on a listener at addr ("host:0" for a free port)
// until the test ends, and returns its base URL, "http://host:port". The
// cleanup shuts the app down gracefully and fails the test if that fails.
func serveOn(t *testing.T, app *forge.App, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-ctx.Done():
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	return "http://" + l.Addr().String()
}

// full reports whether the long form was asked for (FAULTS_FULL=1).
func full() bool { return os.Getenv("FAULTS_FULL") == "1" }

// raiseFileLimit raises the process's open file limit to at least n and
// fails the test when the hard limit is lower and cannot be raised. It
// always sets the limit, so that child processes inherit it (Go gives
// them the limit it found at start otherwise).
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	want := lim
	want.Cur = max(lim.Cur, n)
	want.Max = max(lim.Max, want.Cur)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		t.Fatalf("raise the open file limit to %d (hard limit %d): %v", n, lim.Max, err)
	}
}

// serveManual serves app on a free loopback port for a test that shuts it
// down itself and reads Serve's result from the channel. Its cleanup
// shuts down again, for a test that failed before it did.
func serveManual(t *testing.T, app *forge.App) (*forgetest.Server, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = app.Shutdown(ctx)
	})
	return &forgetest.Server{URL: "http://" + l.Addr().String()}, served
}

// answerClose makes ws answer the server's pings and close frame with a
// generous deadline (gorilla's own handlers give a second, which a loaded
// machine may miss, and then fail the read), so that a client's verdict
// is the messages and the close it received.
func answerClose(ws *websocket.Conn) {
	ws.SetPingHandler(func(data string) error {
		_ = ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Minute))
		return nil
	})
	ws.SetCloseHandler(func(code int, text string) error {
		msg := websocket.FormatCloseMessage(code, "")
		if code == websocket.CloseNoStatusReceived {
			msg = []byte{}
		}
		_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Minute))
		return nil
	})
}
