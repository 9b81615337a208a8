package router_test

import (
	"testing"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

// TestRateLimitReply: a raw route answers a message over its rate with
// the default error event, or with WithRateLimitReply's message.
func TestRateLimitReply(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	echo := func(ctx router.Context, conn connection.Connection) error {
		for {
			typ, msg, err := conn.ReadMessage(ctx.Context())
			if err != nil {
				return nil
			}
			conn.WriteMessage(ctx.Context(), typ, msg)
		}
	}
	// One message per 1,000 s: the second is over the limit.
	limit := router.WithMessageRateLimit(0.001, 1, false)
	m.WebSocket("/default", echo, limit)
	m.WebSocket("/own", echo, limit, router.WithRateLimitReply([]byte(`{"type":"slow-down"}`)))
	url := startServer(t, m, &tracker)
	for path, want := range map[string]string{
		"/default": `{"event":"error","payload":{"code":"rate_limited","message":"message rate exceeded; the message was dropped"}}`,
		"/own":     `{"type":"slow-down"}`,
	} {
		c := testkit.Dial(t, url+path, nil)
		c.WriteMessage(websocket.TextMessage, []byte("one"))
		c.WriteMessage(websocket.TextMessage, []byte("two"))
		if got := readText(t, c); got != "one" {
			t.Fatalf("%s: echo %q", path, got)
		}
		if got := readText(t, c); got != want {
			t.Fatalf("%s: answer %q, want %q", path, got, want)
		}
	}
	testkit.MustPanic(t, "forge: ", "WithRateLimitReply", func() { router.WithRateLimitReply(nil) })
}
