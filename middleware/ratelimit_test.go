package middleware_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/middleware"
)

// serveFrom runs one request through h as if sent from remoteAddr with
// the given headers, and returns its status.
func serveFrom(h http.Handler, remoteAddr string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = remoteAddr
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var ok200 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func TestRateLimitPerClient(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := middleware.NewRateLimiter(rate.Every(time.Minute), 3)
		h := l.Handler(ok200)
		for i := range 3 {
			if rec := serveFrom(h, "192.0.2.1:1000", nil); rec.Code != http.StatusOK {
				t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
			}
		}
		for i := range 5 {
			rec := serveFrom(h, "192.0.2.1:1001", nil)
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("request %d over the burst: %d, want 429", i+4, rec.Code)
			}
			if got := rec.Header().Get("Retry-After"); got != "60" {
				t.Fatalf("Retry-After = %q, want 60 (one token per minute)", got)
			}
			p := readProblem(t, rec.Result(), http.StatusTooManyRequests)
			if !strings.Contains(p.Detail, "retry in 60 s") {
				t.Fatalf("detail = %q", p.Detail)
			}
		}
		if got := l.Rejected(); got != 5 {
			t.Fatalf("Rejected = %d, want 5", got)
		}
		// Another client has its own bucket.
		if rec := serveFrom(h, "192.0.2.2:1000", nil); rec.Code != http.StatusOK {
			t.Fatalf("another client: %d, want 200", rec.Code)
		}
		// The bucket refills at the limit: one token after a minute, and
		// Retry-After counts down.
		time.Sleep(45 * time.Second)
		if rec := serveFrom(h, "192.0.2.1:1000", nil); rec.Header().Get("Retry-After") != "15" {
			t.Fatalf("after 45 s: %d, Retry-After %q; want 429, 15", rec.Code, rec.Header().Get("Retry-After"))
		}
		time.Sleep(15 * time.Second)
		if rec := serveFrom(h, "192.0.2.1:1000", nil); rec.Code != http.StatusOK {
			t.Fatalf("after a minute: %d, want 200", rec.Code)
		}
		if rec := serveFrom(h, "192.0.2.1:1000", nil); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("second request after a minute: %d, want 429", rec.Code)
		}
		if got := l.Rejected(); got != 7 {
			t.Fatalf("Rejected = %d, want 7", got)
		}
	})
}

// TestRateLimitClientIdentity checks which requests share a bucket: with a
// burst of 1, the second request is refused exactly when both come from
// the same client.
func TestRateLimitClientIdentity(t *testing.T) {
	t.Parallel()
	type req struct {
		remote string
		hdr    map[string]string
	}
	tests := []struct {
		name   string
		trust  []string
		first  req
		second req
		same   bool
	}{
		{"same IPv4, other port", nil, req{"192.0.2.1:1", nil}, req{"192.0.2.1:2", nil}, true},
		{"other IPv4", nil, req{"192.0.2.1:1", nil}, req{"192.0.2.2:1", nil}, false},
		{"same IPv6 /64", nil, req{"[2001:db8:1:2::1]:1", nil}, req{"[2001:db8:1:2:ffff::9]:1", nil}, true},
		{"other IPv6 /64", nil, req{"[2001:db8:1:2::1]:1", nil}, req{"[2001:db8:1:3::1]:1", nil}, false},
		{"IPv4-mapped IPv6", nil, req{"192.0.2.1:1", nil}, req{"[::ffff:192.0.2.1]:1", nil}, true},
		{"forwarded headers ignored by default", nil,
			req{"192.0.2.1:1", map[string]string{"X-Forwarded-For": "198.51.100.1"}},
			req{"192.0.2.1:1", map[string]string{"X-Forwarded-For": "198.51.100.2", "X-Real-Ip": "198.51.100.3"}}, true},
		{"forwarded headers ignored from an untrusted peer", []string{"10.0.0.0/8"},
			req{"192.0.2.1:1", map[string]string{"X-Forwarded-For": "198.51.100.1"}},
			req{"192.0.2.1:1", map[string]string{"X-Forwarded-For": "198.51.100.2"}}, true},
		{"X-Forwarded-For from a trusted proxy", []string{"10.0.0.0/8"},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.1"}},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.2"}}, false},
		{"same client through two trusted proxies", []string{"10.0.0.0/8"},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.1"}},
			req{"10.0.0.2:1", map[string]string{"X-Forwarded-For": "198.51.100.1, 10.0.0.9"}}, true},
		{"spoofed left entries are ignored", []string{"10.0.0.0/8"},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "203.0.113.1, 198.51.100.1"}},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "203.0.113.2, 198.51.100.1"}}, true},
		{"X-Real-IP from a trusted proxy", []string{"10.0.0.1"},
			req{"10.0.0.1:1", map[string]string{"X-Real-Ip": "198.51.100.1"}},
			req{"10.0.0.1:1", map[string]string{"X-Real-Ip": "198.51.100.2"}}, false},
		{"X-Forwarded-For wins over X-Real-IP", []string{"10.0.0.1"},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Real-Ip": "198.51.100.7"}},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Real-Ip": "198.51.100.8"}}, true},
		{"garbage forwarded header falls back to the proxy", []string{"10.0.0.1"},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "not-an-ip"}},
			req{"10.0.0.1:1", map[string]string{"X-Real-Ip": "bogus"}}, true},
		{"trusted IPv4 given as mapped IPv6 CIDR", []string{"::ffff:10.0.0.0/104"},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.1"}},
			req{"10.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.2"}}, false},
		{"unknown peers share a bucket", nil, req{"@", nil}, req{"", nil}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := middleware.NewRateLimiter(rate.Every(time.Hour), 1, middleware.RateLimitTrustedProxies(tt.trust...))
			h := l.Handler(ok200)
			if rec := serveFrom(h, tt.first.remote, tt.first.hdr); rec.Code != http.StatusOK {
				t.Fatalf("first request: %d", rec.Code)
			}
			want := http.StatusOK
			if tt.same {
				want = http.StatusTooManyRequests
			}
			if rec := serveFrom(h, tt.second.remote, tt.second.hdr); rec.Code != want {
				t.Fatalf("second request: %d, want %d", rec.Code, want)
			}
		})
	}
}

