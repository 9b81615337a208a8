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
	Room   string            `json:"room" required:"true"`
	Action string            `json:"action" required:"true" enum:"join,leave"`
	ID     string            `json:"id" required:"true" description:"The connection id of the member."`
	Meta   map[string]string `json:"meta,omitempty" description:"The member's metadata, such as its user name."`
}

// room is a named set of members. Its mu serializes membership changes and
// deliveries, which gives every member one order of the room's messages.
type room struct {
	name  string
	topic string
	gone  atomic.Bool // removed from the hub; no subscription may start

	mu      sync.Mutex // guards members and index
	members []*member
	index   map[*member]int // position in members

	subMu sync.Mutex   // serializes the broker subscription's changes
	unsub func() error // guarded by subMu; nil while not subscribed
}

func newRoom(name string) *room {
	return &room{name: name, topic: roomTopic(name), index: make(map[*member]int)}
}

func (r *room) add(m *member) {
	r.mu.Lock()
	r.index[m] = len(r.members)
	r.members = append(r.members, m)
	r.mu.Unlock()
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
	}
	return len(r.members) == 0
}

func validRoom(name string) bool { return name != "" && utf8.ValidString(name) }

// Join adds the connection id to room, creating the room if needed. Joining
// a room twice changes nothing. With a broker, the first member of a room
// on this node subscribes to it before Join returns, so no message
// published after Join returns is missed.
func (h *Hub) Join(ctx context.Context, id, room string) error {
	if !validRoom(room) {
		return fmt.Errorf("%w: %q", ErrInvalidRoom, room)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	m := h.members[id]
	if m == nil {
		h.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownConnection, id)
	}
	if _, in := m.rooms[room]; in {
		h.mu.Unlock()
		return nil
	}
	if h.maxRooms > 0 && len(m.rooms) >= h.maxRooms {
		h.mu.Unlock()
		h.refusedJoins.Add(1)
		return fmt.Errorf("%w: %d", ErrTooManyRooms, h.maxRooms)
	}
	r := h.rooms[room]
	if r == nil {
		r = newRoom(room)
		h.rooms[room] = r
	}
	r.add(m)
	m.rooms[room] = r
	p := h.presenceOf(m, room, Joined)
	h.recordPresence(m, room, true)
	h.mu.Unlock()

	if h.broker != nil {
		if err := h.subscribe(ctx, r); err != nil {
			h.leave(ctx, m, room, false)
			return fmt.Errorf("forge: join room %q: %w", room, err)
		}
	}
	h.announce(ctx, p)
	return nil
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
	return Presence{Room: room, Action: action, ID: m.id, Meta: maps.Clone(m.meta)}
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
	err = h.Broadcast(ctx, p.Room, Message{Data: data, Event: h.presence, Except: []string{p.ID}})
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
	unsub, err := h.broker.Subscribe(ctx, r.topic, func(data []byte) { h.fromBrokerRoom(r, data) })
	if err != nil {
		h.brokerFailed(ctx, "subscribe", err, false)
		return err
	}
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
