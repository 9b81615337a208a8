package admin

import (
	"maps"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/forgekit/forge/hub"
)

// Frame is one message a tap shows, as the tap endpoint streams it (one
// JSON object per line).
type Frame struct {
	Time time.Time `json:"time"`
	// Dir is "in" (from the client) or "out" (to it) for a connection's
	// message, "room" for a room's, "close" when the tapped connection
	// ended, "skipped" when the watcher fell behind and Skipped frames
	// were left out.
	Dir    string `json:"dir"`
	Conn   string `json:"conn,omitempty"`
	Room   string `json:"room,omitempty"`
	Event  string `json:"event,omitempty"` // a room message's label (hub.Message.Event)
	Binary bool   `json:"binary,omitempty"`
	Size   int    `json:"size"`
	// Data is the message's text, at most TapDataLimit bytes of it, with
	// credentials blanked out (see Redact); empty for binary messages.
	Data      string `json:"data,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	Code      int    `json:"code,omitempty"`   // the close code, for "close"
	Reason    string `json:"reason,omitempty"` // the close reason
	Skipped   uint64 `json:"skipped,omitempty"`

	raw []byte // the captured data, redacted when the frame is streamed
}

// TapDataLimit bounds the bytes of one message a tap shows.
const TapDataLimit = 4 << 10

// TapBuffer is how many frames wait for one watcher; past that, frames are
// skipped (and the watcher told how many), so that a slow watcher never
// holds up a connection or a room.
const TapBuffer = 256

// watcher is one tap's reader: the frames for it, and the end of what it
// watches.
type watcher struct {
	ch      chan Frame
	skipped atomic.Uint64
	done    chan struct{}
	once    sync.Once
}

func newWatcher() *watcher {
	return &watcher{ch: make(chan Frame, TapBuffer), done: make(chan struct{})}
}

func (w *watcher) offer(f Frame) {
	select {
	case w.ch <- f:
	default:
		w.skipped.Add(1)
	}
}

func (w *watcher) end() { w.once.Do(func() { close(w.done) }) }

// tapSet is the watchers of one connection. It is replaced, never changed,
// so that the connection reads it without a lock.
type tapSet struct{ watchers []*watcher }

// send captures data into a frame for every watcher.
func (ts *tapSet) send(f Frame, binary bool, data []byte) {
	capture(&f, binary, data)
	for _, w := range ts.watchers {
		w.offer(f)
	}
}

func (ts *tapSet) end() {
	for _, w := range ts.watchers {
		w.end()
	}
}

func capture(f *Frame, binary bool, data []byte) {
	f.Time, f.Binary, f.Size = time.Now(), binary, len(data)
	if binary {
		return
	}
	if len(data) > TapDataLimit {
		data, f.Truncated = data[:TapDataLimit], true
	}
	f.raw = slices.Clone(data)
}

// render fills Data from the captured bytes, credentials blanked out. It
// runs in the watcher's goroutine, not in the connection's.
func (f *Frame) render() {
	if f.raw == nil {
		return
	}
	raw := f.raw
	for !utf8.Valid(raw) && len(raw) > 0 && f.Truncated { // cut inside a character
		raw = raw[:len(raw)-1]
	}
	f.Data, f.raw = Redact(string(raw)), nil
}

var (
	secretMember = regexp.MustCompile(`(?i)("[^"\\]*(?:token|password|passwd|secret|authorization|api[_-]?key|cookie|credential|session)[^"\\]*"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)`)
	bearer       = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+`)
	jwtLike      = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
)

// Redact blanks out what looks like a credential in a message's text: the
// value of a JSON member whose name speaks of a token, password, secret,
// key, cookie, session or authorization; a "Bearer" or "Basic"
// credential; and anything shaped like a JWT. A tap shows messages
// through it, and never shows the handshake's headers at all.
func Redact(s string) string {
	s = secretMember.ReplaceAllString(s, `${1}"[redacted]"`)
	s = bearer.ReplaceAllString(s, `${1} [redacted]`)
	return jwtLike.ReplaceAllString(s, `[redacted]`)
}

// Close ends every tap streaming now, and refuses new ones: an HTTP
// server's graceful shutdown waits for its requests, and a tap's request
// would never end by itself. The application closes its inspector when it
// shuts down.
func (in *Inspector) Close() {
	in.mu.Lock()
	in.closed = true
	watchers := slices.Collect(maps.Keys(in.watchers))
	in.mu.Unlock()
	for _, w := range watchers {
		w.end()
	}
}

// watch registers w until the returned function is called; it reports
// false after Close.
func (in *Inspector) watch(w *watcher) (unwatch func(), ok bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil, false
	}
	in.watchers[w] = struct{}{}
	return func() {
		in.mu.Lock()
		delete(in.watchers, w)
		in.mu.Unlock()
	}, true
}

// tapConn has w watch the connection id; it returns false when no such
// connection is open.
func (in *Inspector) tapConn(id string, w *watcher) (stop func(), ok bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	cw := in.conns[id]
	if cw == nil {
		return nil, false
	}
	next := &tapSet{}
	if cur := cw.tap.Load(); cur != nil {
		next.watchers = slices.Clone(cur.watchers)
	}
	next.watchers = append(next.watchers, w)
	cw.tap.Store(next)
	return func() {
		in.mu.Lock()
		defer in.mu.Unlock()
		cur := cw.tap.Load()
		if cur == nil {
			return
		}
		rest := slices.DeleteFunc(slices.Clone(cur.watchers), func(x *watcher) bool { return x == w })
		if len(rest) == 0 {
			cw.tap.Store(nil) // nobody watches: the connection pays nothing more
			return
		}
		cw.tap.Store(&tapSet{watchers: rest})
	}, true
}

// tapRoom has w watch room in every inspected hub.
func (in *Inspector) tapRoom(room string, w *watcher) (stop func()) {
	in.roomTaps.Add(1)
	var stops []func()
	for _, h := range in.hubs() {
		stops = append(stops, h.Tap(room, func(m hub.Message) {
			f := Frame{Dir: "room", Room: room, Event: m.Event}
			capture(&f, m.Binary, m.Data)
			w.offer(f)
		}))
	}
	return func() {
		for _, s := range stops {
			s()
		}
		in.roomTaps.Add(-1)
	}
}

// connTaps reports how many watchers tap connections now.
func (in *Inspector) connTaps() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, w := range in.conns {
		if ts := w.tap.Load(); ts != nil {
			n += len(ts.watchers)
		}
	}
	return n
}
