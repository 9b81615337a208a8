package brokertest

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

// cluster tests run hubs over the broker, with real WebSocket clients on
// each node, to check what users see: rooms, messages to everyone and to
// one connection, across nodes.

// hubNode is one node: a hub over its own broker handle, serving a
// WebSocket route that registers, joins and then reads until the end.
type hubNode struct {
	t      testing.TB
	hub    *hub.Hub
	srv    *forgetest.Server
	joined chan string
}

// hubOptions builds the options of a test hub; logs go to log (or nowhere).
func hubOptions(b hub.Broker, log *slog.Logger) []hub.Option {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return []hub.Option{hub.WithBroker(b), hub.WithLogger(log)}
}

func newHubNode(t testing.TB, b hub.Broker, log *slog.Logger) *hubNode {
	t.Helper()
	h, err := hub.New(hubOptions(b, log)...)
	if err != nil {
		t.Fatalf("brokertest: hub.New: %v", err)
	}
	n := &hubNode{t: t, hub: h, joined: make(chan string, 16)}
	served := testmux.New(t)
	mux := served.Mux
	mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		if err := h.Register(conn, hub.WithMeta(map[string]string{"user": ctx.Query("user")})); err != nil {
			return err
		}
		for r := range strings.SplitSeq(ctx.Query("rooms"), ",") {
			if r == "" {
				continue
			}
			if err := h.Join(ctx.Context(), conn.ID(), r); err != nil {
				return err
			}
		}
		n.joined <- conn.ID()
		for {
			if _, err := conn.Read(); err != nil {
				return nil
			}
		}
	})
	// The hub closes after the server (cleanups run last first), so that
	// no connection is registered with a closed hub.
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("brokertest: hub Close: %v", err)
		}
	})
	n.srv = forgetest.Start(t, served)
	return n
}

// dial connects user to rooms and returns the client and its connection id.
func (n *hubNode) dial(user string, rooms ...string) (*forgetest.Conn, string) {
	n.t.Helper()
	q := url.Values{"user": {user}, "rooms": {strings.Join(rooms, ",")}}
	c := n.srv.Dial(n.t, "/ws?"+q.Encode(), nil)
	select {
	case id := <-n.joined:
		return c, id
	case <-time.After(Timeout):
		n.t.Fatalf("brokertest: %s did not join", user)
		return nil, ""
	}
}

func text(s string) hub.Message { return hub.Message{Data: []byte(s)} }

// hubRoomsAcrossNodes: a broadcast on one node reaches the room's members
// on the other, for room names that are awkward for a broker's channel or
// subject syntax, and never a room of another name.
func (s *suite) hubRoomsAcrossNodes(t *testing.T) {
	a, b := newHubNode(t, s.node(t), nil), newHubNode(t, s.node(t), nil)
	base := s.topic("")
	names := []string{"plain", "with space", "ünïcödé", "*", ">", "a.b", "a.*", "a.>", "x:y", "{tag}"}
	clients := make([]*forgetest.Conn, len(names))
	for i, name := range names {
		clients[i], _ = b.dial("member", base+name)
	}
	for _, name := range names {
		testkit.Must(t, a.hub.Broadcast(context.Background(), base+name, text("to "+name)))
	}
	for i, name := range names {
		testkit.Expect(t, clients[i].ReadText, "to "+name)
	}
}

// hubDirectAndEveryone: Send reaches a connection held by another node,
// and BroadcastAll every connection of every node.
func (s *suite) hubDirectAndEveryone(t *testing.T) {
	a, b := newHubNode(t, s.node(t), nil), newHubNode(t, s.node(t), nil)
	ann, _ := a.dial("ann")
	bob, bobID := b.dial("bob")
	testkit.Must(t, a.hub.Send(bobID, text("direct")))
	testkit.Must(t, a.hub.Send("ws_held_by_no_node", text("lost")))
	testkit.Expect(t, bob.ReadText, "direct")
	// Two publishers (a's Send, b's BroadcastAll) have no order between
	// them: wait for the first before the second.
	testkit.Must(t, b.hub.BroadcastAll(context.Background(), text("everyone")))
	testkit.Expect(t, bob.ReadText, "everyone")
	testkit.Expect(t, ann.ReadText, "everyone")
}

