//go:build unix

package hub

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

// TestSlowMemberIsolated has a member that never reads in a room that
// keeps publishing. Under each slow-consumer policy the fast members get
// every message in order, and what happens to the slow one is counted.
func TestSlowMemberIsolated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy connection.Policy
	}{
		{"close", connection.PolicyClose},
		{"drop newest", connection.PolicyDropNewest},
		{"drop oldest", connection.PolicyDropOldest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// 8 MB per member: more than the kernel's socket buffers (at
			// most 4 MB for the sender, a few KiB for a receiver that asks
			// for little) and the 1 MiB queue can hold for the slow one.
			const msgs, ahead = 256, 16
			payload := strings.Repeat("p", 32<<10)
			h := newHub(t)
			// The slow member's writer waits on a full socket for the whole
			// test: a write timeout longer than a loaded box could take
			// keeps the drop policies from closing it as a slow consumer.
			e := newEnv(t, h, router.WithSlowConsumerPolicy(tt.policy), router.WithWriteTimeout(2*time.Minute))
			fast1, _ := e.dial("fast1", "room")
			slow, slowID := e.dialTiny("slow", "room")
			fast2, _ := e.dial("fast2", "room")

			// The fast members read along; the room publishes at their
			// pace, at most a few messages ahead of the slower of the two.
			errs := make(chan error, 2)
			var (
				wg       sync.WaitGroup
				received [2]atomic.Int64
				progress = make(chan struct{}, 1)
			)
			for i, c := range []*forgetest.Conn{fast1, fast2} {
				wg.Go(func() {
					defer received[i].Store(msgs)
					for want := range msgs {
						_, data, err := c.ReadMessage()
						if err != nil || !strings.HasPrefix(string(data), fmt.Sprint(want, ":")) {
							errs <- fmt.Errorf("fast member got %.10q (%v), want message %d", data, err, want)
							return
						}
						received[i].Add(1)
						select {
						case progress <- struct{}{}:
						default:
						}
					}
				})
			}
			for i := range msgs {
				for min(received[0].Load(), received[1].Load()) < int64(i-ahead) {
					<-progress
				}
				testkit.Must(t, h.Broadcast(bg, "room", text(fmt.Sprint(i, ":", payload))))
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// What the slow member lost is counted: refused offers by the
			// hub, messages dropped from a queue by the Tracker.
			st, cs := h.Status(), e.app.Tracker.Stats()
			if st.Delivered < 2*msgs {
				t.Fatalf("Status() = %+v: fewer deliveries than the fast members received", st)
			}
			switch tt.policy {
			case connection.PolicyClose:
				if st.Dropped == 0 || cs.SlowConsumers != 1 || cs.Dropped == 0 || cs.Dropped+cs.Discarded < st.Dropped {
					t.Fatalf("hub %+v, tracker %+v: want a refused offer, counted by both, and one slow consumer", st, cs)
				}
				testkit.WaitFor(t, "the slow member to leave", func() bool { _, ok := h.Connection(slowID); return !ok })
			default:
				if cs.SlowConsumers != 0 || cs.Dropped == 0 {
					t.Fatalf("tracker stats %+v, want drops and no slow consumer", cs)
				}
				if tt.policy == connection.PolicyDropNewest && (st.Dropped != cs.Dropped || st.Delivered+st.Dropped != 3*msgs) {
					t.Fatalf("hub %+v, tracker %+v: every refused offer is a dropped message", st, cs)
				}
				if _, ok := h.Connection(slowID); !ok {
					t.Fatal("the slow member was unregistered")
				}
				// It is still served, in order, minus what was dropped.
				slow.SetReadDeadline(time.Now().Add(forgetest.Timeout))
				last := -1
				for range 5 {
					_, data, err := slow.ReadMessage()
					if err != nil {
						t.Fatal(err)
					}
					var n int
					fmt.Sscanf(string(data), "%d:", &n)
					if n <= last {
						t.Fatalf("slow member got message %d after %d", n, last)
					}
					last = n
				}
			}
		})
	}
}

// dialTiny is dial with a client socket that asks for a 4 KiB receive
// buffer, so that a client that does not read fills up fast.
func (e *env) dialTiny(user string, rooms ...string) (*websocket.Conn, string) {
	e.t.Helper()
	q := url.Values{"user": {user}, "rooms": {strings.Join(rooms, ",")}}
	ws := testkit.DialTiny(e.t, e.srv.WebSocketURL("/ws?"+q.Encode()))
	return ws, e.joinedID(user)
}