// TestRateLimitMemory checks that idle clients are forgotten during later
// requests and that the number of clients never exceeds the bound.
func TestRateLimitMemory(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// A bucket of 2 refills in 2 s: idle clients are forgotten after that.
		l := middleware.NewRateLimiter(1, 2, middleware.RateLimitMaxClients(4))
		h := l.Handler(ok200)
		from := func(i int) *httptest.ResponseRecorder { return serveFrom(h, fmt.Sprintf("192.0.2.%d:1", i), nil) }
		for i := 1; i <= 3; i++ {
			from(i)
		}
		if got := l.Clients(); got != 3 {
			t.Fatalf("Clients = %d, want 3", got)
		}
		time.Sleep(1 * time.Second)
		from(4) // not idle long enough: nothing is forgotten
		if got := l.Clients(); got != 4 {
			t.Fatalf("Clients = %d, want 4", got)
		}
		time.Sleep(1 * time.Second)
		from(5) // clients 1 and 2 are idle for 2 s
		if got := l.Clients(); got != 3 {
			t.Fatalf("Clients = %d after two idle clients were forgotten, want 3", got)
		}
		from(5)
		from(5) // over the burst: client 5 is still tracked
		if got := l.Rejected(); got != 1 {
			t.Fatalf("Rejected = %d, want 1", got)
		}

		// Past the bound, the least recently seen client goes.
		for i := 6; i <= 20; i++ {
			from(i)
			if got := l.Clients(); got > 4 {
				t.Fatalf("Clients = %d, above the bound of 4", got)
			}
		}
		for _, i := range []int{17, 18, 19, 20} {
			from(i)
			if rec := from(i); rec.Code != http.StatusTooManyRequests {
				t.Fatalf("client %d, third request: %d; a recent client must keep its bucket", i, rec.Code)
			}
		}
		// Client 6 made one request before being forgotten; remembered, it
		// would have one token left, not two.
		from(6)
		if rec := from(6); rec.Code != http.StatusOK {
			t.Fatalf("client 6, third request: %d; a forgotten client starts with a full bucket", rec.Code)
		}
	})
}

