package brokertest

import (
	"context"
	"testing"
	"time"

	"github.com/forgekit/forge/hub"
)

// MaxPresenceTTL is the longest presence TTL the suite accepts: it waits
// for a node to expire, so give the brokers under test a short one.
const MaxPresenceTTL = 5 * time.Second

// store returns b as a PresenceStore.
func store(t *testing.T, b hub.Broker) hub.PresenceStore {
	t.Helper()
	ps, ok := b.(hub.PresenceStore)
	if !ok {
		t.Fatalf("brokertest: %T is not a hub.PresenceStore", b)
	}
	return ps
}

func keepAlive(t *testing.T, ps hub.PresenceStore, node string) (time.Duration, bool) {
	t.Helper()
	ttl, known, err := ps.KeepAlive(context.Background(), node)
	if err != nil {
		t.Fatalf("brokertest: KeepAlive(%q): %v", node, err)
	}
	if ttl <= 0 {
		t.Fatalf("brokertest: KeepAlive(%q) returned TTL %v", node, ttl)
	}
	return ttl, known
}

func update(t *testing.T, ps hub.PresenceStore, changes ...hub.PresenceChange) {
	t.Helper()
	if err := ps.UpdatePresence(context.Background(), changes); err != nil {
		t.Fatalf("brokertest: UpdatePresence: %v", err)
	}
}

func members(t *testing.T, ps hub.PresenceStore, room string) []hub.Member {
	t.Helper()
	got, err := ps.Members(context.Background(), room)
	if err != nil {
		t.Fatalf("brokertest: Members(%q): %v", room, err)
	}
	return got
}

func join(room, node, id string, meta map[string]string) hub.PresenceChange {
	return hub.PresenceChange{Room: room, Member: hub.Member{Node: node, ID: id, Meta: meta}, Present: true}
}

func leave(room, node, id string) hub.PresenceChange {
	return hub.PresenceChange{Room: room, Member: hub.Member{Node: node, ID: id}}
}

// presenceKnown: a node is unknown to the store until its first KeepAlive.
func (s *suite) presenceKnown(t *testing.T) {
	ps := store(t, s.node(t))
	node := s.topic("node")
	if _, known := keepAlive(t, ps, node); known {
		t.Fatal("the first KeepAlive of a new node reported it known")
	}
	if _, known := keepAlive(t, ps, node); !known {
		t.Fatal("the second KeepAlive reported the node unknown")
	}
}

// presenceAcrossNodes: members recorded through one handle are listed
// through every handle, with metadata, in rooms of any name; changes are
// idempotent and rooms do not mix.
func (s *suite) presenceAcrossNodes(t *testing.T) {
	p1, p2 := store(t, s.node(t)), store(t, s.node(t))
	n1, n2 := s.topic("n1"), s.topic("n2")
	for _, name := range []string{"room", "with space", "ünï", "*", ">", "a.b", "{x}"} {
		// Keep both nodes alive for each room: on a loaded machine the
		// whole loop may take longer than a short TTL.
		keepAlive(t, p1, n1)
		keepAlive(t, p2, n2)
		room, other := s.topic(name), s.topic(name+"-other")
		ann := hub.Member{Node: n1, ID: "ws_ann", Meta: map[string]string{"user": "ann"}}
		bob := hub.Member{Node: n2, ID: "ws_bob"}
		update(t, p1, join(room, n1, ann.ID, ann.Meta))
		update(t, p1, join(room, n1, ann.ID, ann.Meta)) // twice: idempotent
		update(t, p2, join(room, n2, bob.ID, nil), join(other, n2, "ws_carl", nil))
		for i, ps := range []hub.PresenceStore{p1, p2} {
			if got := members(t, ps, room); !sameMembers(got, []hub.Member{ann, bob}) {
				t.Fatalf("room %q through handle %d: %+v, want ann and bob", name, i+1, got)
			}
		}
		update(t, p2, leave(room, n2, bob.ID), leave(room, n2, bob.ID))
		if got := members(t, p1, room); !sameMembers(got, []hub.Member{ann}) {
			t.Fatalf("room %q after bob left: %+v, want ann", name, got)
		}
		update(t, p1, leave(room, n1, ann.ID))
		if got := members(t, p2, room); len(got) != 0 {
			t.Fatalf("room %q after everyone left: %+v", name, got)
		}
		if got := members(t, p1, other); len(got) != 1 || got[0].ID != "ws_carl" {
			t.Fatalf("room %q: %+v, want carl only", name+"-other", got)
		}
	}
}

// presenceNodeExpires: the members of a node that stops calling KeepAlive
// (it was killed) leave the listings within the TTL, while a live node's
// stay; the dead node is unknown when it comes back.
func (s *suite) presenceNodeExpires(t *testing.T) {
	p1, p2 := store(t, s.node(t)), store(t, s.node(t))
	live, dead := s.topic("live"), s.topic("dead")
	room := s.topic("expiry")
	ttl, _ := keepAlive(t, p1, live)
	if ttl > MaxPresenceTTL {
		t.Fatalf("brokertest: presence TTL %v: give the brokers under test a TTL of at most %v", ttl, MaxPresenceTTL)
	}
	keepAlive(t, p2, dead)
	update(t, p1, join(room, live, "ws_live", nil))
	update(t, p2, join(room, dead, "ws_dead", nil))
	if got := members(t, p1, room); len(got) != 2 {
		t.Fatalf("before expiry: %+v, want both members", got)
	}
	// Keep the live node alive, not the dead one.
	start := time.Now()
	for {
		keepAlive(t, p1, live)
		got := members(t, p1, room)
		if len(got) == 1 && got[0].ID == "ws_live" {
			break
		}
		if time.Since(start) > 3*ttl+Timeout {
			t.Fatalf("the dead node's member is still listed %v after its last KeepAlive (TTL %v): %+v", time.Since(start), ttl, got)
		}
		time.Sleep(ttl / 10)
	}
	if _, known := keepAlive(t, p2, dead); known {
		t.Fatal("a node whose TTL lapsed was reported known")
	}
}
