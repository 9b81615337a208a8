// Package historytest is the conformance suite for hub.HistoryStore
// implementations, and the recovery tests of hubs that keep history: every
// store forge ships passes it.
//
//	func TestMyStore(t *testing.T) {
//		historytest.Run(t, func(t *testing.T) hub.HistoryStore { return mystore.New(...) })
//	}
//
// newStore is called several times per test, once per simulated node; the
// stores it returns must share their data (one server). Tests use rooms of
// their own, so a shared server needs no cleaning between them. A store
// that is also an io.Closer (or a hub.Broker) is closed when its test
// ends.
//
// What Run checks: offsets that start at 1 and grow by one per message,
// whichever handle appends, also under concurrent appends; entries intact
// and in order; Since after any kept position, with a limit; positions of
// another epoch, from the future, or older than what is kept (by count and
// by age) refused with hub.ErrPositionLost; rooms with awkward names kept
// apart; Position of a room without messages.
//
// RunRecovery runs hubs over a broker that is also the store, with real
// WebSocket clients, and checks that a client that drops and comes back
// with its last position misses nothing and gets nothing twice.
package historytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/forgekit/forge/hub"
)

// Timeout bounds every wait of the suite.
const Timeout = 10 * time.Second

// TTL is the age limit the suite gives rooms in its expiry test; stores
// must honour a TTL this short.
const TTL = time.Second

// Run runs the store conformance tests.
func Run(t *testing.T, newStore func(t *testing.T) hub.HistoryStore) {
	s := &suite{prefix: "historytest." + rand.Text()[:8] + ".", newStore: newStore}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"OffsetsStartAtOne", s.offsetsStartAtOne},
		{"SharedAcrossHandles", s.sharedAcrossHandles},
		{"ConcurrentAppends", s.concurrentAppends},
		{"SinceAndLimit", s.sinceAndLimit},
		{"TrimmedBySize", s.trimmedBySize},
		{"TrimmedByAge", s.trimmedByAge},
		{"BadPositions", s.badPositions},
		{"RoomsApart", s.roomsApart},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.fn)
	}
}

type suite struct {
	prefix   string
	newStore func(t *testing.T) hub.HistoryStore
	mu       sync.Mutex
	n        int
}

func (s *suite) store(t *testing.T) hub.HistoryStore {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("historytest: newStore returned nil")
	}
	if c, ok := st.(io.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("historytest: Close: %v", err)
			}
		})
	}
	return st
}

func (s *suite) room(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.prefix + strconv.Itoa(s.n) + "." + name
}

var bg = context.Background()

var opts = hub.HistoryOptions{Size: 100, TTL: time.Minute}

func appendMsg(t *testing.T, st hub.HistoryStore, room, data string, o hub.HistoryOptions) hub.StreamPosition {
	t.Helper()
	pos, err := st.Append(bg, room, []byte(data), o)
	if err != nil {
		t.Fatalf("historytest: Append(%q): %v", room, err)
	}
	return pos
}

func since(t *testing.T, st hub.HistoryStore, room string, pos hub.StreamPosition, limit int) ([]hub.HistoryEntry, hub.StreamPosition) {
	t.Helper()
	got, cur, err := st.Since(bg, room, pos, limit)
	if err != nil {
		t.Fatalf("historytest: Since(%q, %+v): %v", room, pos, err)
	}
	return got, cur
}

func position(t *testing.T, st hub.HistoryStore, room string) hub.StreamPosition {
	t.Helper()
	pos, err := st.Position(bg, room)
	if err != nil {
		t.Fatalf("historytest: Position(%q): %v", room, err)
	}
	return pos
}

// checkEntries compares entries with the messages want, numbered from
// first.
func checkEntries(t *testing.T, got []hub.HistoryEntry, first uint64, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("historytest: %d entries, want %d (%q)", len(got), len(want), want)
	}
	for i, e := range got {
		if e.Offset != first+uint64(i) || string(e.Data) != want[i] {
			t.Fatalf("historytest: entry %d is %d:%q, want %d:%q", i, e.Offset, e.Data, first+uint64(i), want[i])
		}
	}
}

