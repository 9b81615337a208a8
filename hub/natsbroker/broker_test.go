package natsbroker_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/brokertest"
	"github.com/forgekit/forge/hub/natsbroker"
	"github.com/forgekit/forge/hub/natsbroker/natstest"
	"github.com/forgekit/forge/internal/testkit"
)

// ttl is the presence TTL of the brokers under test: short, since the
// suite waits for a node to expire.
const ttl = 2 * time.Second

// newBroker returns a function that connects a new broker to srv, as
// another node would; the test closes the connection when it ends.
func newBroker(srv *natstest.Server, opts ...natsbroker.Option) func(t *testing.T) hub.Broker {
	return func(t *testing.T) hub.Broker {
		t.Helper()
		b, err := natsbroker.New(srv.Connect(t), append([]natsbroker.Option{natsbroker.WithPresenceTTL(ttl)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	brokertest.Run(t, newBroker(srv))
}

func TestOutage(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	brokertest.Outage(t, newBroker(srv), brokertest.Server{Stop: srv.Stop, Start: srv.Start})
}

// TestMissingBuckets: presence works on after its buckets vanished, as
// they do when a server restarts without its memory store.
func TestMissingBuckets(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	b, err := natsbroker.New(srv.Connect(t), natsbroker.WithPresenceTTL(ttl), natsbroker.WithPresenceBucket("missing"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	drop := func() {
		t.Helper()
		for _, name := range []string{"missing_nodes", "missing_members"} {
			if err := js.DeleteKeyValue(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, known, err := b.KeepAlive(ctx, "n1"); err != nil || known {
		t.Fatalf("first KeepAlive = %v, %v; want unknown", known, err)
	}
	drop()
	if _, known, err := b.KeepAlive(ctx, "n1"); err != nil || known {
		t.Fatalf("KeepAlive after the buckets vanished = %v, %v; want unknown", known, err)
	}
	drop()
	ann := hub.Member{Node: "n1", ID: "ann"}
	if err := b.UpdatePresence(ctx, []hub.PresenceChange{{Room: "room", Member: ann, Present: true}}); err != nil {
		t.Fatalf("UpdatePresence after the buckets vanished: %v", err)
	}
	if _, known, err := b.KeepAlive(ctx, "n1"); err != nil || known {
		t.Fatalf("KeepAlive = %v, %v; want unknown", known, err)
	}
	if got, err := b.Members(ctx, "room"); err != nil || len(got) != 1 || got[0].ID != "ann" {
		t.Fatalf("Members = %+v, %v; want ann", got, err)
	}
	drop()
	if got, err := b.Members(ctx, "room"); err != nil || len(got) != 0 {
		t.Fatalf("Members after the buckets vanished = %+v, %v; want none", got, err)
	}
}

// TestOptionMistakes: option values no program should pass panic where
// they are built; a nil connection panics in New.
func TestOptionMistakes(t *testing.T) {
	t.Parallel()
	testkit.MustPanicCases(t, "forge: ", []testkit.PanicCase{
		{"prefix without a dot", func() { natsbroker.WithSubjectPrefix("forge") }, "WithSubjectPrefix"},
		{"wildcard prefix", func() { natsbroker.WithSubjectPrefix("forge.*.") }, "WithSubjectPrefix"},
		{"bucket name with a dot", func() { natsbroker.WithPresenceBucket("a.b") }, "WithPresenceBucket"},
		{"stream name with a dot", func() { natsbroker.WithHistoryStream("a.b", jetstream.FileStorage) }, "WithHistoryStream"},
		{"unknown storage", func() { natsbroker.WithHistoryStream("", jetstream.StorageType(7)) }, "storage"},
		{"nil connection", func() { natsbroker.New(nil) }, "nil connection"},
	})
}

// TestPrefix: brokers with different prefixes do not hear each other.
func TestPrefix(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	a := newBroker(srv, natsbroker.WithSubjectPrefix("a."))(t)
	b := newBroker(srv, natsbroker.WithSubjectPrefix("b."))(t)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	got := make(chan string, 4)
	for _, br := range []hub.Broker{a, b} {
		if _, err := br.Subscribe(ctx, "t", func(d []byte) { got <- string(d) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Publish(ctx, "t", []byte("for a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "t", []byte("for b")); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 2 {
		select {
		case m := <-got:
			seen[m]++
		case <-time.After(brokertest.Timeout):
			t.Fatalf("received %v", seen)
		}
	}
	if seen["for a"] != 1 || seen["for b"] != 1 {
		t.Fatalf("received %v, want each message once", seen)
	}
}

// TestDisconnected: while the server is down, calls fail with
// ErrDisconnected instead of being buffered, except Subscribe, which takes
// effect once the connection is back.
func TestDisconnected(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc := srv.Connect(t)
	b, err := natsbroker.New(nc, natsbroker.WithPresenceTTL(ttl))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	srv.Stop(t)
	waitStatus(t, nc, nats.RECONNECTING)

	if err := b.Publish(ctx, "t", []byte("lost")); !errors.Is(err, natsbroker.ErrDisconnected) {
		t.Errorf("Publish: %v, want ErrDisconnected", err)
	}
	if _, _, err := b.KeepAlive(ctx, "n"); !errors.Is(err, natsbroker.ErrDisconnected) {
		t.Errorf("KeepAlive: %v, want ErrDisconnected", err)
	}
	if err := b.UpdatePresence(ctx, nil); !errors.Is(err, natsbroker.ErrDisconnected) {
		t.Errorf("UpdatePresence: %v, want ErrDisconnected", err)
	}
	if _, err := b.Members(ctx, "r"); !errors.Is(err, natsbroker.ErrDisconnected) {
		t.Errorf("Members: %v, want ErrDisconnected", err)
	}
	got := make(chan string, 4)
	unsub, err := b.Subscribe(ctx, "t", func(d []byte) { got <- string(d) })
	if err != nil {
		t.Fatalf("Subscribe while disconnected: %v", err)
	}
	defer unsub()

	srv.Start(t)
	waitStatus(t, nc, nats.CONNECTED)
	other := newBroker(srv)(t)
	defer other.Close()
	if err := other.Publish(ctx, "t", []byte("after")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "after" {
			t.Fatalf("received %q, want after", m)
		}
	case <-time.After(brokertest.Timeout):
		t.Fatal("the subscription made while disconnected received nothing after the reconnect")
	}
}

func waitStatus(t *testing.T, nc *nats.Conn, want nats.Status) {
	t.Helper()
	deadline := time.Now().Add(brokertest.Timeout)
	for nc.Status() != want {
		if time.Now().After(deadline) {
			t.Fatalf("connection %v, want %v", nc.Status(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCloseKeepsConnection: Close leaves the caller's connection open.
func TestCloseKeepsConnection(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc := srv.Connect(t)
	b, err := natsbroker.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if nc.Status() != nats.CONNECTED {
		t.Fatalf("connection %v after Close, want CONNECTED", nc.Status())
	}
	if _, _, err := b.KeepAlive(context.Background(), "n"); !errors.Is(err, hub.ErrBrokerClosed) {
		t.Fatalf("KeepAlive after Close: %v, want ErrBrokerClosed", err)
	}
}

// TestManyMembers: a listing longer than the watcher's buffer comes whole.
func TestManyMembers(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	// Expiry is not what this test is about: a TTL that writing 600
	// members on a loaded box cannot outlast.
	b, err := natsbroker.New(srv.Connect(t), natsbroker.WithPresenceTTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if _, _, err := b.KeepAlive(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	const n = 600
	changes := make([]hub.PresenceChange, n)
	for i := range changes {
		changes[i] = hub.PresenceChange{Room: "big room", Member: hub.Member{Node: "n", ID: strconv.Itoa(i)}, Present: true}
	}
	if err := b.UpdatePresence(ctx, changes); err != nil {
		t.Fatal(err)
	}
	got, err := b.Members(ctx, "big room")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, m := range got {
		seen[m.ID] = true
	}
	if len(got) != n || len(seen) != n {
		t.Fatalf("Members listed %d members (%d distinct), want %d", len(got), len(seen), n)
	}
}
