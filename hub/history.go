package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"time"

	"github.com/forgekit/forge/connection"
)

// StreamPosition is a place in a room's history. The epoch names one life
// of the history and changes when the history is lost (a store that
// restarted empty, a room whose history expired); the offset numbers the
// room's messages in that life: 1 for the first, then one more for each.
type StreamPosition struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// HistoryEntry is one message of a room's history.
type HistoryEntry struct {
	Offset uint64
	Data   []byte
}

// HistoryOptions bound a room's history: at most Size messages, none
// older than TTL (0: no age limit).
type HistoryOptions struct {
	Size int
	TTL  time.Duration
}

// HistoryStore keeps the recent messages of rooms and numbers them. The
// hub appends every message of a room with history, then delivers it with
// its position; a client that comes back reads what it missed with Since.
//
// Within an epoch a room's offsets start at 1 and grow by exactly one per
// Append, whichever node appends: nodes deliver messages in offset order
// and fill a gap from the store, which is what makes recovery gapless. A
// new epoch starts at 1 again.
//
// With a broker, the store must be shared by all nodes (the hub requires
// the broker itself to be the store); without one, an in-process store is
// enough.
type HistoryStore interface {
	// Append adds data to room's history, trimmed to opts, and returns its
	// position.
	Append(ctx context.Context, room string, data []byte, opts HistoryOptions) (StreamPosition, error)
	// Since returns the entries of room after since, in order, at most
	// limit of them (0: all), with the room's current position. It fails
	// with an error wrapping ErrPositionLost when since is of another
	// epoch or the entries right after it are gone.
	Since(ctx context.Context, room string, since StreamPosition, limit int) ([]HistoryEntry, StreamPosition, error)
	// Position returns the room's current position: its epoch and the
	// offset of its last message (0 for none). A room without history
	// gets a new epoch.
	Position(ctx context.Context, room string) (StreamPosition, error)
}

// Errors of history.
var (
	// ErrPositionLost is wrapped by Since when a position can no longer be
	// continued from: the client must fetch the room's state anew.
	ErrPositionLost = errors.New("forge: history position lost")
	// ErrNoHistory is returned for a room that keeps no history.
	ErrNoHistory = errors.New("forge: room keeps no history")
	// ErrNotObject is returned by Broadcast to a room with history for a
	// message that is not a JSON object, which could carry no position.
	ErrNotObject = errors.New("forge: history rooms carry JSON objects")
)

// historyRule gives the rooms whose names match pattern a history.
type historyRule struct {
	pattern string
	opts    HistoryOptions
}

// WithHistory keeps the last size messages, none older than ttl (0: no
// age limit), of every room whose name matches pattern (path.Match syntax:
// "*" for every room without a slash, "chat-*" for some). The first
// matching WithHistory applies. Messages of such rooms must be JSON objects
// (the events package's envelopes are): the hub adds a "position" member
// {"room", "epoch", "offset"} to each, and a client that comes back with
// the last position it saw gets what it missed (see JoinFrom).
//
// The store is the broker when it is a HistoryStore (Redis and NATS
// brokers are), WithHistoryStore's, or else one in this process.
func WithHistory(pattern string, size int, ttl time.Duration) Option {
	if _, err := path.Match(pattern, ""); err != nil || pattern == "" {
		panic(fmt.Sprintf("forge: hub: WithHistory: pattern %q is invalid", pattern))
	}
	if size <= 0 || ttl < 0 {
		panic(fmt.Sprintf("forge: hub: WithHistory: history of %d messages for %v: want a positive size and a ttl >= 0", size, ttl))
	}
	return func(c *config) {
		c.history = append(c.history, historyRule{pattern, HistoryOptions{Size: size, TTL: ttl}})
	}
}

// WithHistoryStore sets where the rooms of WithHistory keep their
// messages, for a hub without a broker (with one, the broker is the
// store).
func WithHistoryStore(s HistoryStore) Option {
	if s == nil {
		panic("forge: hub: WithHistoryStore: nil HistoryStore")
	}
	return func(c *config) { c.store = s }
}

// historyOf returns the history options of room, if it keeps history.
func (h *Hub) historyOf(room string) (HistoryOptions, bool) {
	for _, r := range h.history {
		if ok, _ := path.Match(r.pattern, room); ok {
			return r.opts, true
		}
	}
	return HistoryOptions{}, false
}

