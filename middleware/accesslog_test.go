package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/middleware"
)

// secrets are credentials that tests send in every place a client puts
// them; none may reach a log.
var secrets = []string{"SECRET-QUERY", "SECRET-PROTO", "SECRET-AUTH", "SECRET-COOKIE", "SECRET-REFERER"}

func credentialHeaders() http.Header {
	return http.Header{
		"Authorization": {"Bearer SECRET-AUTH"},
		"Cookie":        {"session=SECRET-COOKIE"},
		"Referer":       {"https://app.example/?token=SECRET-REFERER"},
	}
}

func checkNoSecrets(t *testing.T, logs *logBuffer) {
	t.Helper()
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log contains credential %s:\n%s", s, out)
		}
	}
}

func TestAccessLogHTTP(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	h := middleware.RequestID()(middleware.AccessLog(logs.logger())(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/created":
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "hello")
			case "/copied":
				io.Copy(w, strings.NewReader("copied body"))
			case "/empty":
			}
		})))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	hdr := credentialHeaders()
	hdr.Set("X-Request-Id", "rid-7")
	hdr.Set("User-Agent", strings.Repeat("u", 300))
	get(t, srv.Client(), srv.URL+"/created?access_token=SECRET-QUERY&page=2", hdr)
	get(t, srv.Client(), srv.URL+"/copied", nil)
	get(t, srv.Client(), srv.URL+"/empty", nil)

	lines := logs.lines(t, "http request")
	if len(lines) != 3 {
		t.Fatalf("got %d access log lines, want 3; log:\n%s", len(lines), logs.String())
	}
	tests := []struct {
		path   string
		status float64
		bytes  float64
	}{
		{"/created", 201, 5},
		{"/copied", 200, 11},
		{"/empty", 200, 0},
	}
	for i, tt := range tests {
		l := lines[i]
		if l["level"] != "INFO" || l["method"] != "GET" || l["path"] != tt.path ||
			l["status"] != tt.status || l["bytes"] != tt.bytes || l["remote_ip"] != "127.0.0.1" {
			t.Errorf("line %d = %v, want %s %v %v bytes from 127.0.0.1", i, l, tt.path, tt.status, tt.bytes)
		}
		if d, ok := l["duration"].(float64); !ok || d <= 0 {
			t.Errorf("line %d duration = %v, want a positive duration", i, l["duration"])
		}
		if _, ok := l["query"]; ok {
			t.Errorf("line %d logs the query string %v without AccessLogQuery", i, l["query"])
		}
	}
	first := lines[0]
	if first["request_id"] != "rid-7" {
		t.Errorf("request_id = %v, want rid-7", first["request_id"])
	}
	if ua, _ := first["user_agent"].(string); ua != strings.Repeat("u", 256) {
		t.Errorf("user_agent has %d characters, want the first 256", len(ua))
	}
	checkNoSecrets(t, &logs)
}

func TestAccessLogPanic(t *testing.T) {
	t.Parallel()
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	tests := []struct {
		name  string
		chain func(logs *logBuffer) http.Handler
	}{
		{"recovered inside", func(logs *logBuffer) http.Handler {
			return middleware.AccessLog(logs.logger())(middleware.Recover(logs.logger())(boom))
		}},
		{"recovered outside", func(logs *logBuffer) http.Handler {
			return middleware.Recover(logs.logger())(middleware.AccessLog(logs.logger())(boom))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs logBuffer
			srv := httptest.NewServer(tt.chain(&logs))
			t.Cleanup(srv.Close)
			readProblem(t, get(t, srv.Client(), srv.URL, nil), http.StatusInternalServerError)
			lines := logs.lines(t, "http request")
			if len(lines) != 1 || lines[0]["status"] != float64(500) {
				t.Fatalf("access log lines = %v, want one with status 500", lines)
			}
			if n := len(logs.lines(t, "handler panicked")); n != 1 {
				t.Fatalf("got %d panic lines, want 1", n)
			}
		})
	}
}

func TestAccessLogQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		words  []string
		query  string
		logged string // "" for no query attribute
	}{
		{"no query", nil, "", ""},
		{"plain", nil, "page=2&sort=name", "page=2&sort=name"},
		{"access_token", nil, "a=1&access_token=SECRET-QUERY&b=2", "a=1&access_token=REDACTED&b=2"},
		{"token", nil, "token=SECRET-QUERY", "token=REDACTED"},
		{"api_key", nil, "api_key=SECRET-QUERY", "api_key=REDACTED"},
		{"camel case", nil, "apiKey=SECRET-QUERY", "apiKey=REDACTED"},
		{"escaped name", nil, "access%5Ftoken=SECRET-QUERY", "access%5Ftoken=REDACTED"},
		{"signature", nil, "X-Amz-Signature=SECRET-QUERY", "X-Amz-Signature=REDACTED"},
		{"password", nil, "password=SECRET-QUERY&user=bob", "password=REDACTED&user=bob"},
		{"semicolon separator", nil, "q=go;token=SECRET-QUERY", "q=go;token=REDACTED"},
		{"bare token", nil, "SECRET-QUERY", "REDACTED"},
		{"repeated", nil, "token=SECRET-QUERY&token=SECRET-QUERY", "token=REDACTED&token=REDACTED"},
		{"empty parts", nil, "room=7&&x=", "room=7&&x="},
		{"bad escape in name", nil, "to%zzken=SECRET-QUERY", "to%zzken=REDACTED"},
		{"extra word", []string{"Room"}, "room=SECRET-QUERY&page=1", "room=REDACTED&page=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs logBuffer
			h := middleware.AccessLog(logs.logger(), middleware.AccessLogQuery(tt.words...))(http.NotFoundHandler())
			req := httptest.NewRequest(http.MethodGet, "/q", nil)
			req.URL.RawQuery = tt.query
			h.ServeHTTP(httptest.NewRecorder(), req)
			lines := logs.lines(t, "http request")
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1", len(lines))
			}
			got, ok := lines[0]["query"]
			switch {
			case tt.logged == "" && ok:
				t.Fatalf("query = %v, want none", got)
			case tt.logged != "" && got != tt.logged:
				t.Fatalf("query = %v, want %q", got, tt.logged)
			}
			checkNoSecrets(t, &logs)
		})
	}
}

// echoOnce reads one message, echoes it and closes with 4001.
func echoOnce(ctx forge.Context, conn forge.Connection) error {
	msg, err := conn.Read()
	if err != nil {
		return err
	}
	if err := conn.Write(msg); err != nil {
		return err
	}
	return &forge.CloseError{Code: 4001, Reason: "done"}
}

