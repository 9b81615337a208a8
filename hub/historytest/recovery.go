package historytest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

// Reconnects is how many times RunRecovery drops its subscriber.
const Reconnects = 50

// RunRecovery runs two hubs that keep history over brokers from newBroker
// (which must also be the history store), or one hub with its in-process
// store when newBroker is nil. Two publishers, one per node, broadcast at
// a steady rate; a subscriber is dropped at random moments, Reconnects
// times, and comes back to a node taken in turn with the last position it
// saw. It must receive every message exactly once, in order.
func RunRecovery(t *testing.T, newBroker func(t *testing.T) hub.Broker) {
	t.Run("Gapless", func(t *testing.T) { gapless(t, newBroker) })
	t.Run("LostPosition", func(t *testing.T) { lostPosition(t, newBroker) })
}

type node struct {
	hub *hub.Hub
	srv *forgetest.Server
}

// recovered is what the test route tells a client after JoinFrom.
type recovered struct {
	Recovery *hub.Recovery `json:"recovery"`
}

func startNodes(t *testing.T, newBroker func(t *testing.T) hub.Broker, size int) []node {
	t.Helper()
	n := 2
	if newBroker == nil {
		n = 1
	}
	var nodes []node
	for range n {
		opts := []hub.Option{hub.WithLogger(slog.New(slog.DiscardHandler)), hub.WithHistory("*", size, time.Minute)}
		if newBroker != nil {
			b := newBroker(t)
			t.Cleanup(func() { b.Close() })
			opts = append(opts, hub.WithBroker(b))
		}
		h, err := hub.New(opts...)
		if err != nil {
			t.Fatalf("historytest: hub.New: %v", err)
		}
		t.Cleanup(func() { h.Close() })
		nodes = append(nodes, node{hub: h, srv: serveHub(t, h)})
	}
	return nodes
}

// serveHub serves /ws?room=R[&epoch=E&offset=N]: the connection joins R,
// from the position when one is given (and is then sent the Recovery as a
// JSON message once it caught up), and reads until it ends.
func serveHub(t *testing.T, h *hub.Hub) *forgetest.Server {
	served := testmux.New(t)
	mux := served.Mux
	mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		if err := h.Register(conn); err != nil {
			return err
		}
		room := ctx.Query("room")
		if epoch := ctx.Query("epoch"); epoch != "" {
			off, err := strconv.ParseUint(ctx.Query("offset"), 10, 64)
			if err != nil {
				return err
			}
			rec, err := h.JoinFrom(ctx.Context(), conn.ID(), room, hub.StreamPosition{Epoch: epoch, Offset: off})
			if err != nil {
				return err
			}
			if err := conn.WriteJSON(recovered{Recovery: &rec}); err != nil {
				return nil
			}
		} else {
			if err := h.Join(ctx.Context(), conn.ID(), room); err != nil {
				return err
			}
			if err := conn.WriteJSON(map[string]bool{"joined": true}); err != nil {
				return nil
			}
		}
		for {
			if _, err := conn.Read(); err != nil {
				return nil
			}
		}
	})
	return forgetest.Start(t, served)
}

// message is what the subscriber reads: a published message with its
// position, or the route's recovery report.
type message struct {
	Position *struct {
		Room   string `json:"room"`
		Epoch  string `json:"epoch"`
		Offset uint64 `json:"offset"`
	} `json:"position"`
	Pub      string        `json:"pub"`
	N        int           `json:"n"`
	Recovery *hub.Recovery `json:"recovery"`
	Joined   bool          `json:"joined"`
}