// HasHistory reports whether room keeps history.
func (h *Hub) HasHistory(room string) bool {
	_, ok := h.historyOf(room)
	return ok
}

// Position returns the current position of room's history.
func (h *Hub) Position(ctx context.Context, room string) (StreamPosition, error) {
	if !validRoom(room) {
		return StreamPosition{}, fmt.Errorf("%w: %q", ErrInvalidRoom, room)
	}
	if !h.HasHistory(room) {
		return StreamPosition{}, fmt.Errorf("%w: %q", ErrNoHistory, room)
	}
	return h.store.Position(ctx, room)
}

// positioned is a room message with its place in the room's history,
// encoded once for every member.
type positioned struct {
	pos    StreamPosition
	pm     *connection.PreparedMessage
	event  string
	except []string
}

// sequencer delivers the positioned messages of one room on this node in
// offset order, whatever order they arrive in (from this node's
// publishers and from others through the broker). A message that arrives
// early waits for the ones before it; if they do not come within gapWait,
// the sequencer reads them from the store. Guarded by room.mu.
type sequencer struct {
	opts    HistoryOptions
	ready   bool   // the room's position is known
	epoch   string // of the messages delivered
	next    uint64 // offset of the next message to deliver
	pending map[uint64]positioned
	timer   *time.Timer // armed while pending holds a message
}

// gapWait is how long an early message waits for the ones before it
// before the store is asked for them.
const gapWait = 250 * time.Millisecond

// historyFrame kind marks a positioned broker message: 'P', the epoch, a
// space, the offset in decimal, a space, then a frame as encodeFrame
// writes it. Stores that publish themselves write the same.
const positionedMark = 'P'

func encodePositioned(pos StreamPosition, frame []byte) []byte {
	b := make([]byte, 0, 2+len(pos.Epoch)+20+len(frame))
	b = append(b, positionedMark)
	b = append(b, pos.Epoch...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, pos.Offset, 10)
	b = append(b, ' ')
	return append(b, frame...)
}

func decodePositioned(data []byte) (StreamPosition, []byte, error) {
	var pos StreamPosition
	if len(data) == 0 || data[0] != positionedMark {
		return pos, nil, errBadFrame
	}
	rest := data[1:]
	i := bytes.IndexByte(rest, ' ')
	if i < 0 {
		return pos, nil, errBadFrame
	}
	pos.Epoch = string(rest[:i])
	rest = rest[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		return pos, nil, errBadFrame
	}
	off, err := strconv.ParseUint(string(rest[:j]), 10, 64)
	if err != nil || off == 0 || !validEpoch(pos.Epoch) {
		return pos, nil, errBadFrame
	}
	pos.Offset = off
	return pos, rest[j+1:], nil
}