// TestAccessLogWebSocket runs a session through a real forge app with the
// access log as route middleware and as group middleware, sending a token
// in every place a browser can put one.
func TestAccessLogWebSocket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []middleware.AccessLogOption
		wantQuery any // the logged query; nil for none
	}{
		{"default", nil, nil},
		{"with query", []middleware.AccessLogOption{middleware.AccessLogQuery()}, "room=7&access_token=REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs, appLogs logBuffer
			accessLog := middleware.AccessLog(logs.logger(), tt.opts...)
			app := forge.New(forge.WithLogger(appLogs.logger()))
			r := app.Router()
			r.Use(middleware.RequestID())
			r.WebSocket("/ws/route", echoOnce, forge.WithMiddleware(accessLog), forge.WithSubprotocols("chat.v1"))
			g := r.Group("/group")
			g.Use(accessLog)
			g.WebSocket("/ws", echoOnce, forge.WithSubprotocols("chat.v1"))
			srv := forgetest.Start(t, app)

			for i, path := range []string{"/ws/route", "/group/ws"} {
				hdr := credentialHeaders()
				hdr.Set("X-Request-Id", "ws-rid")
				ws, resp, err := srv.DialErr(path+"?room=7&access_token=SECRET-QUERY", hdr, "bearer.SECRET-PROTO", "chat.v1")
				if err != nil {
					t.Fatalf("dial %s: %v", path, err)
				}
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("dial %s: status %d", path, resp.StatusCode)
				}
				ws.SetReadDeadline(time.Now().Add(forgetest.Timeout))
				if err := ws.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
					t.Fatal(err)
				}
				if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "hello" {
					t.Fatalf("echo = %q, %v", msg, err)
				}
				if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, 4001) {
					t.Fatalf("read after echo: %v, want close 4001", err)
				}
				ws.Close()

				sessions := logs.waitLines(t, "websocket session", i+1)
				s := sessions[i]
				if s["path"] != path || s["method"] != "GET" || s["request_id"] != "ws-rid" ||
					s["remote_ip"] != "127.0.0.1" || s["close_code"] != float64(4001) || s["close_reason"] != "done" ||
					s["subprotocol"] != "chat.v1" || s["messages_in"] != float64(1) || s["messages_out"] != float64(1) ||
					s["bytes_in"] != float64(5) || s["bytes_out"] != float64(5) || s["query"] != tt.wantQuery {
					t.Errorf("session line = %v", s)
				}
				if id, _ := s["conn_id"].(string); !strings.HasPrefix(id, "ws_") {
					t.Errorf("conn_id = %v, want the connection's ID", s["conn_id"])
				}
				if d, ok := s["duration"].(float64); !ok || d <= 0 {
					t.Errorf("session duration = %v, want a positive duration", s["duration"])
				}
				if _, ok := s["status"]; ok {
					t.Errorf("session line repeats the handshake's status: %v", s)
				}
			}
			handshakes := logs.lines(t, "websocket handshake")
			if len(handshakes) != 2 {
				t.Fatalf("got %d handshake lines, want 2; log:\n%s", len(handshakes), logs.String())
			}
			for _, h := range handshakes {
				if h["status"] != float64(101) || h["bytes"] != float64(0) || h["request_id"] != "ws-rid" {
					t.Errorf("handshake line = %v, want status 101", h)
				}
			}
			if n := len(logs.lines(t, "http request")); n != 0 {
				t.Errorf("got %d plain request lines for WebSocket handshakes", n)
			}
			checkNoSecrets(t, &logs)
		})
	}
}

// TestAccessLogRefusedHandshake checks that a handshake refused before the
// upgrade gets its status and no session line.
func TestAccessLogRefusedHandshake(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	app := forge.New(forge.WithLogger(logs.logger()))
	r := app.Router()
	r.Use(middleware.AccessLog(logs.logger()))
	r.WebSocket("/ws", echoOnce)
	srv := forgetest.Start(t, app)

	_, resp, err := srv.DialErr("/ws", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial with a foreign origin: %v, want 403", err)
	}
	resp.Body.Close()
	lines := logs.lines(t, "websocket handshake")
	if len(lines) != 1 || lines[0]["status"] != float64(403) {
		t.Fatalf("handshake lines = %v, want one with 403", lines)
	}
	if n := len(logs.lines(t, "websocket session")); n != 0 {
		t.Fatalf("got %d session lines for a refused handshake", n)
	}
}

// TestAccessLogSessionBeforeHandshakeLine makes the session end before the
// handler that upgraded it returns: the handshake line must still come
// first.
func TestAccessLogSessionBeforeHandshakeLine(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	ended := make(chan struct{})
	// waitSession holds the upgrading handler until the session has ended.
	waitSession := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := connection.ObserveSession(r.Context(), func(connection.SessionInfo) { close(ended) })
			next.ServeHTTP(w, r.WithContext(ctx))
			select {
			case <-ended:
			case <-time.After(forgetest.Timeout):
				t.Error("session did not end")
			}
		})
	}
	app := forge.New(forge.WithLogger(logs.logger()))
	app.Router().WebSocket("/ws", func(forge.Context, forge.Connection) error { return nil },
		forge.WithMiddleware(middleware.AccessLog(logs.logger()), waitSession))
	srv := forgetest.Start(t, app)

	ws, _, err := srv.DialErr("/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(forgetest.Timeout))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("read: %v, want a normal close", err)
	}
	logs.waitLines(t, "websocket session", 1)
	out := logs.String()
	hs, sess := strings.Index(out, `"websocket handshake"`), strings.Index(out, `"websocket session"`)
	if hs < 0 || hs > sess {
		t.Fatalf("the session line comes before the handshake line:\n%s", out)
	}
}
