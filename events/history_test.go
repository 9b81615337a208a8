package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

type spoken struct {
	Text string `json:"text"`
}

// positioned is a server message with its place in the room's history.
type positioned struct {
	Event    string              `json:"event"`
	Payload  json.RawMessage     `json:"payload"`
	Position *hub.StreamPosition `json:"position"`
}

func (c *client) recvPositioned() positioned {
	c.t.Helper()
	var p positioned
	c.ReadJSON(&p)
	return p
}

func recoverQuery(room string, pos hub.StreamPosition) string {
	return "/ws?" + url.Values{"recover": {fmt.Sprintf("%s:%s:%d", room, pos.Epoch, pos.Offset)}}.Encode()
}

// TestRecoverAfterReconnect: a client that comes back with the last
// position it saw gets the messages it missed, then a recovery event, then
// the live ones; a position the history cannot continue from is answered
// with recovered false; malformed positions are a plain join.
func TestRecoverAfterReconnect(t *testing.T) {
	t.Parallel()
	h := newHub(t, hub.WithHistory("*", 3, 0))
	d := New(quiet(), WithHub(h), WithOnConnect(func(c *Context) error { return c.Join("lobby") }))
	Emits[spoken](d, "said")
	srv := serve(t, d)
	say := func(text string) {
		t.Helper()
		if err := d.Broadcast(context.Background(), "lobby", "said", spoken{Text: text}); err != nil {
			t.Fatal(err)
		}
	}

	a := dial(t, srv, "/ws")
	testkit.WaitFor(t, "a to join", func() bool { return h.Count("lobby") == 1 })
	say("one")
	say("two")
	var last hub.StreamPosition
	for _, want := range []string{"one", "two"} {
		p := a.recvPositioned()
		if p.Event != "said" || p.Position == nil || string(p.Payload) != `{"text":"`+want+`"}` {
			t.Fatalf("got %+v, want %q with a position", p, want)
		}
		last = *p.Position
	}
	if last.Offset != 2 {
		t.Fatalf("position %+v after two messages", last)
	}
	a.Close()
	testkit.WaitFor(t, "a to leave", func() bool { return h.Count("lobby") == 0 })
	say("three")
	say("four")

	b := dial(t, srv, recoverQuery("lobby", last))
	for _, want := range []uint64{3, 4} {
		if p := b.recvPositioned(); p.Position == nil || p.Position.Offset != want {
			t.Fatalf("got %+v, want the missed message %d", p, want)
		}
	}
	var rec Recovery
	if err := json.Unmarshal(b.expect("recovery", ""), &rec); err != nil {
		t.Fatal(err)
	}
	if !rec.Recovered || rec.Replayed != 2 || rec.Room != "lobby" || rec.Position.Offset != 4 {
		t.Fatalf("recovery %+v", rec)
	}
	say("five")
	if p := b.recvPositioned(); p.Position == nil || p.Position.Offset != 5 {
		t.Fatalf("got %+v, want the live message 5", p)
	}

	// The position request answers for rooms the connection is in.
	b.SendEvent("position", "p1", PositionRequest{Room: "lobby"})
	var rp RoomPosition
	if err := json.Unmarshal(b.expect("position.ack", "p1"), &rp); err != nil {
		t.Fatal(err)
	}
	if rp.Position != (hub.StreamPosition{Epoch: last.Epoch, Offset: 5}) {
		t.Fatalf("position %+v", rp)
	}
	b.SendEvent("position", "p2", PositionRequest{Room: "elsewhere"})
	b.expectError("p2", CodeNotInRoom)

	// Positions the history cannot continue from: recovered false, then
	// live messages.
	for name, pos := range map[string]hub.StreamPosition{
		"trimmed":       {Epoch: last.Epoch, Offset: 0},
		"another epoch": {Epoch: "nope", Offset: 5},
		"the future":    {Epoch: last.Epoch, Offset: 1 << 62},
	} {
		c := dial(t, srv, recoverQuery("lobby", pos))
		var rec Recovery
		if err := json.Unmarshal(c.expect("recovery", ""), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Recovered || rec.Replayed != 0 {
			t.Fatalf("%s: recovery %+v, want a failed one", name, rec)
		}
		c.Close()
		// Gone before the next join is counted below.
		testkit.WaitFor(t, "the leave", func() bool { return h.Count("lobby") == 1 })
	}

	// A malformed position is a plain join: no replay, no recovery event.
	for _, q := range []string{"lobby", "lobby:x", "lobby:e:-1", ":e:1", "lobby::1"} {
		c := dial(t, srv, "/ws?"+url.Values{"recover": {q}}.Encode())
		testkit.WaitFor(t, "the join", func() bool { return h.Count("lobby") == 2 })
		say("live " + q)
		if p := c.recvPositioned(); p.Event != "said" || p.Position == nil {
			t.Fatalf("recover=%q: got %+v, want the live message", q, p)
		}
		b.recvPositioned()
		c.Close()
		testkit.WaitFor(t, "the leave", func() bool { return h.Count("lobby") == 1 })
	}
}

type typingNotice struct {
	User string `json:"user"`
}

// TestTransientEventsSkipHistory: a WithTransient event reaches the room live,
// without a position, and is not replayed to a client that recovers.
func TestTransientEventsSkipHistory(t *testing.T) {
	t.Parallel()
	h := newHub(t, hub.WithHistory("*", 10, 0))
	d := New(quiet(), WithHub(h), WithOnConnect(func(c *Context) error { return c.Join("lobby") }))
	Emits[spoken](d, "said")
	Emits[typingNotice](d, "typing", WithTransient())
	srv := serve(t, d)
	a := dial(t, srv, "/ws")
	testkit.WaitFor(t, "a to join", func() bool { return h.Count("lobby") == 1 })
	bg := context.Background()
	if err := d.Broadcast(bg, "lobby", "said", spoken{Text: "kept"}); err != nil {
		t.Fatal(err)
	}
	first := a.recvPositioned()
	if err := d.Broadcast(bg, "lobby", "typing", typingNotice{User: "ann"}); err != nil {
		t.Fatal(err)
	}
	if p := a.recvPositioned(); p.Event != "typing" || p.Position != nil {
		t.Fatalf("got %+v, want a typing notice without a position", p)
	}
	if err := d.Broadcast(bg, "lobby", "said", spoken{Text: "also kept"}); err != nil {
		t.Fatal(err)
	}
	if p := a.recvPositioned(); p.Position == nil || p.Position.Offset != 2 {
		t.Fatalf("got %+v, want the second kept message at offset 2", p)
	}
	b := dial(t, srv, recoverQuery("lobby", *first.Position))
	if p := b.recvPositioned(); p.Event != "said" || p.Position.Offset != 2 {
		t.Fatalf("replayed %+v, want only the kept message 2", p)
	}
	b.expect("recovery", "")
}