func dialRoom(t *testing.T, n node, room string, pos *hub.StreamPosition) *websocket.Conn {
	t.Helper()
	q := url.Values{"room": {room}}
	if pos != nil {
		q.Set("epoch", pos.Epoch)
		q.Set("offset", strconv.FormatUint(pos.Offset, 10))
	}
	c, _, err := websocket.DefaultDialer.Dial(n.srv.WebSocketURL("/ws?"+q.Encode()), nil)
	if err != nil {
		t.Fatalf("historytest: dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func gapless(t *testing.T, newBroker func(t *testing.T) hub.Broker) {
	nodes := startNodes(t, newBroker, 10000)
	room := "historytest.gapless." + strconv.FormatUint(rand.Uint64(), 36)
	first := dialRoom(t, nodes[0], room, nil)
	// The route joins after the handshake, then says so: wait for it, so
	// that the subscriber is in the room (subscribed, its position read)
	// before the first message.
	first.SetReadDeadline(time.Now().Add(Timeout))
	var joined message
	if err := first.ReadJSON(&joined); err != nil || !joined.Joined {
		t.Fatalf("historytest: the subscriber did not join: %+v, %v", joined, err)
	}

	// Publishers: one per node, each numbering its messages.
	ctx, stop := context.WithCancel(context.Background())
	var pubs sync.WaitGroup
	for i, n := range nodes {
		pubs.Go(func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for seq := 0; ; seq++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				data := fmt.Sprintf(`{"pub":"%d","n":%d}`, i, seq)
				if err := n.hub.Broadcast(ctx, room, hub.Message{Data: []byte(data)}); err != nil && ctx.Err() == nil {
					t.Errorf("historytest: Broadcast: %v", err)
					return
				}
			}
		})
	}
	defer func() { stop(); pubs.Wait() }()

	var last hub.StreamPosition
	next := map[string]int{}
	got := 0
	conn := first
	for round := 0; round <= Reconnects; round++ {
		// Read a random number of messages, then drop the connection
		// without a close handshake, as a lost network would.
		want := 1 + rand.IntN(40)
		for read := 0; read < want; {
			conn.SetReadDeadline(time.Now().Add(Timeout))
			_, data, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("historytest: round %d: read: %v", round, err)
			}
			var m message
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("historytest: %q: %v", data, err)
			}
			if m.Recovery != nil {
				if !m.Recovery.Recovered {
					t.Fatalf("historytest: round %d: recovery from %+v failed: %+v", round, last, *m.Recovery)
				}
				continue
			}
			if m.Position == nil || m.Position.Room != room {
				t.Fatalf("historytest: message without this room's position: %s", data)
			}
			p := hub.StreamPosition{Epoch: m.Position.Epoch, Offset: m.Position.Offset}
			if last.Epoch != "" && (p.Epoch != last.Epoch || p.Offset != last.Offset+1) {
				t.Fatalf("historytest: round %d: message at %+v after %+v: a gap or a message twice", round, p, last)
			}
			if m.N != next[m.Pub] {
				t.Fatalf("historytest: publisher %s's message %d arrived when %d was due", m.Pub, m.N, next[m.Pub])
			}
			next[m.Pub]++
			last = p
			got++
			read++
		}
		conn.NetConn().Close()
		if round < Reconnects {
			conn = dialRoom(t, nodes[(round+1)%len(nodes)], room, &last)
		}
	}
	t.Logf("%d messages over %d connections, every one once and in order", got, Reconnects+1)
}

// lostPosition: a position the history cannot continue from is answered
// with Recovered false and the room's current position, and the client
// then gets the live messages.
func lostPosition(t *testing.T, newBroker func(t *testing.T) hub.Broker) {
	nodes := startNodes(t, newBroker, 3)
	room := "historytest.lost." + strconv.FormatUint(rand.Uint64(), 36)
	for i := range 10 {
		if err := nodes[0].hub.Broadcast(context.Background(), room, hub.Message{Data: []byte(`{"n":` + strconv.Itoa(i) + `}`)}); err != nil {
			t.Fatal(err)
		}
	}
	pos, err := nodes[0].hub.Position(context.Background(), room)
	if err != nil {
		t.Fatal(err)
	}
	for name, from := range map[string]hub.StreamPosition{
		"trimmed":       {Epoch: pos.Epoch, Offset: 1},
		"another epoch": {Epoch: "other", Offset: 9},
		"the future":    {Epoch: pos.Epoch, Offset: 1000},
	} {
		c := dialRoom(t, nodes[len(nodes)-1], room, &from)
		c.SetReadDeadline(time.Now().Add(Timeout))
		var m message
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Recovery == nil || m.Recovery.Recovered || m.Recovery.Replayed != 0 {
			t.Fatalf("%s: got %+v, want a failed recovery", name, m)
		}
		if err := nodes[0].hub.Broadcast(context.Background(), room, hub.Message{Data: []byte(`{"n":99}`)}); err != nil {
			t.Fatal(err)
		}
		if err := c.ReadJSON(&m); err != nil || m.N != 99 || m.Position == nil {
			t.Fatalf("%s: after the failed recovery got %+v, %v; want the live message", name, m, err)
		}
		c.Close()
	}
}
