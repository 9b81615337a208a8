package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/router"
)

var benchMessage = []byte(`{"event":"message","payload":{"text":"hello there","mood":"happy"}}`)

// benchSession is a session with no connection: enough to dispatch
// messages whose handlers succeed and that carry no id (so nothing is
// written).
func benchSession(d *Dispatcher) *session {
	return &session{d: d, ctx: context.Background(), subs: newSubscriptions(""), rtok: make(chan struct{}, 1)}
}

// BenchmarkDispatch measures what the dispatcher adds to a message once
// it is read: decoding the envelope, finding the handler, the Context,
// calling the handler. "raw" is a handler that takes the raw payload
// (On with json.RawMessage, which costs no copy); "typed" decodes and validates a two-field struct with
// constraints (On), which is the cost of the payload's type on top.
func BenchmarkDispatch(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		d := New(WithLogger(slog.New(slog.DiscardHandler)))
		var n int
		On(d, "message", func(c *Context, payload json.RawMessage) error { n += len(payload); return nil })
		s := benchSession(d)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.dispatch(connection.TextMessage, benchMessage); err != nil {
				b.Fatal(err)
			}
		}
		if d.Stats().Handled == 0 || n == 0 {
			b.Fatal("nothing handled")
		}
	})
	b.Run("typed", func(b *testing.B) {
		d := New(WithLogger(slog.New(slog.DiscardHandler)))
		var n int
		On(d, "message", func(c *Context, m chatMessage) error { n += len(m.Text); return nil })
		s := benchSession(d)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.dispatch(connection.TextMessage, benchMessage); err != nil {
				b.Fatal(err)
			}
		}
		if st := d.Stats(); st.Handled == 0 || st.InvalidPayload > 0 || n == 0 {
			b.Fatalf("Stats() = %+v", st)
		}
	})
}

// BenchmarkRead compares reading messages over loopback with a raw
// Connection.ReadMessage loop and with a dispatcher on the same
// connection type, in one run (a handler taking the raw payload): the difference is the dispatch overhead per
// message as the server sees it. "dispatch" listens (the default),
// "dispatch-reader" has WithDedicatedReader. One op is one message from a client that
// writes as fast as the server reads, at most two windows of 64 messages
// ahead (the server reports every 64th).
func BenchmarkRead(b *testing.B) {
	const window = 64
	servers := map[string]func(tick func()) router.WebSocketHandler{
		"raw": func(tick func()) router.WebSocketHandler {
			return func(_ router.Context, conn connection.Connection) error {
				for {
					if _, _, err := conn.ReadMessage(context.Background()); err != nil {
						return nil
					}
					tick()
				}
			}
		},
		"dispatch": func(tick func()) router.WebSocketHandler {
			d := New(WithLogger(slog.New(slog.DiscardHandler)))
			On(d, "message", func(*Context, json.RawMessage) error { tick(); return nil })
			return d.serve
		},
		"dispatch-reader": func(tick func()) router.WebSocketHandler {
			d := New(WithLogger(slog.New(slog.DiscardHandler)), WithDedicatedReader())
			On(d, "message", func(*Context, json.RawMessage) error { tick(); return nil })
			return d.serve
		},
	}
	for _, name := range []string{"raw", "dispatch", "dispatch-reader"} {
		b.Run(name, func(b *testing.B) {
			windows := make(chan struct{}, 1<<16)
			n := 0 // touched by the connection's goroutine only
			tick := func() {
				if n++; n%window == 0 {
					windows <- struct{}{}
				}
			}
			mux := router.New(router.Config{Logger: slog.New(slog.DiscardHandler)})
			mux.WebSocket("/ws", servers[name](tick))
			srv := httptest.NewServer(mux)
			defer srv.Close()
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			sent := 0
			b.ReportAllocs()
			for b.Loop() {
				if err := ws.WriteMessage(websocket.TextMessage, benchMessage); err != nil {
					b.Fatal(err)
				}
				if sent++; sent%window == 0 && sent >= 2*window {
					<-windows
				}
			}
			ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		})
	}
}

// BenchmarkRoundTrip measures a request and its acknowledgement over
// loopback, one at a time on one connection: the connection waits for
// each message, so a listening one (the default) parks and is woken by
// the poller every time, and one with WithDedicatedReader has its
// goroutine woken by the runtime's. One op is one round trip, the
// client's time included.
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []DispatcherOption
	}{
		{"listen", nil},
		{"reader", []DispatcherOption{WithDedicatedReader()}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			d := New(append(mode.opts, WithLogger(slog.New(slog.DiscardHandler)))...)
			On(d, "message", func(*Context, json.RawMessage) error { return nil })
			mux := router.New(router.Config{Logger: slog.New(slog.DiscardHandler)})
			Route(mux, "/ws", d)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			msg := []byte(`{"event":"message","id":"1","payload":{"text":"hello there"}}`)
			b.ReportAllocs()
			for b.Loop() {
				if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := ws.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		})
	}
}
