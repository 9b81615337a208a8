package middleware_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forgekit/forge/middleware"
)

// recoverServer serves h behind RequestID and Recover, and returns the
// server with what Recover and net/http logged.
func recoverServer(t *testing.T, h http.HandlerFunc) (srv *httptest.Server, logs, serverLog *logBuffer) {
	t.Helper()
	logs, serverLog = &logBuffer{}, &logBuffer{}
	srv = httptest.NewUnstartedServer(middleware.RequestID()(middleware.Recover(logs.logger())(h)))
	srv.Config.ErrorLog = log.New(serverLog, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, logs, serverLog
}

func panicBeforeWriting(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "1000")
	w.Header().Set("Etag", `"v1"`)
	panic("boom before writing")
}

func TestRecoverBeforeWriting(t *testing.T) {
	t.Parallel()
	srv, logs, serverLog := recoverServer(t, panicBeforeWriting)
	resp := get(t, srv.Client(), srv.URL+"/p?secret=1", http.Header{"X-Request-Id": {"rid-1"}})
	p := readProblem(t, resp, http.StatusInternalServerError)
	if p.Detail != "" {
		t.Fatalf("detail = %q, want none: a panic's value is not the client's business", p.Detail)
	}
	if got := resp.Header.Get("X-Request-Id"); got != "rid-1" {
		t.Fatalf("X-Request-Id = %q: headers of earlier middleware must be kept", got)
	}
	if got := resp.Header.Get("Etag"); got != "" {
		t.Fatalf("Etag = %q: headers of the lost response must be dropped", got)
	}
	lines := logs.lines(t, "handler panicked")
	if len(lines) != 1 {
		t.Fatalf("got %d panic log lines, want 1; log:\n%s", len(lines), logs)
	}
	l := lines[0]
	if l["level"] != "ERROR" || l["panic"] != "boom before writing" || l["path"] != "/p" ||
		l["method"] != "GET" || l["request_id"] != "rid-1" {
		t.Fatalf("panic log line = %v", l)
	}
	if stack, _ := l["stack"].(string); !strings.Contains(stack, "panicBeforeWriting") {
		t.Fatalf("stack does not show the panicking function:\n%s", stack)
	}
	if s := serverLog.String(); s != "" {
		t.Fatalf("net/http logged %q; the panic was recovered", s)
	}

	// The server keeps serving.
	resp = get(t, srv.Client(), srv.URL, nil)
	readProblem(t, resp, http.StatusInternalServerError)
}

func TestRecoverAfterWriting(t *testing.T) {
	t.Parallel()
	srv, logs, serverLog := recoverServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		panic(errors.New("boom after writing"))
	})
	resp := get(t, srv.Client(), srv.URL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want the 200 already sent", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("body %q read completely; a response cut by a panic must be aborted", body)
	}
	if string(body) != "partial" {
		t.Fatalf("body = %q, want the part written before the panic", body)
	}
	if n := len(logs.lines(t, "handler panicked")); n != 1 {
		t.Fatalf("got %d panic log lines, want 1; log:\n%s", n, logs)
	}
	if s := serverLog.String(); s != "" {
		t.Fatalf("net/http logged %q; Recover aborts with http.ErrAbortHandler, which it does not log", s)
	}
}

func TestRecoverErrAbortHandler(t *testing.T) {
	t.Parallel()
	srv, logs, serverLog := recoverServer(t, func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d; http.ErrAbortHandler must abort the response", resp.StatusCode)
	}
	if s := logs.String(); s != "" {
		t.Fatalf("Recover logged %q for http.ErrAbortHandler", s)
	}
	if s := serverLog.String(); s != "" {
		t.Fatalf("net/http logged %q; the re-panic must stay http.ErrAbortHandler", s)
	}
}

// TestRecoverAfterHijack checks that Recover leaves a hijacked connection
// (a WebSocket upgrade) to its handler.
func TestRecoverAfterHijack(t *testing.T) {
	t.Parallel()
	srv, logs, _ := recoverServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 299 Hijacked\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		brw.Flush()
		panic("boom after hijack")
	})
	resp := get(t, srv.Client(), srv.URL, nil)
	if resp.StatusCode != 299 {
		t.Fatalf("status = %d, want the hijacker's 299", resp.StatusCode)
	}
	lines := logs.waitLines(t, "handler panicked", 1)
	if lines[0]["panic"] != "boom after hijack" {
		t.Fatalf("panic log line = %v", lines[0])
	}
}

// TestRecoverKeepsWriterCapabilities checks that the wrapper hides neither
// http.Flusher nor http.Hijacker from a handler that type-asserts them.
func TestRecoverKeepsWriterCapabilities(t *testing.T) {
	t.Parallel()
	srv, _, _ := recoverServer(t, func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("writer is not an http.Flusher")
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("writer is not an http.Hijacker")
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		brw.Flush()
	})
	resp := get(t, srv.Client(), srv.URL, nil)
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "ok" {
		t.Fatalf("body = %q, %v; want ok", body, err)
	}
}
