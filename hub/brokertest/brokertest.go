// Package brokertest is the conformance suite for hub.Broker
// implementations: every broker forge ships passes it, and so must one of
// your own.
//
//	func TestMyBroker(t *testing.T) {
//		brokertest.Run(t, func(t *testing.T) hub.Broker {
//			b, err := mybroker.Dial(addr)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return b
//		})
//	}
//
// newBroker is called several times per test, once per simulated node; the
// brokers it returns must reach each other (the same server, or handles on
// one in-process bus). Tests use topics of their own, so a shared server
// needs no cleaning between them. The suite closes every broker it gets.
//
// What is checked: delivery to every subscription on every node, the
// publisher's included; payloads byte for byte (binary, empty, 256 KiB);
// topics that are arbitrary strings (dots, spaces, "*", ">", non-ASCII),
// never mixed up; order and completeness per publisher and topic; calls of
// one subscription never overlapping; several subscriptions of one topic on
// one node, ended one by one; no call after unsubscribe returns; a new
// subscription after an ended one; Close. Then hubs over the broker, with
// real WebSocket clients: rooms with awkward names across nodes, messages
// to everyone and to one connection on another node, order across nodes,
// and no delivery to a node after its last member of a room left. Brokers
// that are also a hub.PresenceStore get the presence tests: listings
// across handles, idempotent changes, and the members of a node that stops
// its KeepAlive (a killed node) leaving within the TTL, which must
// therefore be short (MaxPresenceTTL).
//
// Checks that something does not arrive use a witness: once the witness
// got a later message, a conforming broker would have delivered the
// earlier one too.
//
// Outage is a separate test for brokers with a real server: it stops and
// restarts the server under two hubs.
package brokertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

// Timeout bounds every wait of the suite.
const Timeout = 10 * time.Second

// Run runs the conformance tests against the brokers newBroker returns.
func Run(t *testing.T, newBroker func(t *testing.T) hub.Broker) {
	prefix := "brokertest." + rand.Text()[:8] + "."
	s := &suite{prefix: prefix, newBroker: newBroker}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"DeliversToEveryNode", s.deliversToEveryNode},
		{"PayloadsIntact", s.payloadsIntact},
		{"PublisherMayReuseBuffer", s.publisherMayReuseBuffer},
		{"TopicsAreOpaque", s.topicsAreOpaque},
		{"OrderPerPublisher", s.orderPerPublisher},
		{"CallsNeverOverlap", s.callsNeverOverlap},
		{"SeveralSubscriptionsPerNode", s.severalSubscriptionsPerNode},
		{"Unsubscribe", s.unsubscribe},
		{"Resubscribe", s.resubscribe},
		{"Close", s.close},
		{"Hub/RoomsAcrossNodes", s.hubRoomsAcrossNodes},
		{"Hub/DirectAndEveryone", s.hubDirectAndEveryone},
		{"Hub/LeaveStopsDelivery", s.hubLeaveStopsDelivery},
		{"Hub/OrderAcrossNodes", s.hubOrderAcrossNodes},
	}
	if probe := newBroker(t); probe != nil {
		_, isStore := probe.(hub.PresenceStore)
		if err := probe.Close(); err != nil {
			t.Fatalf("brokertest: Close: %v", err)
		}
		if isStore {
			tests = append(tests, []struct {
				name string
				fn   func(t *testing.T)
			}{
				{"Presence/Known", s.presenceKnown},
				{"Presence/AcrossNodes", s.presenceAcrossNodes},
				{"Presence/NodeExpires", s.presenceNodeExpires},
				{"Hub/Presence", s.hubPresence},
			}...)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.fn)
	}
}

type suite struct {
	prefix    string
	newBroker func(t *testing.T) hub.Broker
	n         atomic.Int64
}

// node returns a broker that the test closes when it ends.
func (s *suite) node(t *testing.T) hub.Broker {
	t.Helper()
	b := s.newBroker(t)
	if b == nil {
		t.Fatal("brokertest: newBroker returned nil")
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("brokertest: Close: %v", err)
		}
	})
	return b
}

// topic returns a topic no other test uses.
func (s *suite) topic(name string) string {
	return s.prefix + strconv.FormatInt(s.n.Add(1), 10) + "." + name
}

func subscribe(t *testing.T, b hub.Broker, topic string, fn func([]byte)) func() error {
	t.Helper()
	unsub, err := b.Subscribe(context.Background(), topic, fn)
	if err != nil {
		t.Fatalf("brokertest: Subscribe(%q): %v", topic, err)
	}
	if unsub == nil {
		t.Fatalf("brokertest: Subscribe(%q) returned a nil unsubscribe function", topic)
	}
	return unsub
}

func publish(t *testing.T, b hub.Broker, topic string, data []byte) {
	t.Helper()
	if err := b.Publish(context.Background(), topic, data); err != nil {
		t.Fatalf("brokertest: Publish(%q): %v", topic, err)
	}
}

