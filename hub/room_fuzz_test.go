package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forgekit/forge/forgetest"
)

// FuzzRoomName joins a connection to rooms of any name, in a hub that
// keeps history (which writes the room's name into every message) and
// announces presence. A name that is empty or not UTF-8 is refused with
// ErrInvalidRoom; any other works: the member is listed in the room, and
// a broadcast reaches it as a JSON object whose position names the room
// (when the room keeps history).
func FuzzRoomName(f *testing.F) {
	for _, s := range []string{"lobby", "a/b.c:d*e", `quote " back \ slash`, "tab\tnew\nline\x00nul", "\u2028\ufeff\U0001F600", "", "\xff", "*", "<<"} {
		f.Add(s)
	}
	h := newHub(f, WithHistory("*", 4, 0), WithPresence("presence"))
	e := newEnv(f, h)
	ws, _, err := e.srv.DialErr("/ws?user=ann", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ws.Close() })
	id := <-e.joined
	n := 0
	f.Fuzz(func(t *testing.T, room string) {
		ctx := context.Background()
		err := h.Join(ctx, id, room)
		if room == "" || !utf8.ValidString(room) {
			if !errors.Is(err, ErrInvalidRoom) {
				t.Fatalf("Join(%q): %v, want ErrInvalidRoom", room, err)
			}
			if err := h.Broadcast(ctx, room, text(`{}`)); !errors.Is(err, ErrInvalidRoom) {
				t.Fatalf("Broadcast(%q): %v, want ErrInvalidRoom", room, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Join(%q): %v", room, err)
		}
		defer h.Leave(ctx, id, room)
		if !slices.ContainsFunc(h.ConnectionsIn(room), func(m MemberInfo) bool { return m.ID == id }) {
			t.Fatalf("%q does not list its member", room)
		}
		n++
		if err := h.Broadcast(ctx, room, text(fmt.Sprintf(`{"n":%d}`, n))); err != nil {
			t.Fatalf("Broadcast(%q): %v", room, err)
		}
		ws.SetReadDeadline(time.Now().Add(forgetest.Timeout)) // a hang guard
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Position struct {
				Room string `json:"room"`
			} `json:"position"`
			N int `json:"n"`
		}
		want := room
		if _, ok := h.historyOf(room); !ok {
			want = "" // "*" matches as path.Match does: not across a "/"
		}
		if err := json.Unmarshal(data, &got); err != nil || got.Position.Room != want || got.N != n {
			t.Fatalf("room %q: got %s (%v)", room, data, err)
		}
	})
}
