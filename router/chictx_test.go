package router_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"
	"weak"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

// TestWebSocketChiRouteContext: chi's route context, which chi pools and
// hands to the next request once ServeHTTP returns, must not reach a
// WebSocket handler that outlives the handshake: chi.URLParam on the
// handler's request, and chi.RouteContext on the connection's context,
// give the connection's own route and parameters however many requests
// chi served since.
func TestWebSocketChiRouteContext(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	m.GET("/items/:id", func(ctx router.Context) error {
		return ctx.JSON(http.StatusOK, ctx.Param("id"))
	})
	m.WebSocket("/ws/:room/:user", func(ctx router.Context, conn connection.Connection) error {
		for {
			if _, err := conn.Read(); err != nil {
				return err
			}
			rc := chi.RouteContext(conn.Context())
			var pattern, room string
			if rc != nil {
				pattern, room = rc.RoutePattern(), rc.URLParam("room")
			}
			if err := conn.WriteJSON([]string{chi.URLParam(ctx.Request(), "room"), chi.URLParam(ctx.Request(), "user"), room, pattern}); err != nil {
				return err
			}
		}
	})
	url := startServer(t, m, &tracker)
	c := testkit.Dial(t, url+"/ws/lobby/ada", nil)
	base := "http" + url[len("ws"):]
	for range 3 {
		// Requests served meanwhile take chi's pooled route contexts.
		for range 20 {
			resp, err := http.Get(base + "/items/42")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("?")); err != nil {
			t.Fatal(err)
		}
		want := `["lobby","ada","lobby","/ws/{room}/{user}"]`
		if got := readText(t, c); got != want {
			t.Fatalf("the handler sees chi's route context as %s, want %s", got, want)
		}
	}
}

// TestWebSocketChiRouteContextMounted: in a Mux mounted on another, the
// WebSocket handler's chi.RouteContext is the one chi gave the handshake:
// its RoutePattern includes the mount's path, and Routes is the router
// that served the request, as for the Mux's REST routes.
func TestWebSocketChiRouteContextMounted(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	sub := newMux(t, router.Config{Tracker: &tracker})
	type seen struct {
		Pattern   string
		Patterns  []string
		Params    []string
		Routes    bool // Routes matches the request's path
		RouteMeth string
	}
	see := func(rc *chi.Context, path string) seen {
		if rc == nil {
			return seen{}
		}
		s := seen{Pattern: rc.RoutePattern(), Patterns: rc.RoutePatterns, RouteMeth: rc.RouteMethod}
		for i, k := range rc.URLParams.Keys {
			s.Params = append(s.Params, k, rc.URLParams.Values[i])
		}
		s.Routes = rc.Routes != nil && rc.Routes.Match(chi.NewRouteContext(), http.MethodGet, path)
		return s
	}
	handshake := make(chan seen, 1)
	sub.WebSocket("/ws/:room", func(ctx router.Context, conn connection.Connection) error {
		for {
			if _, err := conn.Read(); err != nil {
				return err
			}
			if err := conn.WriteJSON(see(chi.RouteContext(conn.Context()), "/api/ws/lobby")); err != nil {
				return err
			}
		}
	}, router.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handshake <- see(chi.RouteContext(r.Context()), "/api/ws/lobby")
			next.ServeHTTP(w, r)
		})
	}))
	m.Mount("/api", sub)
	url := startServer(t, m, &tracker)
	c := testkit.Dial(t, url+"/api/ws/lobby", nil)
	want := marshal(t, <-handshake)
	if err := c.WriteMessage(websocket.TextMessage, []byte("?")); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != want {
		t.Fatalf("the handler sees chi's route context as\n%s\nthe handshake saw\n%s", got, want)
	}
}

// TestWebSocketIdleHandlerLetsURLGo: a WebSocket handler that does not
// hold its Context does not keep the request's URL alive. chi's parameters
// are substrings of the request's path, which shares its bytes with the
// whole request line, query included (where browsers, which cannot set
// headers on a WebSocket, put access tokens): kept as they are for chi's
// route context, they would keep every request line for as long as its
// connection lives.
func TestWebSocketIdleHandlerLetsURLGo(t *testing.T) {
	const n = 48
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	var (
		mu    sync.Mutex
		lines []weak.Pointer[byte]
	)
	m.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			lines = append(lines, weak.Make(unsafe.StringData(r.URL.RawQuery)))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	m.WebSocket("/ws/:room", func(_ router.Context, conn connection.Connection) error {
		return testkit.Echo(conn)
	})
	url := startServer(t, m, &tracker)
	token := strings.Repeat("t", 16<<10)
	for i := range n {
		c := testkit.Dial(t, fmt.Sprintf("%s/ws/room%d?token=%s", url, i, token), nil)
		// The handler is reading: the handshake is over.
		if err := c.WriteMessage(websocket.TextMessage, []byte("x")); err != nil {
			t.Fatal(err)
		}
		readText(t, c)
	}
	runtime.GC()
	runtime.GC()
	mu.Lock()
	defer mu.Unlock()
	alive := 0
	for _, p := range lines {
		if p.Value() != nil {
			alive++
		}
	}
	// chi's pooled route contexts, which the connections' contexts still
	// lead to, keep the parameters of the last request that used each of
	// them: a few, or about a quarter under the race detector, whose
	// sync.Pool drops a quarter of what is put back.
	if alive > n/2 {
		t.Fatalf("%d of %d idle connections keep their request line alive", alive, n)
	}
}
