package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/middleware"
)

// generatedID is the shape of a new request ID: crypto/rand.Text.
var generatedID = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// echoRequestID answers with the request ID its context carries.
var echoRequestID = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, middleware.RequestIDFrom(r.Context()))
})

func TestRequestID(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(middleware.RequestID()(echoRequestID))
	t.Cleanup(srv.Close)

	tests := []struct {
		name     string
		incoming []string // X-Request-Id values sent; none when nil
		keep     bool     // the incoming ID is kept
	}{
		{"none", nil, false},
		{"uuid", []string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, true},
		{"allowed punctuation", []string{"edge-1:req.42_a+b/c="}, true},
		{"128 characters", []string{strings.Repeat("a", 128)}, true},
		{"empty", []string{""}, false},
		{"129 characters", []string{strings.Repeat("a", 129)}, false},
		{"space", []string{"a b"}, false},
		{"log injection", []string{"x\" msg=forged"}, false},
		{"non-ASCII", []string{"idé"}, false},
		{"tab", []string{"a\tb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hdr http.Header
			if tt.incoming != nil {
				hdr = http.Header{"X-Request-Id": tt.incoming}
			}
			resp := get(t, srv.Client(), srv.URL, hdr)
			body, _ := io.ReadAll(resp.Body)
			got := resp.Header.Get("X-Request-Id")
			if string(body) != got {
				t.Fatalf("context has %q, response header %q", body, got)
			}
			if tt.keep {
				if got != tt.incoming[0] {
					t.Fatalf("request ID = %q, want the incoming %q", got, tt.incoming[0])
				}
				return
			}
			if !generatedID.MatchString(got) {
				t.Fatalf("request ID = %q, want a generated one", got)
			}
		})
	}
}

func TestRequestIDUnique(t *testing.T) {
	t.Parallel()
	h := middleware.RequestID()(echoRequestID)
	seen := make(map[string]bool)
	for range 100 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		id := rec.Header().Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("request ID %q generated twice", id)
		}
		seen[id] = true
	}
}

func TestRequestIDHeader(t *testing.T) {
	t.Parallel()
	h := middleware.RequestID(middleware.RequestIDHeader("x-correlation-id"))(echoRequestID)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Correlation-Id", "corr-1")
	req.Header.Set("X-Request-Id", "other")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Correlation-Id"); got != "corr-1" {
		t.Fatalf("X-Correlation-Id = %q, want corr-1", got)
	}
	if got := rec.Header().Get("X-Request-Id"); got != "" {
		t.Fatalf("X-Request-Id = %q, want none", got)
	}
	if rec.Body.String() != "corr-1" {
		t.Fatalf("context has %q, want corr-1", rec.Body.String())
	}
}

func TestRequestIDFromEmpty(t *testing.T) {
	t.Parallel()
	if got := middleware.RequestIDFrom(t.Context()); got != "" {
		t.Fatalf("RequestIDFrom(no ID) = %q, want empty", got)
	}
}

// TestRequestIDWebSocket checks that a WebSocket handler finds the ID in
// its connection's context, long after the request's middleware returned.
func TestRequestIDWebSocket(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	app := forge.New(forge.WithLogger(logs.logger()))
	r := app.Router()
	r.Use(middleware.RequestID())
	r.WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		return conn.Write([]byte(middleware.RequestIDFrom(conn.Context()) + " " + middleware.RequestIDFrom(ctx.Context())))
	})
	srv := forgetest.Start(t, app)
	ws, _, err := srv.DialErr("/ws", http.Header{"X-Request-Id": {"ws-req-1"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.Close()
	_, msg, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(msg) != "ws-req-1 ws-req-1" {
		t.Fatalf("handler saw request IDs %q, want ws-req-1 twice", msg)
	}
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("after the handler returned: %v, want a normal close", err)
	}

	// A refused handshake is an HTTP response, with the header.
	_, resp, err := srv.DialErr("/ws", http.Header{"X-Request-Id": {"ws-req-2"}, "Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial with a foreign origin: %v, want 403", err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "ws-req-2" {
		t.Fatalf("refused handshake: X-Request-Id = %q, want ws-req-2", got)
	}
}

// TestRequestIDAndAccessLogMistakes: an empty header name and nil options
// panic where they are given, as every setup mistake does.
func TestRequestIDAndAccessLogMistakes(t *testing.T) {
	t.Parallel()
	testkit.MustPanic(t, "forge: ", "empty header name", func() { middleware.RequestIDHeader("") })
	testkit.MustPanic(t, "forge: ", "nil RequestIDOption", func() { middleware.RequestID(nil) })
	testkit.MustPanic(t, "forge: ", "nil AccessLogOption", func() { middleware.AccessLog(nil, nil) })
}
