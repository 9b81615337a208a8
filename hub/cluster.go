package hub

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// outage tracks whether the broker answers, so that an outage is logged
// once when it begins and once when it ends, never per message.
type outage struct {
	down atomic.Bool // read on every publish; the rest is guarded by mu
	// epoch counts the outage's transitions, down and up; like down, it is
	// read without mu and changed under it. A call takes it
	// before it reaches the broker, so that its result, if it comes after a
	// transition, is known to be stale: a failure that began before the
	// broker came back does not start a new outage, and a success that
	// began before the outage does not end it.
	epoch atomic.Uint64

	mu      sync.Mutex
	since   time.Time
	dropped uint64 // messages for other nodes lost during this outage
}

// brokerCall is taken before a broker call; its result is reported with it
// to brokerFailed or brokerOK.
func (h *Hub) brokerCall() uint64 { return h.outage.epoch.Load() }

// brokerFailed records a failed broker call that began at epoch ep.
// dropped says whether a message for other nodes was lost with it.
func (h *Hub) brokerFailed(ctx context.Context, ep uint64, op string, err error, dropped bool) {
	h.brokerErr.Add(1)
	if dropped {
		h.brokerDropped.Add(1)
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return // the caller gave up; the broker may be fine
	}
	o := &h.outage
	o.mu.Lock()
	first := !o.down.Load() && o.epoch.Load() == ep
	if first {
		o.down.Store(true)
		o.epoch.Add(1)
		o.since = time.Now()
		o.dropped = 0
	}
	if dropped && o.down.Load() {
		o.dropped++
	}
	// Logged under mu, so that the outage's two records come in the order
	// of its transitions (they are rare).
	if first {
		h.log.LogAttrs(context.Background(), slog.LevelError,
			"hub lost its broker: messages for other nodes are dropped until it is back",
			slog.String("node", h.node), slog.String("op", op), slog.String("error", err.Error()))
	}
	o.mu.Unlock()
}

// brokerOK records a broker call that began at epoch ep and succeeded,
// ending an outage.
func (h *Hub) brokerOK(ep uint64) {
	if !h.outage.down.Load() {
		return
	}
	o := &h.outage
	o.mu.Lock()
	if !o.down.Load() || o.epoch.Load() != ep {
		o.mu.Unlock()
		return
	}
	o.down.Store(false)
	o.epoch.Add(1)
	h.log.LogAttrs(context.Background(), slog.LevelWarn, "hub reached its broker again",
		slog.String("node", h.node), slog.Duration("outage", time.Since(o.since)),
		slog.Uint64("dropped", o.dropped))
	o.mu.Unlock()
}

// presenceSync writes this node's memberships to a PresenceStore from one
// goroutine, so that joins and leaves never wait for the store and reach
// it in order. It keeps the latest change per member and room until the
// store took it, so an outage costs memory per membership, not per change.
type presenceSync struct {
	store PresenceStore
	wake  chan struct{} // buffered 1: changes are pending
	stop  context.CancelFunc
	done  chan struct{} // closed when the loop has returned

	mu      sync.Mutex // guards pending
	pending map[presenceKey]PresenceChange
}

type presenceKey struct{ room, id string }

// Presence refresh bounds: the store's TTL sets the pace, within these.
const (
	minKeepAlive   = 100 * time.Millisecond
	retryKeepAlive = time.Second // after a failure, while the store is away
	closeTimeout   = 2 * time.Second
)

func (h *Hub) startPresence(store PresenceStore) {
	ctx, cancel := context.WithCancel(context.Background())
	ps := &presenceSync{
		store:   store,
		wake:    make(chan struct{}, 1),
		stop:    cancel,
		done:    make(chan struct{}),
		pending: make(map[presenceKey]PresenceChange),
	}
	h.ps = ps
	go h.presenceLoop(ctx, ps)
}

// record queues a membership change for the store.
func (ps *presenceSync) record(c PresenceChange) {
	ps.mu.Lock()
	ps.pending[presenceKey{c.Room, c.Member.ID}] = c
	ps.mu.Unlock()
	select {
	case ps.wake <- struct{}{}:
	default:
	}
}

func (h *Hub) presenceLoop(ctx context.Context, ps *presenceSync) {
	defer close(ps.done)
	timer := time.NewTimer(0) // keep alive at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ps.wake:
		case <-timer.C:
			timer.Reset(h.keepAlive(ctx, ps))
		}
		h.flushPresence(ctx, ps)
	}
}

// keepAlive refreshes this node in the store and returns when to do it
// again. A store that did not know the node gets all its memberships again.
func (h *Hub) keepAlive(ctx context.Context, ps *presenceSync) time.Duration {
	ep := h.brokerCall()
	ttl, known, err := ps.store.KeepAlive(ctx, h.node)
	if err != nil {
		if ctx.Err() == nil {
			h.brokerFailed(ctx, ep, "keep presence alive", err, false)
		}
		return retryKeepAlive
	}
	h.brokerOK(ep)
	if !known {
		h.mu.RLock()
		ps.mu.Lock()
		for _, m := range h.members {
			for room := range m.rooms {
				c := PresenceChange{Room: room, Member: m.cluster(h.node), Present: true}
				ps.pending[presenceKey{room, m.id}] = c
			}
		}
		ps.mu.Unlock()
		h.mu.RUnlock()
	}
	return max(ttl/3, minKeepAlive)
}

// flushPresence hands the pending changes to the store; those it failed to
// take stay pending (unless newer ones replaced them) for the next turn.
func (h *Hub) flushPresence(ctx context.Context, ps *presenceSync) {
	ps.mu.Lock()
	if len(ps.pending) == 0 {
		ps.mu.Unlock()
		return
	}
	batch := make([]PresenceChange, 0, len(ps.pending))
	for _, c := range ps.pending {
		batch = append(batch, c)
	}
	clear(ps.pending)
	ps.mu.Unlock()

	ep := h.brokerCall()
	err := ps.store.UpdatePresence(ctx, batch)
	if err == nil {
		h.brokerOK(ep)
		return
	}
	if ctx.Err() == nil {
		h.brokerFailed(ctx, ep, "update presence", err, false)
	}
	ps.mu.Lock()
	for _, c := range batch {
		k := presenceKey{c.Room, c.Member.ID}
		if _, newer := ps.pending[k]; !newer {
			ps.pending[k] = c
		}
	}
	ps.mu.Unlock()
}

// closePresence stops the loop and takes this node's members out of the
// store, so that they do not linger for a TTL.
func (h *Hub) closePresence(gone []PresenceChange) error {
	ps := h.ps
	if ps == nil {
		return nil
	}
	ps.stop()
	<-ps.done
	if len(gone) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return ps.store.UpdatePresence(ctx, gone)
}

// cluster describes m as a Member. Caller holds h.mu.
func (m *member) cluster(node string) Member {
	return Member{Node: node, ID: m.id, Meta: maps.Clone(m.meta)}
}

// Members lists the members of room on every node of the cluster when the
// hub's broker is a PresenceStore, and on this node otherwise. Memberships
// reach the store shortly after Join and Leave return (they are written in
// the background, in order); a node that dies leaves the listing once the
// store's TTL has passed.
func (h *Hub) Members(ctx context.Context, room string) ([]Member, error) {
	if h.ps != nil {
		return h.ps.store.Members(ctx, room)
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rooms[room]
	if r == nil {
		return []Member{}, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Member, 0, len(r.members))
	for _, m := range r.members {
		out = append(out, m.cluster(h.node))
	}
	return out, nil
}
