package connection

import (
	"context"
	"log/slog"
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
	discarded     atomic.Uint64
	refused       atomic.Uint64
	rateLimited   atomic.Uint64
	hdrTimeouts   atomic.Uint64

	obs Observer // set by Observe before the first connection

	ticks tickTable // the keepalive ticks of the Tracker's connections
}

// Stats is a snapshot of a Tracker's counters.
type Stats struct {
	Open     int    // connections open now
	Accepted uint64 // upgrades completed since start
	// Refused counts the handshakes refused before the upgrade: a request
	// that is not a WebSocket handshake or lacks a required subprotocol,
	// a foreign origin, credentials refused by the route's auth
	// (router.WithAuth, counted through Refuse), and shutdown.
	Refused uint64
	// SlowConsumers counts the connections closed because their queue
	// stayed full (PolicyClose, or a Write that waited past the write
	// timeout).
	SlowConsumers uint64
	// Dropped counts the outbound data messages lost to a full queue: a
	// connection was given them (queued, or offered with Offer) and a
	// peer that did not keep up never got them. They are those its
	// slow-consumer policy dropped (the new message, or queued ones with
	// PolicyDropOldest; with PolicyClose, the message that found the
	// queue full) and those still queued when it was closed as a slow
	// consumer. Each is counted once, for one connection: a broadcast to
	// a room that reaches two slow members drops two messages.
	//
	// Discarded counts the outbound data messages a connection was given
	// and never sent because it was closing for another reason: offered
	// once it was closing (a broadcast to a member that is leaving),
	// still queued when it failed (a protocol error, a write error, a
	// keepalive timeout). Nobody was waiting for them.
	//
	// A hub's Status().Dropped counts, for that hub's messages, the offers
	// a connection refused: each of them is counted here too, in Dropped
	// (a full queue) or Discarded (a closing connection). A message
	// dropped later from a queue it had joined is counted here only.
	// Write and WriteMessage never drop: their caller gets an error.
	Dropped   uint64
	Discarded uint64
	// RateLimited counts incoming messages over a connection's
	// MessageRate; they are dropped, and not counted in Dropped.
	RateLimited uint64
	// HeaderTimeouts counts the connections a server closed because their
	// request did not arrive whole within its read-header timeout (a
	// slowloris client, or one that went away mid-request), counted
	// through CountHeaderTimeout. They never reached a route.
	HeaderTimeouts uint64
}

// Observe has o watch the tracker's connections: every handshake refused
// and every connection opened from now on. Call it before the first
// connection; it is not safe to call while connections are served.
func (t *Tracker) Observe(o Observer) { t.obs = o }

func (t *Tracker) observer() Observer {
	if t == nil {
		return nil
	}
	return t.obs
}

// Refuse counts a handshake refused before the upgrade in Stats.Refused
// and tells the Observer. Serve counts its own refusals; the layers in
// front of it (the router's auth) call Refuse for theirs. A nil Tracker
// counts nothing.
func (t *Tracker) Refuse(route string, why Refusal) {
	if t == nil {
		return
	}
	t.refused.Add(1)
	if t.obs != nil {
		t.obs.Refused(route, why)
	}
}

// Conns returns the connections open now, in no particular order.
func (t *Tracker) Conns() []*Conn {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*Conn, 0, len(t.conns))
	for c := range t.conns {
		out = append(out, c)
	}
	return out
}

// Stats returns a snapshot of the counters.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	n := len(t.conns)
	t.mu.Unlock()
	return Stats{
		Open:           n,
		Accepted:       t.accepted.Load(),
		Refused:        t.refused.Load(),
		SlowConsumers:  t.slowConsumers.Load(),
		Dropped:        t.dropped.Load(),
		Discarded:      t.discarded.Load(),
		RateLimited:    t.rateLimited.Load(),
		HeaderTimeouts: t.hdrTimeouts.Load(),
	}
}

// CountHeaderTimeout counts a connection that a server serving the
// tracker's routes closed because its request headers did not arrive in
// time; see Stats.HeaderTimeouts. An Observer that implements
// HeaderTimeoutObserver is told. forge's App counts them itself.
func (t *Tracker) CountHeaderTimeout() {
	if t == nil {
		return
	}
	t.hdrTimeouts.Add(1)
	if o, ok := t.obs.(HeaderTimeoutObserver); ok {
		o.HeaderTimedOut()
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

// abortGrace is how long Shutdown waits for handlers after it dropped
// their connections. When ctx has a deadline, Shutdown keeps that long
// (or a quarter of the time left, if less) before the deadline for it, so
// that it returns by the deadline.
const abortGrace = time.Second

// Shutdown refuses new connections, closes every open one with
// CloseGoingAway, and waits for their handlers to return.
//
// If they have not all returned shortly before ctx's deadline (see
// abortGrace), or when ctx is canceled, the remaining connections are
// dropped without a closing handshake and their handlers are waited for
// once more, for at most abortGrace and never past the deadline. Each
// connection whose handler still has not returned is then logged at
// Error, and Shutdown returns context.DeadlineExceeded (or ctx.Err()).
// With a deadline, Shutdown returns by it, unless dropping the connections
// takes longer than the time it kept for that.
func (t *Tracker) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.draining = true
	t.code, t.reason = CloseGoingAway, "server shutting down"
	conns := make([]*Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()

	// closing is ctx ended early enough to leave time for the aborts.
	closing := ctx
	if dl, ok := ctx.Deadline(); ok {
		reserve := min(abortGrace, time.Until(dl)/4)
		var cancel context.CancelFunc
		closing, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		defer cancel()
	}
	for i, c := range conns {
		c.CloseWith(CloseGoingAway, "server shutting down")
		if (i+1)%shutdownBatch == 0 {
			if closing.Err() != nil {
				break
			}
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
	case <-closing.Done():
		select {
		case <-done: // both were ready: the handlers made it
			return nil
		default:
		}
	}
	// Aborted connections fail every read and write at once, so handlers
	// return promptly; one that is blocked elsewhere is not waited for.
	for _, c := range t.Conns() {
		c.abort()
	}
	wait := abortGrace
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	if wait > 0 {
		grace := time.NewTimer(wait)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C:
		}
	}
	for _, c := range t.Conns() {
		c.logAttrs(context.Background(), slog.LevelError, "websocket handler did not return by the end of shutdown")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}
