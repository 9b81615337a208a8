package connection

import (
	"sync"
	"time"
)

// The connections' ticks (Conn.firstTick, Conn.tick) share timers: a tick
// due at about the same time as others joins their bucket, and one timer
// runs the bucket. A connection then holds no timer of its own while idle
// (a time.Timer and its callback took ~165 bytes of heap per connection),
// and connections that arrive together, as after a restart, do not each
// start a goroutine when their first tick comes.
//
// A tick never runs before it is due; it runs late by up to tickFine for
// delays under tickCoarseFrom (the first tick) and for longer ones (pings)
// by up to tickCoarse or a quarter of PongWait, whichever is less, so
// that a late ping leaves the peer most of PongWait to answer.
const (
	tickFine       = 10 * time.Millisecond
	tickCoarse     = 100 * time.Millisecond
	tickCoarseFrom = time.Second
)

// A tickTable holds the buckets of one Tracker's connections (or of one
// connection served without a Tracker) by due time. Its lock comes after a
// Conn's gmu, under which ticks are scheduled and cancelled; no Conn lock
// is taken under it.
//
// A table per Tracker rather than one per process keeps the connections of
// a test's synctest bubble, whose Tracker is made inside it, on timers of
// the bubble's clock. A connection served without a Tracker has a table of
// its own (see Conn.ticks).
type tickTable struct {
	mu      sync.Mutex
	base    time.Time // the origin of due times; set by the first schedule
	buckets map[int64]*tickBucket
}

// ticks is the table that schedules c's ticks: its Tracker's, or, for a
// connection served without one, a table of its own. One table shared by
// every untracked connection would mix synctest bubbles: bubbles whose
// clocks start at the same instant put their ticks in the same buckets,
// and one bubble's timer would then run another bubble's connection (a
// fatal error), or run it on the wrong clock.
func (c *Conn) ticks() *tickTable {
	if c.cfg.Tracker != nil {
		return &c.cfg.Tracker.ticks
	}
	return c.ownTicks
}

// A tickBucket is the ticks due at one time. Its fields are guarded by
// its table's mu.
type tickBucket struct {
	table   *tickTable
	due     int64 // in tickFine units since the table's base
	entries []tickEntry
	timer   *time.Timer
}

type tickEntry struct {
	c     *Conn
	first bool // firstTick rather than tick
}

// scheduleTick has c's first tick (first) or next tick run after d,
// replacing the one scheduled. The caller holds c.gmu.
func (c *Conn) scheduleTick(d time.Duration, first bool) {
	t := c.ticks()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.base.IsZero() {
		t.base = time.Now()
	}
	due := tickDue(time.Since(t.base)+d, d, c.cfg.pongWait())
	c.unscheduleTickLocked()
	b := t.buckets[due]
	if b == nil {
		if t.buckets == nil {
			t.buckets = make(map[int64]*tickBucket)
		}
		b = &tickBucket{table: t, due: due}
		t.buckets[due] = b
		b.timer = time.AfterFunc(time.Until(t.base.Add(time.Duration(due)*tickFine)), b.fire)
	}
	c.tickAt, c.tickIdx = b, int32(len(b.entries))
	b.entries = append(b.entries, tickEntry{c: c, first: first})
}

// tickDue is the bucket, in tickFine units, of a tick due at at (since the
// table's base) that was scheduled d ahead: the first bucket not before
// at, on a coarser grid for long delays.
func tickDue(at, d, pongWait time.Duration) int64 {
	due := int64((at + tickFine - 1) / tickFine)
	if d >= tickCoarseFrom {
		// Coarser, but a late ping must leave the peer most of PongWait
		// to answer it.
		per := int64(min(tickCoarse, pongWait/4) / tickFine)
		if per > 1 {
			due = (due + per - 1) / per * per
		}
	}
	return due
}

// cancelTick cancels c's scheduled tick, if any. A tick whose bucket is
// already running may still run: the tick functions check c.done under
// c.gmu before they schedule another. The caller holds c.gmu.
func (c *Conn) cancelTick() {
	t := c.ticks()
	t.mu.Lock()
	c.unscheduleTickLocked()
	t.mu.Unlock()
}

// unscheduleTickLocked takes c out of its bucket. The caller holds the
// table's mu.
func (c *Conn) unscheduleTickLocked() {
	b := c.tickAt
	if b == nil {
		return
	}
	c.tickAt = nil
	last := len(b.entries) - 1
	if i := int(c.tickIdx); i != last {
		moved := b.entries[last]
		b.entries[i] = moved
		moved.c.tickIdx = int32(i)
	}
	b.entries[last] = tickEntry{}
	b.entries = b.entries[:last]
	if last == 0 && b.timer.Stop() {
		delete(b.table.buckets, b.due)
	}
}

// fire runs the bucket's ticks, in the timer's goroutine.
func (b *tickBucket) fire() {
	t := b.table
	t.mu.Lock()
	if t.buckets[b.due] == b {
		delete(t.buckets, b.due)
	}
	entries := b.entries
	b.entries = nil
	for _, e := range entries {
		e.c.tickAt = nil
	}
	t.mu.Unlock()
	for _, e := range entries {
		if e.first {
			e.c.firstTick()
		} else {
			e.c.tick()
		}
	}
}