// validEpoch accepts the epochs stores make: 1 to 64 letters, digits, '-'
// and '_', which need no escaping in JSON or in a broker message.
func validEpoch(e string) bool {
	if e == "" || len(e) > 64 {
		return false
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isObject reports whether data is a JSON object (by its first byte; the
// rest is the sender's business).
func isObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// withPosition returns data, a JSON object, with a first member
// "position": {"room", "epoch", "offset"}.
func withPosition(data []byte, room string, pos StreamPosition) []byte {
	data = bytes.TrimLeft(data, " \t\r\n")
	rest := bytes.TrimLeft(data[1:], " \t\r\n")
	b := make([]byte, 0, len(data)+len(room)+len(pos.Epoch)+64)
	b = append(b, `{"position":{"room":`...)
	b = appendJSONString(b, room)
	b = append(b, `,"epoch":"`...)
	b = append(b, pos.Epoch...) // validEpoch: nothing to escape
	b = append(b, `","offset":`...)
	b = strconv.AppendUint(b, pos.Offset, 10)
	b = append(b, '}')
	if len(rest) > 0 && rest[0] != '}' {
		b = append(b, ',')
	}
	return append(b, rest...)
}

// appendJSONString appends s as a JSON string. Room names are valid
// UTF-8 (validRoom), so only quotes, backslashes and control characters
// need escaping.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// prepareEntry turns a stored frame into the message members receive.
func prepareEntry(room string, pos StreamPosition, frameData []byte) (positioned, error) {
	f, err := decodeFrame(frameData)
	if err != nil {
		return positioned{}, err
	}
	pm, err := connection.NewPreparedMessage(connection.TextMessage, withPosition(f.msg.Data, room, pos))
	if err != nil {
		return positioned{}, err
	}
	return positioned{pos: pos, pm: pm, event: f.msg.Event, except: f.msg.Except}, nil
}

// broadcastHistory is Broadcast for a room with history: append to the
// store, deliver here in offset order, and tell the other nodes.
func (h *Hub) broadcastHistory(ctx context.Context, room string, opts HistoryOptions, msg Message) error {
	if msg.Binary || !isObject(msg.Data) {
		return fmt.Errorf("%w: room %q", ErrNotObject, room)
	}
	frame := encodeFrame(kindRoom, h.node, "", &msg)
	wasDown := h.outage.down.Load()
	ep := h.brokerCall()
	pos, err := h.store.Append(ctx, room, frame, opts)
	if err != nil {
		h.historyErr.Add(1)
		h.brokerFailed(ctx, ep, "append to history", err, h.broker != nil)
		// During a known outage the store refused the message outright:
		// local members still get it, without a position (a client that
		// resumes later learns from the store that it cannot). A first
		// failure may be a timeout after the store took the message, which
		// the sequencer would then deliver too: that one is not delivered
		// here.
		h.mu.RLock()
		r := h.rooms[room]
		h.mu.RUnlock()
		if r != nil && wasDown {
			pm, perr := msg.prepare()
			if perr == nil {
				h.fanout(r, pm, msg.Event, msg.Except)
			}
		}
		return fmt.Errorf("forge: hub: history: %w", err)
	}
	p, err := prepareEntry(room, pos, frame)
	if err != nil {
		return fmt.Errorf("forge: broadcast: %w", err)
	}
	h.mu.RLock()
	r := h.rooms[room]
	h.mu.RUnlock()
	if r != nil {
		h.submit(r, p)
	}
	if h.broker == nil {
		return nil
	}
	data := encodePositioned(pos, frame)
	ep = h.brokerCall()
	if err := h.broker.Publish(ctx, roomTopic(room), data); err != nil {
		h.brokerFailed(ctx, ep, "publish", err, true)
		return fmt.Errorf("forge: hub: publish: %w", err)
	}
	h.brokerOK(ep)
	return nil
}

// fromBrokerPositioned hands a positioned message from another node to
// r's sequencer.
func (h *Hub) fromBrokerPositioned(r *room, data []byte) {
	if len(data) > 0 && data[0] != positionedMark {
		h.fromBrokerRoom(r, data) // presence: not in the history
		return
	}
	pos, frame, err := decodePositioned(data)
	if err != nil {
		h.decode([]byte{}) // counts and logs a malformed message
		return
	}
	f, err := decodeFrame(frame)
	if err != nil {
		h.decode(frame)
		return
	}
	if f.node == h.node {
		return // delivered when it was published here
	}
	p, err := prepareEntry(r.name, pos, frame)
	if err != nil {
		return
	}
	h.remote.Add(1)
	h.taps.send(r.name, &f.msg)
	h.submit(r, p)
}

// submit hands p to r's sequencer, which delivers it now or when the
// messages before it are in.
func (h *Hub) submit(r *room, p positioned) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h.sequence(r, p)
}

// sequence is submit with r.mu held.
func (h *Hub) sequence(r *room, p positioned) {
	s := r.seq
	if s == nil {
		return
	}
	if !s.ready {
		s.pending[p.pos.Offset] = p // sorted out once the position is known
		return
	}
	if p.pos.Epoch != s.epoch {
		if s.epoch == "" {
			// The position could not be read: start from this message
			// rather than replay the room's history to its members.
			s.next = p.pos.Offset
		} else {
			s.next = 1 // the history restarted: its first message is 1
		}
		s.epoch = p.pos.Epoch
		clear(s.pending)
	}
	switch {
	case p.pos.Offset < s.next:
		return // delivered already
	case p.pos.Offset > s.next:
		s.pending[p.pos.Offset] = p
		h.armGap(r)
		return
	}
	h.deliver(r, p)
	s.next++
	for {
		q, ok := s.pending[s.next]
		if !ok {
			break
		}
		delete(s.pending, s.next)
		h.deliver(r, q)
		s.next++
	}
	if len(s.pending) == 0 {
		h.stopSequencer(r)
	}
}

// deliver offers p to r's members, but those still catching up (see
// JoinFrom). Caller holds r.mu.
func (h *Hub) deliver(r *room, p positioned) {
	var n counts
	for _, m := range r.members {
		if _, catching := r.catchingUp[m]; catching {
			continue
		}
		n.offer(m, p.pm, p.event, p.except)
	}
	h.count(n)
}

// armGap makes sure the store is asked for missing messages if they do
// not arrive. Caller holds r.mu.
func (h *Hub) armGap(r *room) {
	s := r.seq
	if s.timer != nil || r.gone.Load() {
		return // armed already, or the room is gone (and Close may be waiting)
	}
	h.fills.Add(1)
	s.timer = time.AfterFunc(gapWait, func() {
		defer h.fills.Done()
		h.fillGap(r)
	})
}

// fillGap reads the messages the sequencer waits for from the store.
func (h *Hub) fillGap(r *room) {
	r.mu.Lock()
	s := r.seq
	if s == nil || r.gone.Load() {
		r.mu.Unlock()
		return
	}
	s.timer = nil
	if len(s.pending) == 0 {
		r.mu.Unlock()
		return
	}
	from := StreamPosition{Epoch: s.epoch, Offset: s.next - 1}
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ep := h.brokerCall()
	entries, _, err := h.store.Since(ctx, r.name, from, 0)
	cancel()

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seq == nil || r.gone.Load() || s.epoch != from.Epoch || s.next-1 != from.Offset {
		if len(s.pending) > 0 && r.seq != nil && !r.gone.Load() {
			h.armGap(r)
		}
		return
	}
	h.gapFills.Add(1)
	if err == nil {
		for _, e := range entries {
			p, perr := prepareEntry(r.name, StreamPosition{Epoch: from.Epoch, Offset: e.Offset}, e.Data)
			if perr != nil {
				continue
			}
			h.sequence(r, p)
		}
	}
	if len(s.pending) == 0 {
		return
	}
	if err != nil && !errors.Is(err, ErrPositionLost) {
		h.brokerFailed(context.Background(), ep, "read history", err, false)
		h.armGap(r) // the store is away: try again
		return
	}
	// What is missing is gone from the store too: skip to what is here.
	first := uint64(0)
	for off := range s.pending {
		if first == 0 || off < first {
			first = off
		}
	}
	h.historyLost.Add(first - s.next)
	h.log.LogAttrs(context.Background(), slog.LevelWarn, "hub skipped room messages that no store holds",
		slog.String("room", r.name), slog.Uint64("from", s.next), slog.Uint64("to", first-1))
	s.next = first
	q := s.pending[first]
	delete(s.pending, first)
	h.sequence(r, q)
}

// startSequencer reads r's position and lets its sequencer deliver. The
// room's broker subscription is in place, so nothing published after the
// position was read is missed.
func (h *Hub) startSequencer(ctx context.Context, r *room) {
	ep := h.brokerCall()
	pos, err := h.store.Position(ctx, r.name)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seq
	if s == nil || s.ready {
		return
	}
	if err != nil {
		// Without a position, the first message to come sets the pace
		// (see sequence): start from the earliest one waiting, if any.
		h.historyErr.Add(1)
		h.brokerFailed(ctx, ep, "read history position", err, false)
		pos = StreamPosition{}
		for off, p := range s.pending {
			if pos.Epoch == "" || off <= pos.Offset {
				pos = StreamPosition{Epoch: p.pos.Epoch, Offset: off - 1}
			}
		}
	}
	s.ready, s.epoch, s.next = true, pos.Epoch, pos.Offset+1
	// Messages that came through the subscription while the position was
	// read are delivered too, even those the position already counts:
	// they were published after this node subscribed.
	for off, p := range s.pending {
		if p.pos.Epoch == s.epoch && off < s.next {
			s.next = off
		}
	}
	pending := s.pending
	s.pending = make(map[uint64]positioned)
	for _, p := range sortedPending(pending) {
		h.sequence(r, p)
	}
}

func sortedPending(m map[uint64]positioned) []positioned {
	out := make([]positioned, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	for i := 1; i < len(out); i++ { // few entries: insertion sort
		for j := i; j > 0 && out[j].pos.Offset < out[j-1].pos.Offset; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// maxCatchUpReads bounds the reads of one recovery in a room that keeps
// moving on while it reads.
const maxCatchUpReads = 16

// maxBehindWaits bounds the 5 ms waits of a recovery for this node to
// reach a position that another node delivered already: about two gap
// fills.
const maxBehindWaits = 100

// Recovery is the outcome of JoinFrom.
type Recovery struct {
	// Recovered reports that the member got every message after the
	// position it gave; if false, it must fetch the room's state anew.
	Recovered bool `json:"recovered"`
	// Replayed counts the messages sent from the history.
	Replayed int `json:"replayed"`
	// Position is the room's position when the member caught up: the
	// last message it was sent, from the history or before.
	Position StreamPosition `json:"position"`
}

// JoinFrom joins the connection id to room, as Join does, and first sends
// it the room's messages after since from the history, so that a client
// that lost its connection misses nothing: it gets the messages it missed,
// in order, then the live ones, with no gap and none twice. When the
// history no longer reaches back to since (or since is of another epoch),
// the connection joins all the same and Recovered is false. A room
// without history fails with ErrNoHistory; a connection in the room
// already cannot recover it.
func (h *Hub) JoinFrom(ctx context.Context, id, room string, since StreamPosition) (Recovery, error) {
	opts, ok := h.historyOf(room)
	if !ok {
		return Recovery{}, fmt.Errorf("%w: %q", ErrNoHistory, room)
	}
	r, m, err := h.join(ctx, id, room, true)
	if err != nil {
		return Recovery{}, err
	}
	if r == nil {
		return Recovery{}, fmt.Errorf("forge: hub: %s is in room %q already", id, room)
	}
	rec := h.catchUp(ctx, r, m, since, opts)
	return rec, nil
}

// catchUp replays the history after since to m, which joined r as
// catching up (skipped by deliveries), and then lets it take the live
// messages. The store is read without r.mu; under it, the replay ends at
// the last message the room delivered, which the read must have reached,
// so that the seam has neither a gap nor a message twice.
func (h *Hub) catchUp(ctx context.Context, r *room, m *member, since StreamPosition, opts HistoryOptions) Recovery {
	// The room's first member may still be reading its position.
	for range 400 {
		r.mu.Lock()
		ready := r.seq.ready
		r.mu.Unlock()
		if ready || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	var entries []HistoryEntry
	read := since
	reads, behind := 1, 0
	for {
		more, _, err := h.store.Since(ctx, r.name, read, 0)
		entries = append(entries, more...)
		if len(more) > 0 {
			read.Offset = more[len(more)-1].Offset
		}

		r.mu.Lock()
		s := r.seq
		last := StreamPosition{Epoch: s.epoch, Offset: s.next - 1}
		fail := func() Recovery {
			delete(r.catchingUp, m)
			r.mu.Unlock()
			h.recoveries.failed.Add(1)
			return Recovery{Position: last}
		}
		switch {
		case err != nil:
			if !errors.Is(err, ErrPositionLost) {
				h.log.LogAttrs(ctx, slog.LevelWarn, "hub could not read history for a recovery",
					slog.String("room", r.name), slog.String("error", err.Error()))
			}
			return fail()
		case !s.ready || since.Epoch != s.epoch:
			return fail() // another life of the history
		case since.Offset > last.Offset && behind < maxBehindWaits:
			// The store knows the position (Since accepted it), so the
			// client comes from a node that is ahead of this one: wait
			// for this node's deliveries to reach it.
			r.mu.Unlock()
			behind++
			time.Sleep(5 * time.Millisecond)
			continue
		case since.Offset > last.Offset:
			return fail()
		case read.Offset < last.Offset && reads < maxCatchUpReads && len(entries) <= 4*opts.Size:
			r.mu.Unlock()
			reads++
			continue // the room moved on while we read: read the rest
		case read.Offset < last.Offset:
			return fail() // the room moves faster than we can read it
		}
		var n counts
		replayed := 0
		for _, e := range entries {
			if e.Offset <= since.Offset || e.Offset > last.Offset {
				continue // before the position, or not yet delivered here
			}
			p, perr := prepareEntry(r.name, StreamPosition{Epoch: last.Epoch, Offset: e.Offset}, e.Data)
			if perr != nil {
				continue
			}
			n.offer(m, p.pm, p.event, nil)
			replayed++
		}
		delete(r.catchingUp, m)
		r.mu.Unlock()
		h.count(n)
		h.recoveries.ok.Add(1)
		return Recovery{Recovered: true, Replayed: replayed, Position: last}
	}
}

// KeepsHistory reports whether some rooms keep history (WithHistory).
func (h *Hub) KeepsHistory() bool { return len(h.history) > 0 }