func (s *suite) deliversToEveryNode(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	topic := s.topic("every-node")
	on1, on2 := testkit.NewInbox(), testkit.NewInbox()
	subscribe(t, n1, topic, on1.Receive)
	subscribe(t, n2, topic, on2.Receive)
	publish(t, n2, topic, []byte("from n2"))
	publish(t, n1, topic, []byte("from n1"))
	for name, in := range map[string]*testkit.Inbox{"n1": on1, "n2": on2} {
		got := in.Wait(t, 2)
		seen := map[string]bool{string(got[0]): true, string(got[1]): true}
		if len(got) != 2 || !seen["from n1"] || !seen["from n2"] {
			t.Errorf("%s received %q, want both nodes' messages once", name, got)
		}
	}
}

func (s *suite) payloadsIntact(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	topic := s.topic("payloads")
	in := testkit.NewInbox()
	subscribe(t, n1, topic, in.Receive)
	big := make([]byte, 256<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	payloads := [][]byte{
		[]byte("text"),
		{},
		{0, 1, 2, 0xff, 0xfe, 0, '\n', '\r'},
		[]byte("\xc3\x28 invalid UTF-8"),
		big,
	}
	for _, p := range payloads {
		publish(t, n2, topic, p)
	}
	got := in.Wait(t, len(payloads))
	if len(got) != len(payloads) {
		t.Fatalf("received %d messages, want %d", len(got), len(payloads))
	}
	for i := range payloads {
		if !bytes.Equal(got[i], payloads[i]) {
			t.Errorf("message %d: received %d bytes %.32q, want %d bytes %.32q", i, len(got[i]), got[i], len(payloads[i]), payloads[i])
		}
	}
}

func (s *suite) publisherMayReuseBuffer(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	topic := s.topic("reuse")
	in := testkit.NewInbox()
	subscribe(t, n1, topic, in.Receive)
	buf := []byte("first")
	publish(t, n2, topic, buf)
	copy(buf, "XXXXX")
	publish(t, n2, topic, []byte("second"))
	got := in.Wait(t, 2)
	if string(got[0]) != "first" || string(got[1]) != "second" {
		t.Fatalf("received %q, want [first second]: the broker kept the publisher's buffer", got)
	}
}

func (s *suite) topicsAreOpaque(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	base := s.topic("opaque")
	names := []string{"a", "a.b", "a b", "*", ">", "a.*", "a.>", "ünï/cödé", "a:b", "", "A"}
	inboxes := make([]*testkit.Inbox, len(names))
	for i, name := range names {
		inboxes[i] = testkit.NewInbox()
		subscribe(t, n1, base+name, inboxes[i].Receive)
	}
	// Every topic gets its own name as its only message.
	for _, name := range names {
		publish(t, n2, base+name, []byte("topic:"+name))
	}
	// A last message to each, after which nothing else can be in flight.
	for _, name := range names {
		publish(t, n2, base+name, []byte("end"))
	}
	for i, name := range names {
		got := inboxes[i].Wait(t, 2)
		if len(got) != 2 || string(got[0]) != "topic:"+name || string(got[1]) != "end" {
			t.Errorf("topic %q received %q, want only its own message then end", name, got)
		}
	}
}

func (s *suite) orderPerPublisher(t *testing.T) {
	const perPublisher = 1000
	pubs := []hub.Broker{s.node(t), s.node(t)}
	sub1, sub2 := s.node(t), pubs[0]
	topic := s.topic("order")
	in1, in2 := testkit.NewInbox(), testkit.NewInbox()
	subscribe(t, sub1, topic, in1.Receive)
	subscribe(t, sub2, topic, in2.Receive)
	var wg sync.WaitGroup
	errs := make(chan error, len(pubs))
	for p, b := range pubs {
		wg.Go(func() {
			for seq := range perPublisher {
				msg := []byte(fmt.Sprintf("%d:%d", p, seq))
				if err := b.Publish(context.Background(), topic, msg); err != nil {
					errs <- fmt.Errorf("publisher %d, message %d: %w", p, seq, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for name, in := range map[string]*testkit.Inbox{"other node": in1, "publishing node": in2} {
		got := in.Wait(t, len(pubs)*perPublisher)
		next := make([]int, len(pubs))
		for _, m := range got {
			var p, seq int
			if _, err := fmt.Sscanf(string(m), "%d:%d", &p, &seq); err != nil || p < 0 || p >= len(pubs) {
				t.Fatalf("%s: unexpected message %q", name, m)
			}
			if seq != next[p] {
				t.Fatalf("%s: publisher %d's message %d arrived when %d was due (lost, duplicated or reordered)", name, p, seq, next[p])
			}
			next[p]++
		}
		if len(got) != len(pubs)*perPublisher {
			t.Fatalf("%s: received %d messages, want %d", name, len(got), len(pubs)*perPublisher)
		}
	}
}

func (s *suite) callsNeverOverlap(t *testing.T) {
	const publishers, each = 4, 200
	sub := s.node(t)
	topic := s.topic("overlap")
	var inside, overlaps atomic.Int32
	in := testkit.NewInbox()
	subscribe(t, sub, topic, func(data []byte) {
		if inside.Add(1) > 1 {
			overlaps.Add(1)
		}
		runtime.Gosched() // widen the window for an overlapping call
		inside.Add(-1)
		in.Receive(data)
	})
	var wg sync.WaitGroup
	for range publishers {
		b := s.node(t)
		wg.Go(func() {
			for range each {
				if err := b.Publish(context.Background(), topic, []byte("x")); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	in.Wait(t, publishers*each)
	if n := overlaps.Load(); n > 0 {
		t.Fatalf("%d calls of one subscription overlapped", n)
	}
}

func (s *suite) severalSubscriptionsPerNode(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	topic := s.topic("several")
	a, b := testkit.NewInbox(), testkit.NewInbox()
	unsubA := subscribe(t, n1, topic, a.Receive)
	subscribe(t, n1, topic, b.Receive)
	publish(t, n2, topic, []byte("both"))
	a.Wait(t, 1)
	b.Wait(t, 1)
	if err := unsubA(); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	publish(t, n2, topic, []byte("b only"))
	if got := b.Wait(t, 2); string(got[1]) != "b only" {
		t.Fatalf("the remaining subscription received %q", got)
	}
	if got := a.Messages(); len(got) != 1 {
		t.Fatalf("the ended subscription received %q after unsubscribe returned", got)
	}
}

func (s *suite) unsubscribe(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	topic := s.topic("unsubscribe")
	in, witness := testkit.NewInbox(), testkit.NewInbox()
	unsub := subscribe(t, n1, topic, in.Receive)
	subscribe(t, n2, topic, witness.Receive)
	publish(t, n2, topic, []byte("before"))
	in.Wait(t, 1)
	if err := unsub(); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if err := unsub(); err != nil {
		t.Fatalf("second unsubscribe: %v, want nil", err)
	}
	for i := range 10 {
		publish(t, n2, topic, []byte("after "+strconv.Itoa(i)))
	}
	witness.Wait(t, 11)
	if got := in.Messages(); len(got) != 1 {
		t.Fatalf("received %q after unsubscribe returned", got[1:])
	}
}

func (s *suite) resubscribe(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	topic := s.topic("resubscribe")
	first, witness := testkit.NewInbox(), testkit.NewInbox()
	subscribe(t, n2, topic, witness.Receive)
	unsub := subscribe(t, n1, topic, first.Receive)
	if err := unsub(); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	second := testkit.NewInbox()
	subscribe(t, n1, topic, second.Receive)
	for i := range 3 {
		publish(t, n2, topic, []byte("again "+strconv.Itoa(i)))
	}
	// Once the witness on the publishing node has all three, a broker
	// that delivers in order has delivered them to n1 too.
	witness.Wait(t, 3)
	got := second.Wait(t, 3)
	for i, m := range got {
		if want := "again " + strconv.Itoa(i); string(m) != want || len(got) != 3 {
			t.Fatalf("the new subscription received %q, want again 0..2 once each", got)
		}
	}
	if got := first.Messages(); len(got) != 0 {
		t.Fatalf("the ended subscription received %q", got)
	}
}

func (s *suite) close(t *testing.T) {
	n1, n2 := s.node(t), s.node(t)
	topic := s.topic("close")
	in, witness := testkit.NewInbox(), testkit.NewInbox()
	unsub := subscribe(t, n1, topic, in.Receive)
	subscribe(t, n2, topic, witness.Receive)
	publish(t, n2, topic, []byte("before"))
	in.Wait(t, 1)

	if err := n1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := n1.Close(); err != nil {
		t.Fatalf("second Close: %v, want nil", err)
	}
	if err := n1.Publish(context.Background(), topic, []byte("x")); !errors.Is(err, hub.ErrBrokerClosed) {
		t.Errorf("Publish after Close: %v, want an error wrapping hub.ErrBrokerClosed", err)
	}
	if _, err := n1.Subscribe(context.Background(), topic, func([]byte) {}); !errors.Is(err, hub.ErrBrokerClosed) {
		t.Errorf("Subscribe after Close: %v, want an error wrapping hub.ErrBrokerClosed", err)
	}
	_ = unsub() // allowed after Close; must not panic or block

	// The other node keeps working, and the closed one hears nothing more.
	publish(t, n2, topic, []byte("after"))
	if got := witness.Wait(t, 2); string(got[1]) != "after" {
		t.Fatalf("the open node received %q", got)
	}
	if got := in.Messages(); len(got) != 1 {
		t.Fatalf("the closed node received %q", got[1:])
	}
}
