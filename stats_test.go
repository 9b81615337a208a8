//go:build unix

package forge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

// TestStatsRefusedCountsAuth checks that a handshake refused by the
// route's auth counts in Stats().Refused, like one refused for its origin.
func TestStatsRefusedCountsAuth(t *testing.T) {
	keys := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{"k-1": {Subject: "robot"}})
	app := forge.New(forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), forge.WithAuthProvider("key", keys))
	app.Router().WebSocket("/ws", func(forge.Context, forge.Connection) error { return nil }, forge.WithAuth("key"))
	srv := forgetest.Start(t, app)

	_, resp, err := srv.DialErr("/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial without a key: %v, %v; want 401", resp, err)
	}
	_, resp, err = srv.DialErr("/ws", http.Header{"X-API-Key": {"wrong"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial with a wrong key: %v, %v; want 401", resp, err)
	}
	_, resp, err = srv.DialErr("/ws", http.Header{"Origin": {"https://evil.example"}, "X-API-Key": {"k-1"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial from a foreign origin: %v, %v; want 403", resp, err)
	}
	ws := srv.Dial(t, "/ws", http.Header{"X-API-Key": {"k-1"}})
	ws.ExpectClose(websocket.CloseNormalClosure)
	if st := app.Stats(); st.Refused != 3 || st.Accepted != 1 {
		t.Fatalf("Stats() = %+v, want 3 refused (2 auth, 1 origin) and 1 accepted", st)
	}
}

// TestStatsDroppedOneDefinition checks that the tracker counts every
// message a hub's broadcast could not give a member: under PolicyClose,
// the offer that finds the queue full is in the hub's Status().Dropped
// and the tracker's Dropped (with whatever was still queued when the
// member was closed as a slow consumer), and an offer to the member while
// it closes is in the hub's Dropped and the tracker's Discarded.
func TestStatsDroppedOneDefinition(t *testing.T) {
	app := forge.New(forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h, err := hub.New()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	joined := make(chan struct{}, 1)
	app.Router().WebSocket("/ws", joinAndWait(h, "room", joined), forge.WithQueueBytes(16<<10), forge.WithSlowConsumerPolicy(connection.PolicyClose))
	srv := forgetest.Start(t, app)

	testkit.DialTiny(t, srv.WebSocketURL("/ws"))
	<-joined

	// The member never reads: its socket fills, then its queue, and the
	// offer that finds the queue full closes it.
	msg := hub.Message{Data: []byte(strings.Repeat("x", 4<<10))}
	for i := 0; h.Status().Dropped == 0; i++ {
		if i == 100_000 {
			t.Fatalf("no drop after %d broadcasts: %+v", i, h.Status())
		}
		if err := h.Broadcast(context.Background(), "room", msg); err != nil {
			t.Fatal(err)
		}
	}
	hs, st := h.Status(), app.Stats()
	if st.SlowConsumers != 1 {
		t.Fatalf("Stats() = %+v, want one slow consumer", st)
	}
	if st.Dropped == 0 || st.Dropped+st.Discarded < hs.Dropped {
		t.Fatalf("tracker dropped %d and discarded %d, hub dropped %d: every offer the hub saw refused is counted by the tracker, the one that found the queue full as dropped",
			st.Dropped, st.Discarded, hs.Dropped)
	}
	// Later broadcasts reach a member that is closing: the hub counts
	// their refusal, the tracker discards them.
	before := app.Stats().Discarded
	if err := h.Broadcast(context.Background(), "room", msg); err != nil {
		t.Fatal(err)
	}
	if hs2, st2 := h.Status(), app.Stats(); hs2.Dropped == hs.Dropped+1 && st2.Discarded != before+1 {
		t.Fatalf("a refused offer to a closing member: hub dropped %d -> %d, tracker discarded %d -> %d", hs.Dropped, hs2.Dropped, before, st2.Discarded)
	}
	deadline := time.Now().Add(forgetest.Timeout)
	for app.Stats().Open != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// joinAndWait returns a handler that registers the connection with h,
// joins it to room, sends on joined, and then holds the connection,
// reading nothing, until it ends: a member that never reads.
func joinAndWait(h *hub.Hub, room string, joined chan<- struct{}) forge.WebSocketHandler {
	return func(ctx forge.Context, conn forge.Connection) error {
		if err := h.Register(conn); err != nil {
			return err
		}
		if err := h.Join(ctx.Context(), conn.ID(), room); err != nil {
			return err
		}
		joined <- struct{}{}
		<-conn.Context().Done()
		return nil
	}
}
