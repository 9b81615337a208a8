package hub

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/router"
)

// testApp serves a router on a real listener, for forgetest.Start.
type testApp struct {
	mux     *router.Mux
	tracker *connection.Tracker
	srv     *http.Server
}

func newTestApp(t testing.TB, defaults ...router.GroupOption) *testApp {
	t.Helper()
	tracker := &connection.Tracker{}
	mux := router.New(router.Config{Logger: slog.New(slog.DiscardHandler), Tracker: tracker, Defaults: defaults})
	return &testApp{mux: mux, tracker: tracker, srv: &http.Server{Handler: mux}}
}

func (a *testApp) Serve(l net.Listener) error {
	if err := a.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *testApp) Shutdown(ctx context.Context) error {
	return errors.Join(a.tracker.Shutdown(ctx), a.srv.Shutdown(ctx))
}

// env is a hub behind a WebSocket route: /ws?user=NAME&rooms=a,b registers
// the connection with {"user": NAME}, joins the rooms, reports its id on
// joined, then reads (and discards) until the connection ends.
type env struct {
	t      testing.TB
	hub    *Hub
	app    *testApp
	srv    *forgetest.Server
	joined chan string
}

func newEnv(t testing.TB, h *Hub, opts ...router.WebSocketOption) *env {
	t.Helper()
	e := &env{t: t, hub: h, app: newTestApp(t), joined: make(chan string, 16)}
	e.app.mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		meta := map[string]string{"user": ctx.Query("user")}
		if err := h.Register(conn, WithMeta(meta)); err != nil {
			return err
		}
		if rooms := ctx.Query("rooms"); rooms != "" {
			for _, r := range strings.Split(rooms, ",") {
				if err := h.Join(ctx.Context(), conn.ID(), r); err != nil {
					return err
				}
			}
		}
		e.joined <- conn.ID()
		for {
			if _, err := conn.Read(); err != nil {
				return nil
			}
		}
	}, opts...)
	e.srv = forgetest.Start(t, e.app)
	return e
}

// dial connects user to the rooms and returns the client and the server's
// connection id.
func (e *env) dial(user string, rooms ...string) (*forgetest.Conn, string) {
	e.t.Helper()
	q := url.Values{"user": {user}, "rooms": {strings.Join(rooms, ",")}}
	c := e.srv.Dial(e.t, "/ws?"+q.Encode(), nil)
	select {
	case id := <-e.joined:
		return c, id
	case <-time.After(forgetest.Timeout):
		e.t.Fatalf("%s did not join", user)
		return nil, ""
	}
}

func newHub(t testing.TB, opts ...Option) *Hub {
	t.Helper()
	h, err := New(append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func text(s string) Message { return Message{Data: []byte(s)} }
