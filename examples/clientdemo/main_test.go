package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is the demo app serving on a loopback address, which the test
// can stop and serve again on the same address.
type server struct {
	t    *testing.T
	addr string
	URL  string

	mu     sync.Mutex // guards app and served
	app    *forge.App // nil while stopped
	served chan error // Serve's result
}

// serve starts the app on addr ("127.0.0.1:0" for a free port); the test
// stops it at its end.
func serve(t *testing.T, addr string) *server {
	t.Helper()
	s := &server{t: t, addr: addr}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	app, err := newApp()
	if err != nil {
		s.t.Fatal(err)
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen on %s: %v", s.addr, err)
	}
	s.addr = l.Addr().String()
	s.URL = "http://" + s.addr
	served := make(chan error, 1)
	go func() { served <- app.Serve(l) }()
	s.mu.Lock()
	s.app, s.served = app, served
	s.mu.Unlock()
}

// stop shuts the app down: its connections are closed with 1001.
func (s *server) stop() {
	s.t.Helper()
	s.mu.Lock()
	app, served := s.app, s.served
	s.app = nil
	s.mu.Unlock()
	if app == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), forgetest.Timeout)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		s.t.Errorf("shutdown: %v", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.t.Errorf("serve: %v", err)
	}
}

// token gets a demo token from the app.
func (s *server) token(t *testing.T, user string) string {
	t.Helper()
	res, err := http.Post(s.URL+"/token?user="+user, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("token: %s %v", res.Status, err)
	}
	return out.Token
}

// dial opens a WebSocket to the app with user's token.
func (s *server) dial(t *testing.T, path, user string) *forgetest.Conn {
	t.Helper()
	return (&forgetest.Server{URL: s.URL}).Dial(t, path, nil, "demo.v1", "bearer."+s.token(t, user))
}

// post sends a JSON body to the app and checks the status.
func (s *server) post(t *testing.T, path, body string, status int) {
	t.Helper()
	testkit.Post(t, s.URL+path, body, status)
}

// request sends a request and reads messages up to its answer.
func request(t *testing.T, c *forgetest.Conn, event, id string, payload any) forgetest.Event {
	t.Helper()
	c.SendEvent(event, id, payload)
	for {
		var e forgetest.Event
		c.ReadJSON(&e)
		if e.ID == id {
			return e
		}
	}
}

// TestDemoOverWebSocket checks the demo routes with a plain WebSocket
// client, as the browser tests rely on them.
func TestDemoOverWebSocket(t *testing.T) {
	t.Parallel()
	srv := serve(t, "127.0.0.1:0")
	if _, res, err := (&forgetest.Server{URL: srv.URL}).DialErr("/ws/demo", nil); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v %v", res, err)
	}
	c := srv.dial(t, "/ws/demo", "ann")
	if e := request(t, c, "echo", "1", Echo{Text: "hi"}); e.Event != "echo.ack" || string(e.Payload) != `{"text":"hi"}` {
		t.Errorf("echo: %+v", e)
	}
	if e := request(t, c, "whoami", "2", struct{}{}); e.Event != "whoami.ack" || string(e.Payload) != `{"subject":"ann"}` {
		t.Errorf("whoami: %+v", e)
	}
	if e := request(t, c, "fail", "3", struct{}{}); e.Event != "error" || !strings.Contains(string(e.Payload), `"nope"`) {
		t.Errorf("fail: %+v", e)
	}
	srv.post(t, "/news", `{"text":"extra"}`, http.StatusNoContent)
	var news forgetest.Event
	c.ReadJSON(&news)
	if news.Event != "news" || string(news.Payload) != `{"text":"extra"}` {
		t.Errorf("news: %+v", news)
	}
	srv.post(t, "/news", `{}`, http.StatusBadRequest)
	c.SendJSON(forgetest.Event{Event: "kick", Payload: json.RawMessage(`{"reason":"bye"}`)})
	if reason := c.ExpectClose(int(forge.ClosePolicyViolation)); reason != "bye" {
		t.Errorf("kick reason %q", reason)
	}
	for _, path := range []string{"/", "/seed.html", "/forge.js"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, res.Status)
		}
	}
}
