package hub

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

var bg = context.Background()

func TestRoomsDeliverAndList(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	e := newEnv(t, h)
	ann, annID := e.dial("ann", "a", "b")
	bob, bobID := e.dial("bob", "a")
	cy, cyID := e.dial("cy", "b")

	if got := h.Count("a"); got != 2 {
		t.Fatalf("Count(a) = %d", got)
	}
	if got, want := h.Rooms(), []RoomInfo{{"a", 2}, {"b", 2}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Rooms() = %v, want %v", got, want)
	}
	in := h.ConnectionsIn("a")
	if len(in) != 2 {
		t.Fatalf("ConnectionsIn(a) = %+v", in)
	}
	users := map[string]MemberInfo{}
	for _, m := range in {
		users[m.Meta["user"]] = m
	}
	if users["ann"].ID != annID || users["bob"].ID != bobID || !reflect.DeepEqual(users["ann"].Rooms, []string{"a", "b"}) ||
		users["ann"].RemoteAddr == "" {
		t.Fatalf("ConnectionsIn(a) = %+v", in)
	}
	if m, ok := h.Connection(cyID); !ok || m.Meta["user"] != "cy" || !reflect.DeepEqual(m.Rooms, []string{"b"}) {
		t.Fatalf("Connection(cy) = %+v, %v", m, ok)
	}
	if got := len(h.Connections()); got != 3 {
		t.Fatalf("Connections() has %d entries", got)
	}

	// A room reaches its members only; each client's next message proves
	// what it did not get before.
	testkit.Must(t, h.Broadcast(bg, "a", text("to a")))
	testkit.Must(t, h.Broadcast(bg, "b", text("to b")))
	testkit.Expect(t, ann.ReadText, "to a", "to b")
	testkit.Expect(t, bob.ReadText, "to a")
	testkit.Expect(t, cy.ReadText, "to b")

	testkit.Must(t, h.Broadcast(bg, "a", Message{Data: []byte("not ann"), Except: []string{annID}}))
	testkit.Must(t, h.Send(annID, text("just ann")))
	testkit.Must(t, h.BroadcastAll(bg, text("everyone")))
	testkit.Expect(t, ann.ReadText, "just ann", "everyone")
	testkit.Expect(t, bob.ReadText, "not ann", "everyone")
	testkit.Expect(t, cy.ReadText, "everyone")

	testkit.Must(t, h.Leave(bg, annID, "a"))
	testkit.Must(t, h.Leave(bg, annID, "a")) // leaving twice changes nothing
	testkit.Must(t, h.Broadcast(bg, "a", text("without ann")))
	testkit.Must(t, h.Send(annID, text("marker")))
	testkit.Expect(t, ann.ReadText, "marker")
	testkit.Expect(t, bob.ReadText, "without ann")

	if err := h.Send("ws_nobody", text("x")); !errors.Is(err, ErrUnknownConnection) {
		t.Fatalf("Send to unknown id: %v", err)
	}
	if err := h.Join(bg, "ws_nobody", "a"); !errors.Is(err, ErrUnknownConnection) {
		t.Fatalf("Join of unknown id: %v", err)
	}
	if err := h.Join(bg, bobID, ""); !errors.Is(err, ErrInvalidRoom) {
		t.Fatalf("Join of empty room: %v", err)
	}
	if err := h.Broadcast(bg, "nobody-here", text("x")); err != nil {
		t.Fatalf("Broadcast to an empty room: %v", err)
	}

	// A connection that ends leaves its rooms.
	bob.Close()
	testkit.WaitFor(t, "bob to be unregistered", func() bool { _, ok := h.Connection(bobID); return !ok })
	if got := h.Count("a"); got != 0 {
		t.Fatalf("Count(a) = %d after bob left", got)
	}
	st := h.Status()
	if st.Connections != 2 || st.Rooms != 1 || st.Dropped != 0 || st.Delivered != 11 || st.Published != 8 {
		t.Fatalf("Status() = %+v", st)
	}
}

func TestPresence(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		hooks []Presence
	)
	h := newHub(t, WithPresence("presence"), WithPresenceHook(func(p Presence) {
		mu.Lock()
		hooks = append(hooks, p)
		mu.Unlock()
	}))
	e := newEnv(t, h)
	ann, annID := e.dial("ann", "lobby")
	bob, bobID := e.dial("bob", "lobby")

	var got Presence
	ann.ExpectEvent("presence", "", &got)
	want := Presence{Room: "lobby", Action: Joined, ID: bobID, Meta: map[string]string{"user": "bob"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ann got %+v, want bob's join", got)
	}
	// bob is not told about his own join: his first message is this one.
	testkit.Must(t, h.Send(bobID, text("first")))
	testkit.Expect(t, bob.ReadText, "first")

	bob.Close()
	got = Presence{}
	ann.ExpectEvent("presence", "", &got)
	want.Action = Left
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ann got %+v, want bob's leave", got)
	}
	mu.Lock()
	defer mu.Unlock()
	wantHooks := []Presence{
		{Room: "lobby", Action: Joined, ID: annID, Meta: map[string]string{"user": "ann"}},
		{Room: "lobby", Action: Joined, ID: bobID, Meta: map[string]string{"user": "bob"}},
		{Room: "lobby", Action: Left, ID: bobID, Meta: map[string]string{"user": "bob"}},
	}
	if !reflect.DeepEqual(hooks, wantHooks) {
		t.Fatalf("hooks saw %+v, want %+v", hooks, wantHooks)
	}
}

