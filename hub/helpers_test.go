package hub

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

// env is a hub behind a WebSocket route: /ws?user=NAME&rooms=a,b registers
// the connection with {"user": NAME}, joins the rooms, reports its id on
// joined, then reads (and discards) until the connection ends.
type env struct {
	t      testing.TB
	hub    *Hub
	app    *testmux.App
	srv    *forgetest.Server
	joined chan string
}

func newEnv(t testing.TB, h *Hub, opts ...router.WebSocketOption) *env {
	t.Helper()
	e := &env{t: t, hub: h, app: testmux.New(t), joined: make(chan string, 16)}
	e.app.Mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
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
	return c, e.joinedID(user)
}

// joinedID waits for user's connection to have joined its rooms and
// returns the connection's id.
func (e *env) joinedID(user string) string {
	e.t.Helper()
	select {
	case id := <-e.joined:
		return id
	case <-time.After(forgetest.Timeout):
		e.t.Fatalf("%s did not join", user)
		return ""
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
