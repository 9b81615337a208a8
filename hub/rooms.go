package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Presence actions.
const (
	Joined = "join"
	Left   = "leave"
)

// Presence reports one member joining or leaving a room, to presence hooks
// and, as the payload of presence messages, to the room's other members.
type Presence struct {
	Room   string `json:"room" required:"true"`
	Action string `json:"action" required:"true" enum:"join,leave"`
	ID     string `json:"id" required:"true" description:"The connection id of the member."`
	// Principal is who the member is (MemberInfo.Principal).
	Principal string            `json:"principal,omitempty" description:"The subject of the member's authenticated principal, on a route with authentication."`
	Meta      map[string]string `json:"meta,omitempty" description:"The member's metadata, such as its user name."`
}

// room is a named set of members. Its mu serializes membership changes and
// deliveries, which gives every member one order of the room's messages.
type room struct {
	name  string
	topic string
	gone  atomic.Bool // removed from the hub; no subscription may start

	mu         sync.Mutex // guards the fields below
	members    []*member
	index      map[*member]int      // position in members
	seq        *sequencer           // orders positioned messages; nil without history
	catchingUp map[*member]struct{} // members replaying history (JoinFrom)

	subMu sync.Mutex   // serializes the broker subscription's changes
	unsub func() error // guarded by subMu; nil while not subscribed
}

func newRoom(name string, hist *HistoryOptions) *room {
	r := &room{name: name, topic: roomTopic(name), index: make(map[*member]int)}
	if hist != nil {
		r.seq = &sequencer{opts: *hist, pending: make(map[uint64]positioned)}
		r.catchingUp = make(map[*member]struct{})
	}
	return r
}

// stopSequencer stops r's gap timer. Caller holds r.mu.
func (h *Hub) stopSequencer(r *room) {
	if r.seq != nil && r.seq.timer != nil {
		if r.seq.timer.Stop() {
			h.fills.Done() // it will not run
		} // else a fill has started: it sees r.gone and returns
		r.seq.timer = nil
	}
}

// remove takes m out of the room and reports whether the room is empty.
func (r *room) remove(m *member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i, ok := r.index[m]; ok {
		last := len(r.members) - 1
		r.members[i] = r.members[last]
		r.index[r.members[i]] = i
		r.members[last] = nil
		r.members = r.members[:last]
		delete(r.index, m)
		delete(r.catchingUp, m)
	}
	return len(r.members) == 0
}

func validRoom(name string) bool { return name != "" && utf8.ValidString(name) }

// Join adds the connection id to room, creating the room if needed. Joining
// a room twice changes nothing. With a broker, the first member of a room
// on this node subscribes to it before Join returns, so no message
// published after Join returns is missed.
func (h *Hub) Join(ctx context.Context, id, room string) error {
	_, _, err := h.join(ctx, id, room, false)
	return err
}

// join adds id to room. It returns the room and member, or a nil room when
// the member was in the room already. A member that is catchingUp is
// skipped by deliveries of positioned messages until catchUp is done.
func (h *Hub) join(ctx context.Context, id, room string, catchingUp bool) (*room, *member, error) {
	if !validRoom(room) {
		return nil, nil, fmt.Errorf("%w: %q", ErrInvalidRoom, room)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, nil, ErrClosed
	}
	m := h.members[id]
	if m == nil {
		h.mu.Unlock()
		return nil, nil, fmt.Errorf("%w: %s", ErrUnknownConnection, id)
	}
	if _, in := m.rooms[room]; in {
		h.mu.Unlock()
		return nil, m, nil
	}
	if h.maxRooms > 0 && len(m.rooms) >= h.maxRooms {
		h.mu.Unlock()
		h.refusedJoins.Add(1)
		return nil, nil, fmt.Errorf("%w: %d", ErrTooManyRooms, h.maxRooms)
	}
	r := h.rooms[room]
	created := r == nil
	if created {
		var hist *HistoryOptions
		if opts, ok := h.historyOf(room); ok {
			hist = &opts
		}
		r = newRoom(room, hist)
		h.rooms[room] = r
	}
	r.mu.Lock()
	r.index[m] = len(r.members)
	r.members = append(r.members, m)
	if catchingUp {
		r.catchingUp[m] = struct{}{}
	}
	r.mu.Unlock()
	m.rooms[room] = r
	p := h.presenceOf(m, room, Joined)
	h.recordPresence(m, room, true)
	h.mu.Unlock()

	if h.broker != nil {
		if err := h.subscribe(ctx, r); err != nil {
			h.leave(ctx, m, room, false)
			return nil, nil, fmt.Errorf("forge: join room %q: %w", room, err)
		}
	}
	if created && r.seq != nil {
		h.startSequencer(ctx, r)
	}
	h.announce(ctx, p)
	return r, m, nil
}

