package hub

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemoryBroker is a Broker inside one process: the hubs of one test, or of
// several "nodes" in one binary, share rooms through it. Publish delivers
// synchronously, in the publisher's goroutine, to every subscription of the
// topic. A hub without a broker needs none of this; MemoryBroker exists to
// run multi-node setups (and the broker conformance suite) without a
// server.
//
// NewMemoryBroker starts a bus; Connect returns another handle on the same
// bus, as a second node's connection to a real broker would be. Each handle
// is closed on its own.
//
// MemoryBroker is also a PresenceStore, with nodes that expire after the
// TTL set with MemoryPresenceTTL (30 s by default), and a HistoryStore
// shared by the handles of one bus.
type MemoryBroker struct {
	bus *memoryBus

	mu     sync.Mutex // guards the fields below
	closed bool
	subs   map[*memorySub]struct{}
}

type memoryBus struct {
	mu     sync.RWMutex
	topics map[string][]*memorySub // copied on write, so a snapshot stays valid

	history *MemoryHistory

	ttl     time.Duration
	pmu     sync.Mutex                   // guards the fields below
	alive   map[string]time.Time         // node -> expiry
	members map[string]map[string]Member // room -> id -> member
}

type memorySub struct {
	topic string
	fn    func([]byte)

	mu     sync.Mutex // held while fn runs, so calls never overlap
	active bool       // guarded by mu
}

var (
	_ Broker        = (*MemoryBroker)(nil)
	_ PresenceStore = (*MemoryBroker)(nil)
	_ HistoryStore  = (*MemoryBroker)(nil)
)

// MemoryOption configures a MemoryBroker's bus. Its options are named
// after NewMemoryBroker (MemoryPresenceTTL) rather than With*, which names
// the options of New.
type MemoryOption func(*memoryBus)

// MemoryPresenceTTL sets how long a node stays in presence listings after
// its last KeepAlive; d <= 0 keeps the default of 30 s.
func MemoryPresenceTTL(d time.Duration) MemoryOption {
	return func(b *memoryBus) {
		if d > 0 {
			b.ttl = d
		}
	}
}

// NewMemoryBroker returns a handle on a new, empty bus.
func NewMemoryBroker(opts ...MemoryOption) *MemoryBroker {
	bus := &memoryBus{
		topics:  make(map[string][]*memorySub),
		history: NewMemoryHistory(),
		ttl:     30 * time.Second,
		alive:   make(map[string]time.Time),
		members: make(map[string]map[string]Member),
	}
	for _, o := range opts {
		o(bus)
	}
	return newMemoryHandle(bus)
}

func newMemoryHandle(bus *memoryBus) *MemoryBroker {
	return &MemoryBroker{bus: bus, subs: make(map[*memorySub]struct{})}
}

// Connect returns a new handle on b's bus.
func (b *MemoryBroker) Connect() *MemoryBroker { return newMemoryHandle(b.bus) }

// Publish implements Broker. It returns once every subscription of topic
// has been handed a copy of data.
func (b *MemoryBroker) Publish(_ context.Context, topic string, data []byte) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return fmt.Errorf("forge: publish: %w", ErrBrokerClosed)
	}
	b.bus.mu.RLock()
	subs := b.bus.topics[topic]
	b.bus.mu.RUnlock()
	if len(subs) == 0 {
		return nil
	}
	data = slices.Clone(data)
	for _, s := range subs {
		s.mu.Lock()
		if s.active {
			s.fn(data)
		}
		s.mu.Unlock()
	}
	return nil
}

// Subscribe implements Broker.
func (b *MemoryBroker) Subscribe(_ context.Context, topic string, fn func([]byte)) (func() error, error) {
	if fn == nil {
		return nil, fmt.Errorf("forge: subscribe: nil function")
	}
	s := &memorySub{topic: topic, fn: fn, active: true}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("forge: subscribe: %w", ErrBrokerClosed)
	}
	b.subs[s] = struct{}{}
	b.bus.mu.Lock()
	b.bus.topics[topic] = append(slices.Clip(b.bus.topics[topic]), s)
	b.bus.mu.Unlock()
	var once sync.Once
	return func() error {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			b.bus.drop(s)
		})
		return nil
	}, nil
}

