package connection

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker follows the connections of one application so that they can be
// counted and shut down together. The zero value is ready to use; a Tracker
// must not be copied after first use.
type Tracker struct {
	mu       sync.Mutex
	conns    map[*Conn]struct{} // guarded by mu
	draining bool               // guarded by mu; set by Shutdown
	code     StatusCode         // guarded by mu; the code Shutdown closes with
	reason   string             // guarded by mu
	handlers sync.WaitGroup     // one count per admitted upgrade, until its Serve returns

	accepted      atomic.Uint64
	slowConsumers atomic.Uint64
	dropped       atomic.Uint64
	refused       atomic.Uint64
	rateLimited   atomic.Uint64
}

// Stats is a snapshot of a Tracker's counters.
type Stats struct {
	Open          int    // connections open now
	Accepted      uint64 // upgrades completed since start
	Refused       uint64 // handshakes refused (origin, subprotocol, shutdown, bad request)
	SlowConsumers uint64 // connections closed because their queue stayed full
	Dropped       uint64 // messages dropped by a PolicyDropOldest/PolicyDropNewest queue
	RateLimited   uint64 // incoming messages over a connection's MessageRate
}

// Stats returns a snapshot of the counters.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	n := len(t.conns)
	t.mu.Unlock()
	return Stats{
		Open:          n,
		Accepted:      t.accepted.Load(),
		Refused:       t.refused.Load(),
		SlowConsumers: t.slowConsumers.Load(),
		Dropped:       t.dropped.Load(),
		RateLimited:   t.rateLimited.Load(),
	}
}

// admit reserves a place for a connection about to be upgraded. It reports
// false once Shutdown has begun; otherwise the caller must call release when
// its Serve returns.
func (t *Tracker) admit() bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.draining {
		return false
	}
	t.handlers.Add(1)
	return true
}

func (t *Tracker) release() {
	if t != nil {
		t.handlers.Done()
	}
}

// add registers an upgraded connection. If Shutdown began after admit, the
// connection is closed at once with the shutdown code, so an upgrade racing
// with shutdown is served and closed, never lost.
func (t *Tracker) add(c *Conn) {
	if t == nil {
		return
	}
	t.accepted.Add(1)
	t.mu.Lock()
	if t.conns == nil {
		t.conns = make(map[*Conn]struct{})
	}
	t.conns[c] = struct{}{}
	draining, code, reason := t.draining, t.code, t.reason
	t.mu.Unlock()
	if draining {
		c.CloseWith(code, reason)
	}
}

func (t *Tracker) remove(c *Conn) {
	if t == nil {
		return
	}
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// shutdownBatch is how many connections Shutdown closes before it yields, so
// that closing 100k connections does not starve their writers.
const shutdownBatch = 256

// abortGrace is how long Shutdown still waits for handlers after it dropped
// their connections.
const abortGrace = time.Second

// Shutdown refuses new connections, closes every open one with
// CloseGoingAway, and waits for their handlers to return. If ctx ends first,
// the remaining connections are dropped without a closing handshake, their
// handlers are waited for once more, and ctx.Err() is returned.
func (t *Tracker) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.draining = true
	t.code, t.reason = CloseGoingAway, "server shutting down"
	conns := make([]*Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()

	for i, c := range conns {
		c.CloseWith(CloseGoingAway, "server shutting down")
		if (i+1)%shutdownBatch == 0 {
			runtime.Gosched()
		}
	}

	done := make(chan struct{})
	go func() {
		t.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	for c := range t.conns {
		c.abort()
	}
	t.mu.Unlock()
	// Aborted connections fail every read and write at once, so handlers
	// return promptly; one that is blocked elsewhere is not waited for.
	select {
	case <-done:
	case <-time.After(abortGrace):
	}
	return ctx.Err()
}