// hubLeaveStopsDelivery: once a node's last member of a room left, the
// node receives nothing more for that room. A second room, joined on that
// node by a witness, tells when the earlier message would have arrived.
func (s *suite) hubLeaveStopsDelivery(t *testing.T) {
	a, b := newHubNode(t, s.node(t), nil), newHubNode(t, s.node(t), nil)
	room, witnessRoom := s.topic("left"), s.topic("witness")
	leaver, leaverID := b.dial("leaver", room)
	witness, _ := b.dial("witness", witnessRoom)
	a.dial("stays", room) // the room lives on at node a

	testkit.Must(t, a.hub.Broadcast(context.Background(), room, text("before")))
	testkit.Expect(t, leaver.ReadText, "before")
	testkit.Must(t, b.hub.Leave(context.Background(), leaverID, room))
	remote := b.hub.Status().Remote

	testkit.Must(t, a.hub.Broadcast(context.Background(), room, text("after")))
	testkit.Must(t, a.hub.Broadcast(context.Background(), witnessRoom, text("witness")))
	testkit.Expect(t, witness.ReadText, "witness")
	if got := b.hub.Status().Remote - remote; got != 1 {
		t.Fatalf("node b received %d messages from node a after its room emptied, want only the witness's", got)
	}
}

// hubOrderAcrossNodes: the messages one node broadcasts to a room reach a
// member on another node complete and in order.
func (s *suite) hubOrderAcrossNodes(t *testing.T) {
	const n = 500
	a, b := newHubNode(t, s.node(t), nil), newHubNode(t, s.node(t), nil)
	room := s.topic("order")
	bob, _ := b.dial("bob", room)
	for i := range n {
		testkit.Must(t, a.hub.Broadcast(context.Background(), room, text(strings.Repeat("x", i%7)+":"+strconv.Itoa(i))))
	}
	for i := range n {
		testkit.Expect(t, bob.ReadText, strings.Repeat("x", i%7)+":"+strconv.Itoa(i))
	}
}

// hubPresence: with a PresenceStore, Members lists the members of every
// node, with their metadata, and follows leaves and ended connections.
func (s *suite) hubPresence(t *testing.T) {
	a, b := newHubNode(t, s.node(t), nil), newHubNode(t, s.node(t), nil)
	room := s.topic("presence room")
	_, annID := a.dial("ann", room)
	bob, bobID := b.dial("bob", room)
	want := []hub.Member{
		{Node: a.hub.Node(), ID: annID, Meta: map[string]string{"user": "ann"}},
		{Node: b.hub.Node(), ID: bobID, Meta: map[string]string{"user": "bob"}},
	}
	waitMembers(t, a.hub, room, want)
	waitMembers(t, b.hub, room, want)

	bob.Close()
	waitMembers(t, a.hub, room, want[:1])
	testkit.Must(t, a.hub.Leave(context.Background(), annID, room))
	waitMembers(t, b.hub, room, nil)
}

// waitMembers waits until h lists exactly want in room.
func waitMembers(t testing.TB, h *hub.Hub, room string, want []hub.Member) {
	t.Helper()
	var got []hub.Member
	var err error
	deadline := time.Now().Add(Timeout)
	for {
		got, err = h.Members(context.Background(), room)
		if err == nil && sameMembers(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("brokertest: Members(%q) = %+v, %v; want %+v", room, got, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func sameMembers(got, want []hub.Member) bool {
	if len(got) != len(want) {
		return false
	}
	key := func(m hub.Member) string {
		keys := make([]string, 0, len(m.Meta))
		for k, v := range m.Meta {
			keys = append(keys, k+"="+v)
		}
		slices.Sort(keys)
		return m.Node + "\x00" + m.ID + "\x00" + strings.Join(keys, "\x00")
	}
	g := make([]string, len(got))
	for i, m := range got {
		g[i] = key(m)
	}
	w := make([]string, len(want))
	for i, m := range want {
		w[i] = key(m)
	}
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// logCounter counts log records by message, for checks that an outage is
// logged once.
type logCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	if l.n == nil {
		l.n = make(map[string]int)
	}
	l.n[r.Message]++
	l.mu.Unlock()
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }

// count returns how many records' messages start with prefix.
func (l *logCounter) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for msg, c := range l.n {
		if strings.HasPrefix(msg, prefix) {
			n += c
		}
	}
	return n
}
