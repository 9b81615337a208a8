package hub

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/connhook"
)

// Errors returned by the hub.
var (
	// ErrUnknownConnection is returned for a connection id that is not
	// registered with the hub on this node.
	ErrUnknownConnection = errors.New("forge: unknown connection")
	// ErrDuplicateConnection is returned by Register for a connection id
	// that is registered already.
	ErrDuplicateConnection = errors.New("forge: connection registered twice")
	// ErrInvalidRoom is returned for an empty room name or one that is not
	// valid UTF-8.
	ErrInvalidRoom = errors.New("forge: invalid room name")
	// ErrDropped is returned by Send when the connection's outbound queue
	// was full and its slow-consumer policy dropped the message or closed
	// the connection.
	ErrDropped = errors.New("forge: message dropped by a full queue")
	// ErrClosed is returned by a hub after Close.
	ErrClosed = errors.New("forge: hub closed")
	// ErrTooManyRooms is returned by Join for a connection that is in as
	// many rooms as WithMaxRooms allows.
	ErrTooManyRooms = errors.New("forge: too many rooms for one connection")
)

// Filter decides whether a member receives a message labelled with an event
// name (see Event). The events package uses it for subscriptions, so that a
// broadcast is encoded once and each member only costs one Accepts call.
// Accepts is called while the room is locked: it must be fast, must not
// block, and must be safe for concurrent use.
type Filter interface {
	Accepts(event string) bool
}

// Hub tracks the connections of one node and the rooms they are in, and
// delivers messages to a room, to one connection or to everyone.
//
// A message is encoded once (a connection.PreparedMessage) and offered to
// every recipient with connection.Conn.Offer, which never waits: a member
// whose queue is full gets its route's slow-consumer policy, and the drop is
// counted here and in the connection Tracker's stats. Every member receives
// the messages of one room in one order, the order in which they were
// published on this node; messages from other nodes keep each publisher's
// order.
//
// With a Broker, room broadcasts, presence and messages to everyone also
// reach the members on other nodes; without one (the default), the hub is
// the whole world, with no broker cost on any path.
//
// All methods are safe for concurrent use. Create a Hub with New.
type Hub struct {
	node     string
	broker   Broker
	log      *slog.Logger
	presence string           // event name of presence messages; "" for none
	hooks    []func(Presence) // called after every join and leave
	maxRooms int              // rooms per connection; 0: no limit
	history  []historyRule    // rooms that keep history
	store    HistoryStore     // where they keep it; nil without history
	fills    sync.WaitGroup   // gap fills in flight

	mu      sync.RWMutex // guards the fields below; taken before any room's mu
	members map[string]*member
	rooms   map[string]*room
	closed  bool
	allSub  func() error // the broker subscription for messages to everyone

	ps     *presenceSync // non-nil when the broker is a PresenceStore
	outage outage
	taps   taps // Tap's, by room

	published     atomic.Uint64
	delivered     atomic.Uint64
	dropped       atomic.Uint64
	filtered      atomic.Uint64
	remote        atomic.Uint64
	brokerErr     atomic.Uint64
	brokerDropped atomic.Uint64
	refusedJoins  atomic.Uint64
	historyErr    atomic.Uint64
	gapFills      atomic.Uint64
	historyLost   atomic.Uint64
	recoveries    struct{ ok, failed atomic.Uint64 }
}

// member is one registered connection.
type member struct {
	conn   connection.Connection
	id     string
	filter Filter      // nil: every message
	stop   func() bool // stops the unregistration tied to the connection's end; nil with connhook's

	// Guarded by Hub.mu.
	meta  map[string]string
	rooms map[string]*room
}

// Option configures a Hub. An option whose value no program should pass
// (a nil broker, an empty node id) panics where it is built, and options
// that cannot work together panic in New; see "Mistakes and errors" in the
// package documentation.
type Option func(*config)

type config struct {
	node     string
	broker   Broker
	log      *slog.Logger
	presence string
	hooks    []func(Presence)
	maxRooms int
	history  []historyRule
	store    HistoryStore
}

// DefaultMaxRooms is how many rooms one connection may be in unless
// WithMaxRooms says otherwise: enough for any chat or dashboard, few
// enough that a client joining in a loop cannot fill the node's memory
// with rooms.
const DefaultMaxRooms = 128

