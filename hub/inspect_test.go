package hub

import (
	"context"
	"testing"

	"github.com/forgekit/forge/internal/testkit"
)

// TestTap checks that a tap sees the room's messages and only those, from its start to its stop, and that two taps of a room
// are independent.
func TestTap(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	bg := context.Background()

	var a, b []string
	stopA := h.Tap("room", func(m Message) { a = append(a, string(m.Data)) })
	stopB := h.Tap("room", func(m Message) { b = append(b, string(m.Data)) })
	testkit.Must(t, h.Broadcast(bg, "room", text("1")))
	testkit.Must(t, h.Broadcast(bg, "other", text("not this one")))
	stopB()
	stopB() // a second stop does nothing
	testkit.Must(t, h.Broadcast(bg, "room", text("2")))
	stopA()
	testkit.Must(t, h.Broadcast(bg, "room", text("3")))
	if len(a) != 2 || a[0] != "1" || a[1] != "2" || len(b) != 1 || b[0] != "1" {
		t.Fatalf("tap A saw %q, tap B %q; want [1 2] and [1]", a, b)
	}
	if h.taps.cur.Load() != nil {
		t.Fatal("taps left after every tap stopped")
	}
}
