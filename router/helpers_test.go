package router_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/router"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newMux returns a Mux logging to a discarded handler unless cfg says
// otherwise.
func newMux(t testing.TB, cfg router.Config) *router.Mux {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return router.New(cfg)
}

// do serves one request on h. headers are name, value pairs.
func do(t testing.TB, h http.Handler, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// readProblem checks that rec holds a problem+json response with status and
// returns it.
func readProblem(t testing.TB, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", rec.Body.String(), err)
	}
	if p.Type != "about:blank" || p.Status != status || p.Title != http.StatusText(status) {
		t.Fatalf("problem = %+v, want type about:blank, status %d, title %q", p, status, http.StatusText(status))
	}
	return p
}

// startServer serves h over loopback until the test ends; the tracker's
// shutdown then waits for every WebSocket handler.
func startServer(t testing.TB, h http.Handler, tracker *connection.Tracker) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracker.Shutdown(ctx); err != nil {
			t.Errorf("tracker shutdown: %v", err)
		}
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// readText reads one text message.
func readText(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	typ, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("message type = %d, want text", typ)
	}
	return string(b)
}

// ctxKey is a context key for middleware tests.
type ctxKey struct{ name string }

func (k *ctxKey) String() string { return "router test context key " + k.name }

var userKey = &ctxKey{"user"}

// setUser is middleware storing a user in the request context.
func setUser(user string) router.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, user)))
		})
	}
}

// trace is middleware appending its name to the X-Trace response header.
func trace(name string) router.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Trace", name)
			next.ServeHTTP(w, r)
		})
	}
}

func ok(ctx router.Context) error { return ctx.String(http.StatusOK, "ok") }

func wsNoop(ctx router.Context, conn connection.Connection) error { return nil }

// marshal returns v as JSON.
func marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