func (s *suite) offsetsStartAtOne(t *testing.T) {
	st := s.store(t)
	room := s.room("start")
	empty := position(t, st, room)
	if empty.Offset != 0 || empty.Epoch == "" {
		t.Fatalf("Position of a new room = %+v, want offset 0 and an epoch", empty)
	}
	for i := 1; i <= 3; i++ {
		pos := appendMsg(t, st, room, "m"+strconv.Itoa(i), opts)
		if pos.Offset != uint64(i) || pos.Epoch != empty.Epoch {
			t.Fatalf("append %d at %+v, want offset %d in epoch %q", i, pos, i, empty.Epoch)
		}
	}
	if got := position(t, st, room); got != (hub.StreamPosition{Epoch: empty.Epoch, Offset: 3}) {
		t.Fatalf("Position = %+v after 3 appends", got)
	}
	got, cur := since(t, st, room, empty, 0)
	checkEntries(t, got, 1, "m1", "m2", "m3")
	if cur.Offset != 3 {
		t.Fatalf("Since's current position = %+v", cur)
	}
}

func (s *suite) sharedAcrossHandles(t *testing.T) {
	a, b := s.store(t), s.store(t)
	room := s.room("shared")
	p1 := appendMsg(t, a, room, "from a", opts)
	p2 := appendMsg(t, b, room, "from b", opts)
	if p1.Epoch != p2.Epoch || p2.Offset != p1.Offset+1 {
		t.Fatalf("positions %+v then %+v: want one epoch and consecutive offsets", p1, p2)
	}
	got, _ := since(t, a, room, hub.StreamPosition{Epoch: p1.Epoch}, 0)
	checkEntries(t, got, 1, "from a", "from b")
}

func (s *suite) concurrentAppends(t *testing.T) {
	const handles, each = 4, 50
	room := s.room("concurrent")
	seen := make(chan hub.StreamPosition, handles*each)
	var wg sync.WaitGroup
	for h := range handles {
		st := s.store(t)
		wg.Go(func() {
			for i := range each {
				pos, err := st.Append(bg, room, []byte(fmt.Sprintf("%d:%d", h, i)), hub.HistoryOptions{Size: handles * each, TTL: time.Minute})
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				seen <- pos
			}
		})
	}
	wg.Wait()
	close(seen)
	offsets := make(map[uint64]bool)
	var epoch string
	for pos := range seen {
		if epoch == "" {
			epoch = pos.Epoch
		}
		if pos.Epoch != epoch || offsets[pos.Offset] {
			t.Fatalf("position %+v repeats an offset or changes the epoch %q", pos, epoch)
		}
		offsets[pos.Offset] = true
	}
	for off := uint64(1); off <= handles*each; off++ {
		if !offsets[off] {
			t.Fatalf("offset %d was never handed out: offsets must be consecutive", off)
		}
	}
	got, _ := since(t, s.store(t), room, hub.StreamPosition{Epoch: epoch}, 0)
	if len(got) != handles*each {
		t.Fatalf("Since returned %d entries, want %d", len(got), handles*each)
	}
	// Each handle's messages are in its order.
	next := make(map[int]int)
	for i, e := range got {
		var h, n int
		if _, err := fmt.Sscanf(string(e.Data), "%d:%d", &h, &n); err != nil || e.Offset != uint64(i+1) || n != next[h] {
			t.Fatalf("entry %d = %d:%q, out of order", i, e.Offset, e.Data)
		}
		next[h]++
	}
}