// WithMaxRooms caps the rooms one connection may be in; Join refuses more
// with ErrTooManyRooms, counted in Status.RefusedJoins. n < 0 removes the
// cap; 0 keeps DefaultMaxRooms.
func WithMaxRooms(n int) Option {
	return func(c *config) { c.maxRooms = n }
}

// WithBroker connects the hub to other nodes through b: room broadcasts,
// presence, messages to everyone and messages to a connection on another
// node reach their members too. When b is also a [PresenceStore], the hub
// records its members there and [Hub.Members] lists the whole cluster's.
// The hub does not own b; close it after closing the hub.
func WithBroker(b Broker) Option {
	if b == nil {
		panic("forge: hub: WithBroker: nil Broker")
	}
	return func(c *config) { c.broker = b }
}

// WithNodeID names this node in broker traffic. Every node sharing a broker
// needs its own id; the default is random, which is what most deployments
// want.
func WithNodeID(id string) Option {
	if id == "" {
		panic("forge: hub: WithNodeID: empty node id")
	}
	return func(c *config) { c.node = id }
}

// WithLogger sets the logger for broker failures and malformed broker
// messages; nil means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

// WithPresence has the hub tell a room's members when someone joins or
// leaves it: an event envelope {"event": event, "payload": Presence} is
// broadcast to the room, everyone but the member concerned, labelled with
// event for subscription filters. The events package declares it for the
// documents.
func WithPresence(event string) Option {
	if event == "" {
		panic("forge: hub: WithPresence: empty event name")
	}
	return func(c *config) { c.presence = event }
}

// WithPresenceHook calls fn after every join and leave on this node, once
// the membership has changed. fn runs in the goroutine that joined or left
// (for a connection that ended, a goroutine of its own) and must not block
// for long.
func WithPresenceHook(fn func(Presence)) Option {
	if fn == nil {
		panic("forge: hub: WithPresenceHook: nil function")
	}
	return func(c *config) { c.hooks = append(c.hooks, fn) }
}