// Close implements Broker: it ends the subscriptions made through b.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := make([]*memorySub, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	clear(b.subs)
	b.mu.Unlock()
	for _, s := range subs {
		b.bus.drop(s)
	}
	return nil
}

// drop removes s from the bus and waits for a call of its fn in progress.
func (bus *memoryBus) drop(s *memorySub) {
	bus.mu.Lock()
	subs := bus.topics[s.topic]
	if i := slices.Index(subs, s); i >= 0 {
		subs = slices.Delete(slices.Clone(subs), i, i+1)
		if len(subs) == 0 {
			delete(bus.topics, s.topic)
		} else {
			bus.topics[s.topic] = subs
		}
	}
	bus.mu.Unlock()
	s.mu.Lock()
	s.active = false
	s.mu.Unlock()
}

// subscriptions counts the subscriptions of topic on the bus.
func (b *MemoryBroker) subscriptions(topic string) int {
	b.bus.mu.RLock()
	defer b.bus.mu.RUnlock()
	return len(b.bus.topics[topic])
}

func (b *MemoryBroker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// KeepAlive implements PresenceStore.
func (b *MemoryBroker) KeepAlive(_ context.Context, node string) (time.Duration, bool, error) {
	if b.isClosed() {
		return 0, false, fmt.Errorf("forge: keep alive: %w", ErrBrokerClosed)
	}
	bus := b.bus
	now := time.Now()
	bus.pmu.Lock()
	defer bus.pmu.Unlock()
	exp, ok := bus.alive[node]
	bus.alive[node] = now.Add(bus.ttl)
	return bus.ttl, ok && exp.After(now), nil
}

// UpdatePresence implements PresenceStore.
func (b *MemoryBroker) UpdatePresence(_ context.Context, changes []PresenceChange) error {
	if b.isClosed() {
		return fmt.Errorf("forge: update presence: %w", ErrBrokerClosed)
	}
	bus := b.bus
	bus.pmu.Lock()
	defer bus.pmu.Unlock()
	for _, c := range changes {
		room := bus.members[c.Room]
		if !c.Present {
			delete(room, c.Member.ID)
			if len(room) == 0 {
				delete(bus.members, c.Room)
			}
			continue
		}
		if room == nil {
			room = make(map[string]Member)
			bus.members[c.Room] = room
		}
		m := c.Member
		m.Meta = maps.Clone(m.Meta)
		room[m.ID] = m
	}
	return nil
}

// Members implements PresenceStore.
func (b *MemoryBroker) Members(_ context.Context, room string) ([]Member, error) {
	if b.isClosed() {
		return nil, fmt.Errorf("forge: members: %w", ErrBrokerClosed)
	}
	bus := b.bus
	now := time.Now()
	bus.pmu.Lock()
	defer bus.pmu.Unlock()
	out := make([]Member, 0, len(bus.members[room]))
	for id, m := range bus.members[room] {
		if !bus.alive[m.Node].After(now) {
			delete(bus.members[room], id) // its node is gone
			continue
		}
		m.Meta = maps.Clone(m.Meta)
		out = append(out, m)
	}
	return out, nil
}

// Append implements HistoryStore.
func (b *MemoryBroker) Append(ctx context.Context, room string, data []byte, opts HistoryOptions) (StreamPosition, error) {
	if b.isClosed() {
		return StreamPosition{}, fmt.Errorf("forge: append: %w", ErrBrokerClosed)
	}
	return b.bus.history.Append(ctx, room, data, opts)
}

// Since implements HistoryStore.
func (b *MemoryBroker) Since(ctx context.Context, room string, since StreamPosition, limit int) ([]HistoryEntry, StreamPosition, error) {
	if b.isClosed() {
		return nil, StreamPosition{}, fmt.Errorf("forge: since: %w", ErrBrokerClosed)
	}
	return b.bus.history.Since(ctx, room, since, limit)
}

// Position implements HistoryStore.
func (b *MemoryBroker) Position(ctx context.Context, room string) (StreamPosition, error) {
	if b.isClosed() {
		return StreamPosition{}, fmt.Errorf("forge: position: %w", ErrBrokerClosed)
	}
	return b.bus.history.Position(ctx, room)
}