// Leave removes the connection id from room; leaving a room one is not in
// changes nothing. A room is gone once its last member leaves (and, with a
// broker, this node unsubscribes from it).
func (h *Hub) Leave(ctx context.Context, id, room string) error {
	h.mu.RLock()
	m := h.members[id]
	h.mu.RUnlock()
	if m == nil {
		return fmt.Errorf("%w: %s", ErrUnknownConnection, id)
	}
	h.leave(ctx, m, room, true)
	return nil
}

func (h *Hub) leave(ctx context.Context, m *member, name string, announce bool) {
	h.mu.Lock()
	r := m.rooms[name]
	if r == nil || h.members[m.id] != m {
		h.mu.Unlock()
		return
	}
	delete(m.rooms, name)
	empty := r.remove(m)
	if empty {
		delete(h.rooms, name)
		r.gone.Store(true)
		r.mu.Lock()
		h.stopSequencer(r)
		r.mu.Unlock()
	}
	p := h.presenceOf(m, name, Left)
	h.recordPresence(m, name, false)
	h.mu.Unlock()
	if empty {
		h.unsubscribe(r)
	}
	if announce {
		h.announce(ctx, p)
	}
}

// presenceOf describes m in room. Caller holds h.mu.
func (h *Hub) presenceOf(m *member, room, action string) Presence {
	return Presence{Room: room, Action: action, ID: m.id, Principal: m.principal(), Meta: maps.Clone(m.meta)}
}

// recordPresence queues a membership change for the presence store, if
// any. Caller holds h.mu, which orders the changes of one member.
func (h *Hub) recordPresence(m *member, room string, present bool) {
	if h.ps == nil {
		return
	}
	c := PresenceChange{Room: room, Member: Member{Node: h.node, ID: m.id}, Present: present}
	if present {
		c.Member.Meta = maps.Clone(m.meta)
	}
	h.ps.record(c)
}

// announce runs the presence hooks and sends the presence message.
func (h *Hub) announce(ctx context.Context, p Presence) {
	for _, fn := range h.hooks {
		fn(p)
	}
	if h.presence == "" {
		return
	}
	data, err := json.Marshal(presenceEnvelope{Event: h.presence, Payload: p})
	if err != nil { // a map of strings always encodes
		panic("forge: hub: encode presence: " + err.Error())
	}
	// Presence is news of the moment, kept out of the room's history.
	err = h.broadcast(ctx, p.Room, Message{Data: data, Event: h.presence, Except: []string{p.ID}}, false)
	if err != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "hub presence not sent to other nodes",
			slog.String("room", p.Room), slog.String("error", err.Error()))
	}
}

type presenceEnvelope struct {
	Event   string   `json:"event"`
	Payload Presence `json:"payload"`
}

// subscribe makes sure this node receives r's messages from other nodes.
func (h *Hub) subscribe(ctx context.Context, r *room) error {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	if r.unsub != nil || r.gone.Load() {
		return nil
	}
	fn := func(data []byte) { h.fromBrokerRoom(r, data) }
	if r.seq != nil {
		fn = func(data []byte) { h.fromBrokerPositioned(r, data) }
	}
	ep := h.brokerCall()
	unsub, err := h.broker.Subscribe(ctx, r.topic, fn)
	if err != nil {
		h.brokerFailed(ctx, ep, "subscribe", err, false)
		return err
	}
	h.brokerOK(ep) // a node that only subscribes learns of the end of an outage too
	r.unsub = unsub
	return nil
}

// unsubscribe ends r's broker subscription, if any.
func (h *Hub) unsubscribe(r *room) error {
	if h.broker == nil {
		return nil
	}
	r.subMu.Lock()
	defer r.subMu.Unlock()
	if r.unsub == nil {
		return nil
	}
	err := r.unsub()
	r.unsub = nil
	if err != nil {
		h.brokerErr.Add(1)
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "hub unsubscribe failed",
			slog.String("room", r.name), slog.String("error", err.Error()))
		return fmt.Errorf("forge: hub: unsubscribe from room %q: %w", r.name, err)
	}
	return nil
}