// New returns a hub configured by opts. With a broker it subscribes to the
// messages addressed to every node: that can fail, for the broker's sake,
// and is the error New returns. Mistakes in opts panic instead: a nil
// option, WithHistoryStore given with a broker, WithHistory with a broker
// that keeps no history.
func New(opts ...Option) (*Hub, error) {
	var c config
	for _, o := range opts {
		if o == nil {
			panic("forge: hub: New: nil Option")
		}
		o(&c)
	}
	if c.node == "" {
		c.node = "node_" + rand.Text()[:16]
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	switch {
	case c.maxRooms == 0:
		c.maxRooms = DefaultMaxRooms
	case c.maxRooms < 0:
		c.maxRooms = 0
	}
	if len(c.history) > 0 {
		switch {
		case c.broker != nil && c.store != nil:
			panic("forge: hub: New: with a broker, the broker keeps the history: drop WithHistoryStore")
		case c.broker != nil:
			store, ok := c.broker.(HistoryStore)
			if !ok {
				panic(fmt.Sprintf("forge: hub: New: broker %T keeps no history, which WithHistory needs", c.broker))
			}
			c.store = store
		case c.store == nil:
			c.store = NewMemoryHistory()
		}
	}
	h := &Hub{
		maxRooms: c.maxRooms,
		history:  c.history,
		store:    c.store,
		node:     c.node,
		broker:   c.broker,
		log:      c.log,
		presence: c.presence,
		hooks:    c.hooks,
		members:  make(map[string]*member),
		rooms:    make(map[string]*room),
	}
	if h.broker != nil {
		unsub, err := h.broker.Subscribe(context.Background(), allTopic, h.fromBrokerAll)
		if err != nil {
			return nil, fmt.Errorf("forge: hub: subscribe: %w", err)
		}
		h.allSub = unsub
		if store, ok := h.broker.(PresenceStore); ok {
			h.startPresence(store)
		}
	}
	return h, nil
}

// Node returns the hub's node id.
func (h *Hub) Node() string { return h.node }

// PresenceEvent returns the event name of presence messages, or "" if the
// hub sends none.
func (h *Hub) PresenceEvent() string { return h.presence }

// MemberOption configures a connection registered with Register.
type MemberOption func(*member)

// WithMeta attaches metadata to a member, such as its user name: listings
// and presence messages carry it. The map is copied.
func WithMeta(meta map[string]string) MemberOption {
	meta = maps.Clone(meta)
	return func(m *member) { m.meta = meta }
}

// WithFilter makes the member receive only the labelled messages that f
// accepts; unlabelled messages always reach it.
func WithFilter(f Filter) MemberOption {
	return func(m *member) { m.filter = f }
}

// Register adds conn to the hub. The connection leaves its rooms and is
// unregistered as soon as it ends (its context is done), or earlier with
// Unregister.
func (h *Hub) Register(conn connection.Connection, opts ...MemberOption) error {
	m := &member{conn: conn, id: conn.ID(), rooms: make(map[string]*room)}
	for _, o := range opts {
		o(m)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	if _, dup := h.members[m.id]; dup {
		h.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrDuplicateConnection, m.id)
	}
	h.members[m.id] = m
	// No goroutine waits for the end: one starts once it comes (and then
	// waits for mu). connhook.AfterEnd costs an idle member less than
	// context.AfterFunc on the connection's context (a children map and a
	// Done channel in it, ~0.4 KB); it cannot be stopped, so an
	// Unregister leaves it to find the member gone.
	if !connhook.AfterEnd(conn, func() { go h.unregister(m) }) {
		m.stop = context.AfterFunc(conn.Context(), func() { h.unregister(m) })
	}
	h.mu.Unlock()
	return nil
}

// Unregister removes the connection id from the hub and from its rooms,
// with presence messages as for Leave. It reports whether id was
// registered.
func (h *Hub) Unregister(id string) bool {
	h.mu.RLock()
	m := h.members[id]
	h.mu.RUnlock()
	if m == nil {
		return false
	}
	return h.unregister(m)
}

func (h *Hub) unregister(m *member) bool {
	h.mu.Lock()
	if h.members[m.id] != m {
		h.mu.Unlock()
		return false
	}
	delete(h.members, m.id)
	if m.stop != nil {
		m.stop()
	}
	left := make([]Presence, 0, len(m.rooms))
	var emptied []*room
	for name, r := range m.rooms {
		if r.remove(m) {
			delete(h.rooms, name)
			r.gone.Store(true)
			r.mu.Lock()
			h.stopSequencer(r)
			r.mu.Unlock()
			emptied = append(emptied, r)
		}
		left = append(left, h.presenceOf(m, name, Left))
		h.recordPresence(m, name, false)
	}
	clear(m.rooms)
	h.mu.Unlock()

	for _, r := range emptied {
		h.unsubscribe(r)
	}
	for _, p := range left {
		h.announce(context.Background(), p)
	}
	return true
}

// SetMeta replaces the metadata of the connection id; later listings and
// presence messages carry the new values.
func (h *Hub) SetMeta(id string, meta map[string]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.members[id]
	if m == nil {
		return fmt.Errorf("%w: %s", ErrUnknownConnection, id)
	}
	m.meta = maps.Clone(meta)
	return nil
}

// Close detaches the hub from its broker and forgets every connection,
// without closing any. Calls after Close fail with ErrClosed, Broadcast
// included; Close is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	for _, m := range h.members {
		if m.stop != nil {
			m.stop()
		}
	}
	var gone []PresenceChange
	if h.ps != nil {
		for _, m := range h.members {
			for room := range m.rooms {
				gone = append(gone, PresenceChange{Room: room, Member: Member{Node: h.node, ID: m.id}})
			}
		}
	}
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		r.gone.Store(true)
		rooms = append(rooms, r)
	}
	clear(h.members)
	clear(h.rooms)
	allSub := h.allSub
	h.allSub = nil
	h.mu.Unlock()

	var errs []error
	for _, r := range rooms {
		r.mu.Lock()
		h.stopSequencer(r)
		clear(r.members)
		r.members = r.members[:0]
		clear(r.index)
		r.mu.Unlock()
		if err := h.unsubscribe(r); err != nil {
			errs = append(errs, err)
		}
	}
	if allSub != nil {
		if err := allSub(); err != nil {
			errs = append(errs, fmt.Errorf("forge: hub: unsubscribe: %w", err))
		}
	}
	if err := h.closePresence(gone); err != nil {
		errs = append(errs, fmt.Errorf("forge: hub: remove presence: %w", err))
	}
	h.fills.Wait()
	return errors.Join(errs...)
}