// subscriptionFilter accepts the events in its set.
type subscriptionFilter map[string]bool

func (f subscriptionFilter) Accepts(event string) bool { return f[event] }

func TestFilter(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	app := testmux.New(t)
	ids := make(chan string, 2)
	app.Mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		var opts []MemberOption
		if ctx.Query("only") != "" {
			opts = append(opts, WithFilter(subscriptionFilter{ctx.Query("only"): true}))
		}
		testkit.Must(t, h.Register(conn, opts...))
		testkit.Must(t, h.Join(ctx.Context(), conn.ID(), "r"))
		ids <- conn.ID()
		_, err := conn.Read()
		return err
	})
	srv := forgetest.Start(t, app)
	picky := srv.Dial(t, "/ws?only=news", nil)
	pickyID := <-ids
	all := srv.Dial(t, "/ws", nil)
	<-ids

	testkit.Must(t, h.Broadcast(bg, "r", Message{Data: []byte("gossip"), Event: "gossip"}))
	testkit.Must(t, h.Broadcast(bg, "r", Message{Data: []byte("news"), Event: "news"}))
	testkit.Must(t, h.Broadcast(bg, "r", text("unlabelled")))
	testkit.Must(t, h.Send(pickyID, Message{Data: []byte("direct gossip"), Event: "gossip"}))
	testkit.Must(t, h.Send(pickyID, text("end")))
	testkit.Expect(t, picky.ReadText, "news", "unlabelled", "end")
	testkit.Expect(t, all.ReadText, "gossip", "news", "unlabelled")
	if st := h.Status(); st.Filtered != 2 {
		t.Fatalf("Filtered = %d, want 2", st.Filtered)
	}
}

// TestOrder has several goroutines publish to one room at once: every
// member receives every message, each publisher's in its order, and all
// members see the same interleaving.
func TestOrder(t *testing.T) {
	t.Parallel()
	const members, publishers, each = 4, 4, 250
	h := newHub(t)
	e := newEnv(t, h)
	var clients []*forgetest.Conn
	for i := range members {
		c, _ := e.dial(fmt.Sprint("m", i), "room")
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for seq := range each {
				if err := h.Broadcast(bg, "room", text(fmt.Sprintf("%d:%d", p, seq))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var first []string
	for i, c := range clients {
		got := make([]string, 0, publishers*each)
		next := make([]int, publishers)
		for range publishers * each {
			m := c.ReadText()
			var p, seq int
			if _, err := fmt.Sscanf(m, "%d:%d", &p, &seq); err != nil || seq != next[p] {
				t.Fatalf("member %d got %q, want publisher %d's message %d", i, m, p, next[p])
			}
			next[p]++
			got = append(got, m)
		}
		if i == 0 {
			first = got
		} else if !reflect.DeepEqual(got, first) {
			t.Fatalf("member %d saw another order than member 0", i)
		}
	}
	wg.Wait()
	if st := h.Status(); st.Dropped != 0 || st.Delivered != members*publishers*each {
		t.Fatalf("Status() = %+v", st)
	}
}

// TestNoLossAtSteadyRate publishes a long stream to a room whose members
// keep up: nothing is dropped and every member gets every message.
func TestNoLossAtSteadyRate(t *testing.T) {
	t.Parallel()
	const members, msgs = 20, 3000
	h := newHub(t)
	e := newEnv(t, h)
	var clients []*forgetest.Conn
	for i := range members {
		c, _ := e.dial(fmt.Sprint("m", i), "room")
		clients = append(clients, c)
	}
	errs := make(chan error, members)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for want := range msgs {
				_, data, err := c.ReadMessage()
				if err != nil || string(data) != fmt.Sprint(want) {
					errs <- fmt.Errorf("got %q (%v), want %d", data, err, want)
					return
				}
			}
		})
	}
	for i := range msgs {
		testkit.Must(t, h.Broadcast(bg, "room", text(fmt.Sprint(i))))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := h.Status(); st.Dropped != 0 || st.Delivered != members*msgs {
		t.Fatalf("Status() = %+v", st)
	}
}

func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	app := testmux.New(t)
	errs := make(chan error, 1)
	app.Mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		testkit.Must(t, h.Register(conn))
		errs <- h.Register(conn)
		_, err := conn.Read()
		return err
	})
	srv := forgetest.Start(t, app)
	srv.Dial(t, "/ws", nil)
	if err := <-errs; !errors.Is(err, ErrDuplicateConnection) {
		t.Fatalf("second Register: %v", err)
	}
	testkit.Must(t, h.Close())
	testkit.Must(t, h.Close())
	if err := h.Broadcast(bg, "r", text("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Broadcast after Close: %v", err)
	}
}

