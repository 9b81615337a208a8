//go:build unix

package forge_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

// seedRoom is the chat room of forge's WebSocket guide: a map of
// connections, broadcast by looping WriteJSON under a read lock.
type seedRoom struct {
	mu      sync.RWMutex
	clients map[string]forge.Connection
}

func (r *seedRoom) Join(c forge.Connection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients[c.ID()] = c
}

func (r *seedRoom) Leave(c forge.Connection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.clients, c.ID())
}

func (r *seedRoom) Broadcast(sender string, msg any) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for id, client := range r.clients {
		if id != sender {
			client.WriteJSON(msg)
		}
	}
}

func (r *seedRoom) size() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.clients)
}

// TestSeedRoomSurvivesMemberThatNeverReads runs the guide's room with a
// member that never reads. Its queue fills, one broadcast waits out the
// write timeout, the member is closed as a slow consumer (and counted), and
// the fast member receives every message, in order.
func TestSeedRoomSurvivesMemberThatNeverReads(t *testing.T) {
	app := forge.New(
		forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		// The write timeout applies to the fast member too: long enough
		// that a loaded box cannot make it look slow.
		forge.WithRouteDefaults(forge.WithQueueBytes(16<<10), forge.WithWriteTimeout(2*time.Second)),
	)
	room := &seedRoom{clients: make(map[string]forge.Connection)}
	app.Router().WebSocket("/ws/chat", func(ctx forge.Context, conn forge.Connection) error {
		room.Join(conn)
		defer room.Leave(conn)
		for {
			var msg map[string]any
			if err := conn.ReadJSON(&msg); err != nil {
				return nil
			}
			room.Broadcast(conn.ID(), msg)
		}
	})
	srv := forgetest.Start(t, app)

	// The slow member's socket takes almost nothing, and it never reads.
	testkit.DialTiny(t, srv.WebSocketURL("/ws/chat"))
	fast := srv.Dial(t, "/ws/chat", nil)
	sender := srv.Dial(t, "/ws/chat", nil)
	for room.size() < 3 {
		time.Sleep(time.Millisecond)
	}

	// 8 MB: more than the kernel's socket buffers (up to 4 MB for the
	// sender here) and the 16 KiB queue can hold for the slow member.
	const n = 8000
	pad := strings.Repeat("x", 1000)
	go func() {
		for i := range n {
			if err := sender.WriteJSON(map[string]any{"seq": i, "pad": pad}); err != nil {
				return
			}
		}
	}()
	for i := range n {
		var msg struct {
			Seq int `json:"seq"`
		}
		fast.ReadJSON(&msg)
		if msg.Seq != i {
			t.Fatalf("fast member got message %d, want %d", msg.Seq, i)
		}
	}
	if got := app.Stats().SlowConsumers; got != 1 {
		t.Fatalf("slow consumers %d, want 1", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for room.size() != 2 {
		if ctx.Err() != nil {
			t.Fatal("the slow member's handler did not end")
		}
		time.Sleep(time.Millisecond)
	}
}