// TestRateLimiterMistakes: malformed values panic where the option is
// built, or in NewRateLimiter for its own arguments.
func TestRateLimiterMistakes(t *testing.T) {
	t.Parallel()
	testkit.MustPanicCases(t, "forge: rate limit: ", []testkit.PanicCase{
		{"zero limit", func() { middleware.NewRateLimiter(0, 1) }, "not positive and finite"},
		{"negative limit", func() { middleware.NewRateLimiter(-1, 1) }, "not positive and finite"},
		{"infinite limit", func() { middleware.NewRateLimiter(rate.Inf, 1) }, "not positive and finite"},
		{"zero burst", func() { middleware.NewRateLimiter(1, 0) }, "burst 0"},
		{"bad proxy", func() { middleware.RateLimitTrustedProxies("10.0.0.0/33") }, "neither a CIDR nor an address"},
		{"proxy hostname", func() { middleware.RateLimitTrustedProxies("lb.internal") }, "neither a CIDR nor an address"},
		{"zero clients", func() { middleware.RateLimitMaxClients(0) }, "not positive"},
		{"nil option", func() { middleware.NewRateLimiter(1, 1, nil) }, "nil option"},
	})
}

// dialerFrom returns a gorilla dialer and an HTTP client whose connections
// come from the loopback address ip, so that the server sees two clients.
func dialerFrom(t *testing.T, ip string) (*websocket.Dialer, *http.Client) {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: forgetest.Timeout}
	tr := &http.Transport{DialContext: nd.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: forgetest.Timeout},
		&http.Client{Transport: tr, Timeout: forgetest.Timeout}
}

// TestRateLimitWebSocketAndREST brute-forces a real forge app over
// loopback from 127.0.0.2: its handshakes and requests get 429 (never a
// 101) while 127.0.0.1 keeps being served. The limiter guards a group
// through Use and a route through WithMiddleware, sharing one budget.
func TestRateLimitWebSocketAndREST(t *testing.T) {
	t.Parallel()
	const burst = 5
	l := middleware.NewRateLimiter(rate.Every(time.Hour), burst)
	app := forge.New(forge.WithLogger(new(logBuffer).logger()))
	r := app.Router()
	r.WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		return conn.Write([]byte("welcome"))
	}, forge.WithMiddleware(l.Handler))
	api := r.Group("/api")
	api.Use(l.Handler)
	api.GET("/ping", func(ctx forge.Context) error { return ctx.String(http.StatusOK, "pong") })
	srv := forgetest.Start(t, app)
	wsURL := srv.WebSocketURL("/ws")

	attackerWS, attackerHTTP := dialerFrom(t, "127.0.0.2")
	victimWS, victimHTTP := dialerFrom(t, "127.0.0.1")

	dial := func(d *websocket.Dialer) (int, error) {
		ws, resp, err := d.DialContext(context.Background(), wsURL, nil)
		if err != nil {
			if resp == nil {
				return 0, err
			}
			readProblemBody(t, resp)
			return resp.StatusCode, nil
		}
		defer ws.Close()
		ws.SetReadDeadline(time.Now().Add(forgetest.Timeout))
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "welcome" {
			return 0, fmt.Errorf("read welcome: %q, %v", msg, err)
		}
		return resp.StatusCode, nil
	}

	var attacks, refused int
	for i := range 3 * burst {
		var status int
		if i%2 == 0 {
			var err error
			if status, err = dial(attackerWS); err != nil {
				t.Fatalf("attacker handshake %d: %v", i, err)
			}
		} else {
			status = get(t, attackerHTTP, srv.URL+"/api/ping", nil).StatusCode
		}
		attacks++
		switch {
		case status == http.StatusTooManyRequests:
			refused++
		case attacks > burst:
			t.Fatalf("attacker request %d: %d, want 429", i, status)
		case status != http.StatusSwitchingProtocols && status != http.StatusOK:
			t.Fatalf("attacker request %d within the burst: %d", i, status)
		}

		// The victim is served throughout, the attacker's refusals
		// included (4 handshakes and 1 request: its own burst).
		if i%4 == 0 {
			if status, err := dial(victimWS); err != nil || status != http.StatusSwitchingProtocols {
				t.Fatalf("victim handshake while under attack: %d, %v", status, err)
			}
		}
	}
	if refused != 2*burst {
		t.Fatalf("refused %d attacker requests, want %d", refused, 2*burst)
	}
	if resp := get(t, victimHTTP, srv.URL+"/api/ping", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("victim REST request: %d", resp.StatusCode)
	}
	if got := l.Rejected(); got != uint64(refused) {
		t.Fatalf("Rejected = %d, want %d: every refusal is counted", got, refused)
	}
}

// readProblemBody checks a refused handshake's problem+json body.
func readProblemBody(t *testing.T, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		readProblem(t, resp, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
}