// TestJoinLeaveRaces runs joins, leaves, broadcasts, listings and
// disconnections at once (run it with -race), then checks that the hub
// and its broker subscriptions are empty once every client is gone.
func TestJoinLeaveRaces(t *testing.T) {
	t.Parallel()
	bus := NewMemoryBroker()
	h := newHub(t, WithBroker(bus), WithPresence("presence"))
	e := newEnv(t, h)
	const clients = 16
	var (
		conns []*forgetest.Conn
		ids   []string
	)
	for i := range clients {
		c, id := e.dial(fmt.Sprint("u", i))
		conns = append(conns, c)
		ids = append(ids, id)
	}
	// Clients drain whatever they receive until they are closed.
	var readers sync.WaitGroup
	for _, c := range conns {
		readers.Go(func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					return
				}
			}
		})
	}
	rooms := []string{"r0", "r1", "r2", "r3"}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := ids[(w*7+i)%clients]
				room := rooms[(w+i)%len(rooms)]
				switch i % 6 {
				case 0, 1:
					h.Join(bg, id, room)
				case 2:
					h.Leave(bg, id, room)
				case 3:
					h.Broadcast(bg, room, text("x"))
				case 4:
					h.ConnectionsIn(room)
					h.Rooms()
					h.SetMeta(id, map[string]string{"n": fmt.Sprint(i)})
				case 5:
					if i%60 == 5 && w < 4 {
						conns[(w*7+i)%clients].Close() // the client goes away
					} else {
						h.Connections()
					}
				}
			}
		})
	}
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	testkit.WaitFor(t, "every connection to leave", func() bool { st := h.Status(); return st.Connections == 0 && st.Rooms == 0 })
	// A room is gone from Status before its subscription ends (the hub
	// unsubscribes after it lets go of its lock): wait for that too, and
	// a subscription left behind fails the wait.
	testkit.WaitFor(t, "every room's broker subscription to end", func() bool {
		for _, r := range rooms {
			if bus.subscriptions(roomTopic(r)) != 0 {
				return false
			}
		}
		return true
	})
}

// TestTwoNodes connects two hubs through a memory broker: rooms, presence
// and messages to everyone span both; Send stays local.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	bus := NewMemoryBroker()
	a := newHub(t, WithBroker(bus), WithNodeID("a"), WithPresence("presence"))
	b := newHub(t, WithBroker(bus.Connect()), WithNodeID("b"), WithPresence("presence"))
	ea, eb := newEnv(t, a), newEnv(t, b)

	ann, annID := ea.dial("ann", "room")
	if bus.subscriptions(roomTopic("room")) != 1 {
		t.Fatal("node a did not subscribe to its room")
	}
	bob, bobID := eb.dial("bob", "room")
	if bus.subscriptions(roomTopic("room")) != 2 {
		t.Fatal("node b did not subscribe to its room")
	}
	var p Presence
	ann.ExpectEvent("presence", "", &p)
	if p.ID != bobID || p.Action != Joined {
		t.Fatalf("ann got %+v, want bob's join from node b", p)
	}

	for i := range 300 {
		testkit.Must(t, a.Broadcast(bg, "room", text(fmt.Sprint(i))))
	}
	for i := range 300 {
		testkit.Expect(t, bob.ReadText, fmt.Sprint(i))
		testkit.Expect(t, ann.ReadText, fmt.Sprint(i))
	}
	testkit.Must(t, b.Broadcast(bg, "room", Message{Data: []byte("not bob"), Except: []string{bobID}}))
	testkit.Must(t, b.BroadcastAll(bg, text("everyone")))
	testkit.Expect(t, ann.ReadText, "not bob", "everyone")
	testkit.Expect(t, bob.ReadText, "everyone")
	// A direct send crosses nodes; an id no node holds is dropped quietly.
	testkit.Must(t, a.Send(bobID, text("direct from a")))
	testkit.Must(t, a.Send("ws_nobody", text("lost")))
	testkit.Expect(t, bob.ReadText, "direct from a")
	if st := b.Status(); st.Remote < 300 {
		t.Fatalf("node b Status() = %+v", st)
	}

	// bob leaves: ann hears it across nodes, and node b, whose room is now
	// empty, unsubscribes.
	bob.Close()
	p = Presence{}
	ann.ExpectEvent("presence", "", &p)
	if p.ID != bobID || p.Action != Left {
		t.Fatalf("ann got %+v, want bob's leave", p)
	}
	testkit.WaitFor(t, "node b to unsubscribe", func() bool { return bus.subscriptions(roomTopic("room")) == 1 })
	_ = annID
}