func (s *suite) sinceAndLimit(t *testing.T) {
	st := s.store(t)
	room := s.room("since")
	var pos hub.StreamPosition
	for i := 1; i <= 10; i++ {
		pos = appendMsg(t, st, room, strconv.Itoa(i), opts)
	}
	epoch := pos.Epoch
	got, _ := since(t, st, room, hub.StreamPosition{Epoch: epoch, Offset: 7}, 0)
	checkEntries(t, got, 8, "8", "9", "10")
	got, _ = since(t, st, room, hub.StreamPosition{Epoch: epoch, Offset: 2}, 3)
	checkEntries(t, got, 3, "3", "4", "5")
	got, cur := since(t, st, room, pos, 0)
	if len(got) != 0 || cur != pos {
		t.Fatalf("Since(the last position) = %d entries, current %+v; want none and %+v", len(got), cur, pos)
	}
	// Payloads of any bytes come back intact.
	bin := []byte{0, 1, 0xff, '\n', ' ', 'P'}
	p, err := st.Append(bg, room, bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = since(t, st, room, pos, 0)
	if len(got) != 1 || got[0].Offset != p.Offset || !bytes.Equal(got[0].Data, bin) {
		t.Fatalf("binary entry came back as %+v", got)
	}
}

func (s *suite) trimmedBySize(t *testing.T) {
	st := s.store(t)
	room := s.room("size")
	small := hub.HistoryOptions{Size: 5, TTL: time.Minute}
	const n = 300
	var epoch string
	for i := 1; i <= n; i++ {
		epoch = appendMsg(t, st, room, strconv.Itoa(i), small).Epoch
	}
	// The last 5 are kept; a store may keep more (Redis's MAXLEN ~ trims
	// in whole nodes), but not all 300; a position before what is kept is
	// lost.
	got, _ := since(t, st, room, hub.StreamPosition{Epoch: epoch, Offset: n - 5}, 0)
	checkEntries(t, got, n-4, strconv.Itoa(n-4), strconv.Itoa(n-3), strconv.Itoa(n-2), strconv.Itoa(n-1), strconv.Itoa(n))
	if _, _, err := st.Since(bg, room, hub.StreamPosition{Epoch: epoch, Offset: 0}, 0); !errors.Is(err, hub.ErrPositionLost) {
		t.Fatalf("Since(offset 0) after %d appends to a history of 5: %v, want ErrPositionLost", n, err)
	}
}

func (s *suite) trimmedByAge(t *testing.T) {
	st := s.store(t)
	room := s.room("age")
	short := hub.HistoryOptions{Size: 100, TTL: TTL}
	first := appendMsg(t, st, room, "old", short)
	time.Sleep(TTL + TTL/2)
	appendMsg(t, st, room, "new", short)
	// Either the old message is gone (position lost) or the whole history
	// expired with it (a new epoch): never may "old" come back.
	got, _, err := st.Since(bg, room, hub.StreamPosition{Epoch: first.Epoch}, 0)
	if err == nil {
		for _, e := range got {
			if string(e.Data) == "old" {
				t.Fatalf("a message older than the TTL came back: %+v", got)
			}
		}
		t.Fatalf("Since(before an expired message) = %+v, want ErrPositionLost", got)
	}
	if !errors.Is(err, hub.ErrPositionLost) {
		t.Fatalf("Since: %v, want ErrPositionLost", err)
	}
}

func (s *suite) badPositions(t *testing.T) {
	st := s.store(t)
	room := s.room("bad")
	pos := appendMsg(t, st, room, "one", opts)
	for name, p := range map[string]hub.StreamPosition{
		"another epoch": {Epoch: "not" + pos.Epoch, Offset: 1},
		"empty epoch":   {Offset: 0},
		"the future":    {Epoch: pos.Epoch, Offset: pos.Offset + 5},
		"huge":          {Epoch: pos.Epoch, Offset: 1<<64 - 1},
	} {
		if got, _, err := st.Since(bg, room, p, 0); !errors.Is(err, hub.ErrPositionLost) {
			t.Errorf("%s %+v: %d entries, %v; want ErrPositionLost", name, p, len(got), err)
		}
	}
}

func (s *suite) roomsApart(t *testing.T) {
	st := s.store(t)
	base := s.room("")
	names := []string{"a", "a b", "a.b", "*", ">", "ünï", "a:b", "{x}", "a/b"}
	for _, n := range names {
		appendMsg(t, st, base+n, "in "+n, opts)
	}
	for _, n := range names {
		pos := position(t, st, base+n)
		got, _ := since(t, st, base+n, hub.StreamPosition{Epoch: pos.Epoch}, 0)
		checkEntries(t, got, 1, "in "+n)
	}
}
