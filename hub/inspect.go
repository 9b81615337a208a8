package hub

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Tap calls fn with every message sent to room through the hub, as it
// comes: those published here (Broadcast, presence messages included) and
// those from other nodes, before the room's members on this node get them.
// It is how an inspector shows a room's traffic. fn runs in the goroutine
// that publishes or receives the message, at times while the hub holds a
// lock: it must be quick, must not block, must not call the hub, and must
// not modify the message or keep its Data past the call.
//
// Calling stop ends the tap; later calls of stop do nothing. While no tap
// is on, a broadcast pays one atomic load for taps.
func (h *Hub) Tap(room string, fn func(Message)) (stop func()) {
	if fn == nil {
		panic("forge: hub: Tap: nil function")
	}
	t := &tap{fn: fn}
	h.taps.change(func(m map[string][]*tap) { m[room] = append(m[room], t) })
	var once sync.Once
	return func() {
		once.Do(func() {
			h.taps.change(func(m map[string][]*tap) {
				m[room] = slices.DeleteFunc(m[room], func(x *tap) bool { return x == t })
				if len(m[room]) == 0 {
					delete(m, room)
				}
			})
		})
	}
}

type tap struct{ fn func(Message) }

// taps holds the taps of a hub by room, replaced as a whole when one
// starts or stops, so that a broadcast reads it without a lock.
type taps struct {
	mu  sync.Mutex // serializes changes
	cur atomic.Pointer[map[string][]*tap]
}

func (ts *taps) change(fn func(map[string][]*tap)) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	next := make(map[string][]*tap)
	if cur := ts.cur.Load(); cur != nil {
		for k, v := range *cur {
			next[k] = slices.Clone(v)
		}
	}
	fn(next)
	if len(next) == 0 {
		ts.cur.Store(nil)
		return
	}
	ts.cur.Store(&next)
}

// send hands msg to room's taps, if any.
func (ts *taps) send(room string, msg *Message) {
	cur := ts.cur.Load()
	if cur == nil {
		return
	}
	for _, t := range (*cur)[room] {
		t.fn(*msg)
	}
}