func TestMaxRoomsPerConnection(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	tests := []struct {
		name string
		opt  []Option
		max  int // 0: no cap within the joins tried
	}{
		{"default", nil, DefaultMaxRooms},
		{"two", []Option{WithMaxRooms(2)}, 2},
		{"no cap", []Option{WithMaxRooms(-1)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHub(t, tt.opt...)
			e := newEnv(t, h)
			_, id := e.dial("ann")
			tries := DefaultMaxRooms + 10
			for i := range tries {
				err := h.Join(bg, id, fmt.Sprint("room-", i))
				switch {
				case tt.max == 0 || i < tt.max:
					testkit.Must(t, err)
				case !errors.Is(err, ErrTooManyRooms):
					t.Fatalf("join %d: %v, want ErrTooManyRooms", i, err)
				}
			}
			// Joining a room the connection is in is not a new room.
			testkit.Must(t, h.Join(bg, id, "room-0"))
			refused := 0
			if tt.max > 0 {
				refused = tries - tt.max
			}
			if got := h.Status().RefusedJoins; got != uint64(refused) {
				t.Fatalf("RefusedJoins = %d, want %d", got, refused)
			}
			// Leaving makes room for another.
			if tt.max > 0 {
				testkit.Must(t, h.Leave(bg, id, "room-0"))
				testkit.Must(t, h.Join(bg, id, "another"))
			}
		})
	}
}

// TestOptionMistakes: options no program should pass panic where they are
// built, and options that cannot work together panic in New.
func TestOptionMistakes(t *testing.T) {
	t.Parallel()
	testkit.MustPanicCases(t, "forge: ", []testkit.PanicCase{
		{"nil option", func() { New(nil) }, "nil Option"},
		{"nil broker", func() { WithBroker(nil) }, "nil Broker"},
		{"empty node id", func() { WithNodeID("") }, "empty node id"},
		{"empty presence event", func() { WithPresence("") }, "WithPresence"},
		{"nil presence hook", func() { WithPresenceHook(nil) }, "WithPresenceHook"},
		{"bad history pattern", func() { WithHistory("[", 10, 0) }, "pattern"},
		{"empty history", func() { WithHistory("*", 0, 0) }, "positive size"},
		{"nil history store", func() { WithHistoryStore(nil) }, "nil HistoryStore"},
		{"store beside a broker", func() {
			New(WithBroker(NewMemoryBroker()), WithHistory("*", 10, 0), WithHistoryStore(NewMemoryHistory()))
		}, "drop WithHistoryStore"},
		{"broker without history", func() {
			New(WithBroker(noHistoryBroker{NewMemoryBroker()}), WithHistory("*", 10, 0))
		}, "keeps no history"},
	})
}

// noHistoryBroker is a Broker that is no HistoryStore.
type noHistoryBroker struct{ b *MemoryBroker }

func (n noHistoryBroker) Publish(ctx context.Context, topic string, data []byte) error {
	return n.b.Publish(ctx, topic, data)
}

func (n noHistoryBroker) Subscribe(ctx context.Context, topic string, fn func([]byte)) (func() error, error) {
	return n.b.Subscribe(ctx, topic, fn)
}

func (n noHistoryBroker) Close() error { return n.b.Close() }

// TestRegisterAgainAfterUnregister unregisters a connection and registers
// it again: when it ends, its second membership ends with it (the first
// registration's end hook finds its member gone and changes nothing).
func TestRegisterAgainAfterUnregister(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	app := testmux.New(t)
	registered := make(chan error, 1)
	app.Mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		err := h.Register(conn)
		if err == nil && !h.Unregister(conn.ID()) {
			err = errors.New("Unregister found no member")
		}
		if err == nil {
			err = h.Register(conn)
		}
		if err == nil {
			err = h.Join(ctx.Context(), conn.ID(), "lobby")
		}
		registered <- err
		for {
			if _, err := conn.Read(); err != nil {
				return nil
			}
		}
	})
	srv := forgetest.Start(t, app)
	c := srv.Dial(t, "/ws", nil)
	if err := <-registered; err != nil {
		t.Fatal(err)
	}
	if ms, _ := h.Members(context.Background(), "lobby"); len(ms) != 1 {
		t.Fatalf("lobby has %d members, want 1", len(ms))
	}
	c.Close()
	testkit.WaitFor(t, "the lobby to empty", func() bool {
		ms, _ := h.Members(context.Background(), "lobby")
		return len(ms) == 0
	})
}
