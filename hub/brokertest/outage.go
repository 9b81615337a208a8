package brokertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

// Server is the broker's server as the outage test drives it.
type Server struct {
	// Stop stops the server, as a crash or a network cut would: clients
	// see their connections fail. It returns once the clients have
	// noticed, when the client library tells (nats.go does); otherwise the
	// test broadcasts until a broadcast fails.
	Stop func(t testing.TB)
	// Start starts it again on the same address. It may come back empty
	// (a Redis without persistence does).
	Start func(t testing.TB)
}

// Outage stops the broker's server in the middle of a run of two hubs and
// starts it again, and checks what the hub package promises:
//
//   - local delivery goes on during the outage;
//   - messages for other nodes are dropped, counted in Status and logged
//     once for the outage, not per message;
//   - cross-node delivery comes back by itself, in both directions,
//     without a new broker or hub;
//   - with a PresenceStore, the listing is whole again afterwards.
//
// newBroker must return handles that reconnect on their own (the clients'
// defaults do).
func Outage(t *testing.T, newBroker func(t *testing.T) hub.Broker, srv Server) {
	s := &suite{prefix: "brokertest.outage." + rand.Text()[:8] + ".", newBroker: newBroker}
	logs := &logCounter{}
	ba, bb := s.node(t), s.node(t)
	a, b := newHubNode(t, ba, slog.New(logs)), newHubNode(t, bb, nil)
	room := s.topic("room")
	annConn, annID := a.dial("ann", room)
	carlConn, carlID := a.dial("carl", room)
	bobConn, bobID := b.dial("bob", room)
	ann, carl, bob := collect(t, annConn), collect(t, carlConn), collect(t, bobConn)
	_, isStore := ba.(hub.PresenceStore)

	testkit.Must(t, a.hub.Broadcast(context.Background(), room, text("before")))
	ann.expect(t, "before")
	carl.expect(t, "before")
	bob.expect(t, "before")

	srv.Stop(t)
	// Broadcast until a few have failed: the first ones may still have
	// gone out before the clients noticed.
	var failed []string
	deadline := time.Now().Add(Timeout)
	for i := 0; len(failed) < 3; i++ {
		msg := fmt.Sprintf("during %d", i)
		// The error reports the broker; local members get msg either way.
		if err := a.hub.Broadcast(context.Background(), room, text(msg)); err != nil {
			failed = append(failed, msg)
		}
		ann.expect(t, msg)
		carl.expect(t, msg)
		if time.Now().After(deadline) {
			t.Fatalf("brokertest: every Broadcast succeeded for %v while the broker was down", Timeout)
		}
		if len(failed) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	st := a.hub.Status()
	if st.BrokerDropped < uint64(len(failed)) || !st.BrokerDown {
		t.Fatalf("brokertest: Status during the outage = %+v, want BrokerDown and BrokerDropped >= %d", st, len(failed))
	}
	if n := logs.count("hub lost its broker"); n != 1 {
		t.Fatalf("brokertest: the outage was logged %d times, want once", n)
	}

	srv.Start(t)
	// Cross-node delivery resumes by itself: probe until bob hears a.
	deadline = time.Now().Add(3 * Timeout)
	for i := 0; ; i++ {
		msg := fmt.Sprintf("probe %d", i)
		_ = a.hub.Broadcast(context.Background(), room, text(msg)) // fails until the broker is back
		if got, ok := bob.next(200 * time.Millisecond); ok {
			if slices.Contains(failed, got) {
				t.Fatalf("brokertest: a message whose Broadcast failed reached the other node: %q", got)
			}
			if strings.HasPrefix(got, "probe") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("brokertest: cross-node delivery did not come back within %v of the restart", 3*Timeout)
		}
	}
	// And the other way, to a room and to one connection.
	testkit.Must(t, b.hub.Broadcast(context.Background(), room, text("b to a")))
	ann.skipUntil(t, "b to a")
	carl.skipUntil(t, "b to a")
	testkit.Must(t, b.hub.Send(annID, text("direct to ann")))
	ann.expect(t, "direct to ann")
	if isStore {
		waitMembers(t, b.hub, room, []hub.Member{
			{Node: a.hub.Node(), ID: annID, Meta: map[string]string{"user": "ann"}},
			{Node: a.hub.Node(), ID: carlID, Meta: map[string]string{"user": "carl"}},
			{Node: b.hub.Node(), ID: bobID, Meta: map[string]string{"user": "bob"}},
		})
	}
	testkit.WaitFor(t, "the hub to see its broker again", func() bool { return !a.hub.Status().BrokerDown })
	if n := logs.count("hub reached its broker again"); n != 1 {
		t.Fatalf("brokertest: the recovery was logged %d times, want once", n)
	}
	if n := logs.count("hub lost its broker"); n != 1 {
		t.Fatalf("brokertest: the outage was logged %d times, want once", n)
	}
}

// received is what a client connection receives, read by a goroutine of
// its own so that waits can time out without spoiling the connection.
type received struct {
	msgs chan string
}

func collect(t *testing.T, c *forgetest.Conn) *received {
	r := &received{msgs: make(chan string, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c.SetReadDeadline(time.Time{})
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			r.msgs <- string(data)
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return r
}

func (r *received) next(d time.Duration) (string, bool) {
	select {
	case m := <-r.msgs:
		return m, true
	case <-time.After(d):
		return "", false
	}
}

func (r *received) expect(t *testing.T, want string) {
	t.Helper()
	got, ok := r.next(Timeout)
	if !ok {
		t.Fatalf("brokertest: %q did not arrive within %v", want, Timeout)
	}
	if got != want {
		t.Fatalf("brokertest: got %q, want %q", got, want)
	}
}

// skipUntil reads until want arrives, skipping late probes.
func (r *received) skipUntil(t *testing.T, want string) {
	t.Helper()
	for {
		got, ok := r.next(Timeout)
		if !ok {
			t.Fatalf("brokertest: %q did not arrive within %v", want, Timeout)
		}
		if got == want {
			return
		}
	}
}
