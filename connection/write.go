package connection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// outbound is one queued message: raw data or a prepared message.
type outbound struct {
	typ  MessageType
	data []byte
	pm   *PreparedMessage
	size int
}

// PreparedMessage is a message encoded once for many connections (a
// broadcast). It caches its frames per compression setting.
type PreparedMessage struct {
	pm   *websocket.PreparedMessage
	size int
	typ  MessageType
	data []byte // for observers (ConnObserver.Message)
}

// NewPreparedMessage prepares data as a message of type typ, TextMessage or
// BinaryMessage. It keeps data: do not modify it afterwards.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if typ != TextMessage && typ != BinaryMessage {
		return nil, fmt.Errorf("forge: prepared message of type %d: only text and binary messages can be prepared", typ)
	}
	pm, err := websocket.NewPreparedMessage(int(typ), data)
	if err != nil {
		return nil, err
	}
	return &PreparedMessage{pm: pm, size: len(data), typ: typ, data: data}, nil
}

// Write implements Connection.
func (c *Conn) Write(data []byte) error {
	return c.enqueue(context.Background(), outbound{typ: TextMessage, data: data}, true)
}

// WriteBinary implements Connection.
func (c *Conn) WriteBinary(data []byte) error {
	return c.enqueue(context.Background(), outbound{typ: BinaryMessage, data: data}, true)
}

// WriteMessage implements Connection.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	if typ != TextMessage && typ != BinaryMessage {
		return errors.New("forge: write message: type must be TextMessage or BinaryMessage")
	}
	return c.enqueue(ctx, outbound{typ: typ, data: data}, true)
}

// WritePrepared queues pm like Write: while the queue is full it waits, up
// to the write timeout, then closes the slow consumer.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	return c.enqueue(context.Background(), outbound{pm: pm, size: pm.size}, false)
}

// Offer queues pm without waiting, for broadcasts. When the queue has no
// room, the connection's slow-consumer Policy decides: PolicyClose closes
// the connection with CloseSlowConsumer, PolicyDropOldest drops queued
// messages until pm fits, PolicyDropNewest drops pm. Offer reports whether
// pm was queued; every drop and close is counted in the Tracker's Stats.
func (c *Conn) Offer(pm *PreparedMessage) bool {
	m := outbound{pm: pm, size: pm.size}
	c.wmu.Lock()
	if c.closing || c.werr != nil {
		c.wmu.Unlock()
		c.dropped(DropClosing, 1)
		return false
	}
	if q := c.queuedLocked(); q > 0 && q+m.size > c.cfg.queueBytes() {
		switch c.cfg.SlowConsumer {
		case PolicyDropOldest:
			for len(c.queue) > 0 && c.queuedLocked()+m.size > c.cfg.queueBytes() {
				c.qbytes -= c.queue[0].size
				c.queue[0] = outbound{}
				c.queue = c.queue[1:]
				c.dropped(DropQueueFull, 1)
			}
			if q := c.queuedLocked(); q > 0 && q+m.size > c.cfg.queueBytes() { // the writer holds the rest
				c.wmu.Unlock()
				c.dropped(DropQueueFull, 1)
				return false
			}
		case PolicyDropNewest:
			c.wmu.Unlock()
			c.dropped(DropQueueFull, 1)
			return false
		default:
			c.wmu.Unlock()
			c.dropped(DropQueueFull, 1)
			c.slowConsumer()
			return false
		}
	}
	c.pushLocked(m)
	c.wmu.Unlock()
	return true
}

// pushLocked appends m to the queue, counts it against the cap, and has a
// writer send it. Caller holds wmu.
func (c *Conn) pushLocked(m outbound) {
	c.queue = append(c.queue, m)
	c.qbytes += m.size
	if c.obs != nil {
		c.obs.Queued(c.queuedLocked())
	}
	c.kickLocked()
}

// queuedLocked returns the payload bytes that count against the queue's
// cap: those not yet handed to the socket (the queue and the message being
// written). Bytes the socket has taken are no longer the queue's, so a peer
// that keeps up is never closed, whatever the volume. Caller holds wmu.
func (c *Conn) queuedLocked() int { return c.qbytes - int(c.handed.Load()) }

// foldLocked moves the bytes the writer handed to the socket out of
// qbytes. Only the holder of the writer role calls it, holding wmu.
func (c *Conn) foldLocked() { c.qbytes -= int(c.handed.Swap(0)) }

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}

// enqueue adds m to the queue, waiting while it is full. The wait ends with
// ErrSlowConsumer (and the connection closed) after the write timeout, or
// with ErrWriteTimeout / ctx.Err() when ctx ends first, nothing queued.
// With borrowed, m.data is the caller's until enqueue returns: it is
// copied if it is queued, and not when it is written at once (writeInline),
// which is what an answer to the peer usually is (unless the peer
// pipelines, see below).
func (c *Conn) enqueue(ctx context.Context, m outbound, borrowed bool) error {
	if m.pm == nil {
		m.size = len(m.data)
	}
	var timer *time.Timer
	c.wmu.Lock()
	for {
		if c.werr != nil || c.closing {
			slow := c.slow
			c.wmu.Unlock()
			if slow {
				return ErrSlowConsumer
			}
			return ErrClosed
		}
		if q := c.queuedLocked(); q == 0 || q+m.size <= c.cfg.queueBytes() {
			break
		}
		if timer == nil {
			timer = time.NewTimer(c.cfg.writeTimeout())
			defer timer.Stop()
		}
		if c.space == nil {
			c.space = make(chan struct{})
		}
		room := c.space
		c.waiters.Add(1)
		c.wmu.Unlock()
		select {
		case <-room:
			c.waiters.Add(-1)
		case <-timer.C:
			c.waiters.Add(-1)
			c.slowConsumer()
			return ErrSlowConsumer
		case <-ctx.Done():
			c.waiters.Add(-1)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ErrWriteTimeout
			}
			return ctx.Err()
		}
		c.wmu.Lock()
	}
	// A reply to a peer that pipelines (the reader holds its next messages
	// already) goes through the queue: a flusher then gathers it with the
	// replies that follow into one write (socketConn.round) instead of a
	// write per reply.
	if !c.writing && len(c.queue) == 0 && len(c.pongs) == 0 && !c.pingDue && ctx.Done() == nil && !c.moreIn.Load() {
		return c.writeInline(&m)
	}
	if borrowed {
		m.data = clone(m.data)
	}
	c.pushLocked(m)
	c.wmu.Unlock()
	return nil
}

// writeInline writes m in the calling goroutine, which takes the writer role
// because nobody holds it and nothing is queued: the common case of a
// handler answering its peer costs no goroutine hand-off. Whatever was
// queued meanwhile is handed on (kickLocked). Caller holds wmu;
// writeInline releases it.
func (c *Conn) writeInline(m *outbound) error {
	c.writing = true
	c.qbytes += m.size
	c.wmu.Unlock()
	err := c.writeOne(m)
	c.wmu.Lock()
	c.qbytes -= m.size
	c.wakeLocked()
	closed := errors.Is(err, websocket.ErrCloseSent)
	if closed {
		// gorilla's reader sent a close frame (read limit, protocol error):
		// the connection is closing, and the socket stays up for the
		// closing handshake.
		err = nil
	}
	if err != nil {
		c.wmu.Unlock()
		c.writeFailed(err)
		if c.isSlow() {
			return ErrSlowConsumer
		}
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.writing = false
	if len(c.queue) > 0 || len(c.pongs) > 0 || c.pingDue || (c.closing && c.closeMsg != nil) {
		c.kickLocked()
	}
	c.wmu.Unlock()
	if closed {
		c.dropped(DropClosing, 1)
		return fmt.Errorf("%w: %w", ErrClosed, websocket.ErrCloseSent)
	}
	return nil
}

func (c *Conn) isSlow() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.slow
}

// slowConsumer fails a connection whose queue stayed full: queued messages
// are dropped and the close frame goes next. A second writer whose wait
// ended with the first one's closes the same way (the first close wins),
// so that it too returns only once the connection's context has ended.
func (c *Conn) slowConsumer() {
	if !c.markSlow() && !c.isSlow() {
		return // closing for another reason, which ended the context
	}
	c.initiateClose(CloseSlowConsumer, "slow consumer", true)
	c.endContext()
}

// markSlow records that the peer is a slow consumer, once, and reports
// whether this call did. A connection already closing for another reason is
// not counted.
func (c *Conn) markSlow() bool {
	c.wmu.Lock()
	if c.slow || c.werr != nil {
		c.wmu.Unlock()
		return false
	}
	c.slow = true
	c.wmu.Unlock()
	if c.cfg.Tracker != nil {
		c.cfg.Tracker.slowConsumers.Add(1)
	}
	if c.obs != nil {
		c.obs.Dropped(DropSlowConsumer)
	}
	c.logAttrs(c.ctx, slog.LevelWarn, "websocket slow consumer closed",
		slog.Int("queue_bytes", c.cfg.queueBytes()), slog.Duration("write_timeout", c.cfg.writeTimeout()))
	return true
}

// initiateClose stops accepting data and has the writer send a close frame
// after the queued messages (or instead of them, with discard). The first
// close wins; later calls change nothing.
func (c *Conn) initiateClose(code StatusCode, reason string, discard bool) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing {
		c.endContext()
		return
	}
	c.closing = true
	// The context ends while wmu is held, so that whoever finds the
	// connection closing (a Write's ErrClosed) also finds its context
	// done, and a handler that returns because its context ended finds
	// this close, not its own, going out. Cancelling runs no caller's code
	// in this goroutine (context.AfterFunc starts its own).
	c.endContext()
	if discard {
		for _, m := range c.queue {
			c.qbytes -= m.size
		}
		c.dropped(c.lostKindLocked(), len(c.queue))
		clear(c.queue)
		c.queue = c.queue[:0]
	}
	c.closeCode, c.closeReason = code, reason
	c.closeMsg = websocket.FormatCloseMessage(int(code), truncateReason(reason))
	if code == CloseNoStatus {
		c.closeMsg = []byte{}
	}
	c.wakeLocked()
	if c.werr != nil {
		c.sentClose(c.werr)
		return
	}
	c.kickLocked()
	if !c.writing { // the connection is finished: no writer can start
		c.sentClose(ErrClosed)
	}
}

// sentCode returns the code of the close frame sent, or CloseAbnormal if
// none could be. Call it once whenCloseSent's channel is closed.
func (c *Conn) sentCode() StatusCode {
	c.gmu.Lock()
	failed := c.closeFailed
	c.gmu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if failed || c.closeCode == 0 {
		return CloseAbnormal
	}
	return c.closeCode
}

// maxPendingPongs bounds the pongs waiting to be written: a peer that pings
// faster than it reads gets the rest coalesced (see Conn).
const maxPendingPongs = 16

// onPing has the writer answer a ping, after the pongs already due. When
// maxPendingPongs are waiting, the newest answer replaces the last of
// them: RFC 6455 allows answering only the latest ping, and a ping flood
// cannot grow memory.
func (c *Conn) onPing(data string) error {
	c.wmu.Lock()
	if !c.closing && c.werr == nil {
		if len(c.pongs) < maxPendingPongs {
			c.pongs = append(c.pongs, []byte(data))
		} else {
			c.pongs[len(c.pongs)-1] = []byte(data)
		}
		c.kickLocked()
	}
	c.wmu.Unlock()
	return nil
}

// onClose records the peer's close frame and has the writer answer it with
// the same code once the queue is flushed.
func (c *Conn) onClose(code int, _ string) error {
	c.peerClosed.Store(true)
	if code == websocket.CloseNoStatusReceived {
		c.initiateClose(CloseNoStatus, "", false)
	} else {
		c.initiateClose(StatusCode(code), "", false)
	}
	c.endContext()
	return nil
}

// kickLocked gives the writer role to a flusher (see flushPool) or, for a
// socket that cannot be written without waiting, to a writer goroutine. It
// does nothing while the role is held. Caller holds wmu.
func (c *Conn) kickLocked() {
	if c.writing {
		return
	}
	if c.nc == nil || c.nc.raw == nil {
		if c.spawn(writerRole) {
			c.writing = true
		}
		return
	}
	if c.hold() {
		c.writing = true
		flushers.push(c)
	}
}

// wakeLocked wakes writers waiting for room. Caller holds wmu.
func (c *Conn) wakeLocked() {
	if c.space != nil {
		close(c.space)
		c.space = nil
	}
}

// turn is how a flusher's turn at a connection ended.
type turn int

const (
	turnDone    turn = iota // nothing left to write; the role is released
	turnAgain               // more to write: back of the flushers' line
	turnHandoff             // the socket is full or a close frame is due: a writer goroutine takes over
)

// writeLoop drains the queue, control frames first, until nothing is left
// to write, then releases the writer role. With try, it runs on a flusher
// and never waits for the socket: it writes one batch, then returns
// turnAgain if more is queued, so that one busy connection cannot hold a
// flusher; and it returns turnHandoff as soon as the socket does not take
// a frame at once (the rest of the batch goes back to the queue, so at
// most a cork's worth of frames, see socketConn.round, and one frame more
// wait in the socket's pending buffer) or a close frame is due (the
// closing handshake waits for that frame to be written).
//
// Each round settles the last one (settleLocked), decides what to do
// (nextLocked), takes what is due (takeLocked) and writes it
// (writeRound).
func (c *Conn) writeLoop(try bool) turn {
	var last []outbound // the previous round's batch, whose array the queue reuses
	for turns := 0; ; {
		c.wmu.Lock()
		c.settleLocked(last)
		switch step, t := c.nextLocked(try, turns); step {
		case stepStop:
			return t
		case stepFlush:
			if err := c.nc.flush(time.Now().Add(c.cfg.writeTimeout())); err != nil {
				c.writeFailed(err)
				return turnDone
			}
			continue
		}
		turns++
		r := c.takeLocked()
		c.wmu.Unlock()
		last = r.batch
		if t, done := c.writeRound(&r, try); done {
			return t
		}
	}
}

// writerStep is what the writer does next: write a round, flush the bytes
// a flusher left in the socket, or stop with a turn.
type writerStep int

const (
	stepWrite writerStep = iota
	stepFlush
	stepStop
)

// writeRound is what one round of the writer takes from the connection.
type writeRound struct {
	pongs    [][]byte   // payloads of the pings to answer, oldest first
	ping     bool       // a keepalive ping is due
	batch    []outbound // the queued messages
	closeMsg []byte     // the close frame, taken once nothing else is left
}

// settleLocked moves the bytes handed to the socket out of the queue's
// count, wakes the writers waiting for room, and keeps the array of the
// last round's batch for the queue to reuse. Caller holds wmu.
func (c *Conn) settleLocked(last []outbound) {
	c.foldLocked()
	c.wakeLocked()
	if last != nil && c.spare == nil {
		c.spare = last[:0]
	}
}

// nextLocked decides the writer's next step. It is called with wmu held
// and releases it unless it returns stepWrite. A failed writer stops; an
// idle one flushes what a flusher's write left in the socket (a flusher
// hands that to a writer goroutine instead), or releases the role, or,
// when only the close frame is due, writes it (a flusher hands it over:
// the closing handshake waits for that frame). A flusher stops after one
// round, with turnAgain, so that one busy connection cannot hold it.
func (c *Conn) nextLocked(try bool, turns int) (writerStep, turn) {
	if c.werr != nil {
		c.writing = false
		c.wmu.Unlock()
		c.sentClose(ErrClosed)
		return stepStop, turnDone
	}
	if len(c.queue) == 0 && len(c.pongs) == 0 && !c.pingDue {
		switch {
		case c.nc != nil && c.nc.hasPending(): // left by a flusher's write
			c.wmu.Unlock()
			if try {
				return stepStop, turnHandoff
			}
			return stepFlush, turnDone
		case !c.closing || c.closeMsg == nil:
			c.writing = false
			c.wmu.Unlock()
			return stepStop, turnDone
		case try:
			c.wmu.Unlock()
			return stepStop, turnHandoff
		}
	}
	if try && turns > 0 {
		c.wmu.Unlock()
		return stepStop, turnAgain
	}
	return stepWrite, turnDone
}

// takeLocked takes what is due for one round: the pongs owed, a ping, the
// queued messages (the queue starts over on the spare array) and, once
// none of those is left, the close frame. Caller holds wmu.
func (c *Conn) takeLocked() writeRound {
	r := writeRound{pongs: c.pongs, ping: c.pingDue, batch: c.queue}
	c.pongs, c.pingDue = nil, false
	c.queue, c.spare = c.spare[:0], nil
	if len(r.batch) == 0 && len(r.pongs) == 0 && !r.ping {
		r.closeMsg, c.closeMsg = c.closeMsg, nil
	}
	return r
}

// frames returns the number of frames r has before its close frame.
func (r *writeRound) frames() int {
	n := len(r.pongs) + len(r.batch)
	if r.ping {
		n++
	}
	return n
}

// writeRound writes r: its frames, gathered into few writes when there
// are several (see socketConn.round), through the socket's non-waiting writes
// with try, then the close frame if it was taken. It reports whether the
// writer's turn ends, and how: after a failure or the close frame
// (turnDone), or when the socket did not take everything at once
// (turnHandoff, with what it did not get to back in the queue).
func (c *Conn) writeRound(r *writeRound, try bool) (turn, bool) {
	var (
		rest []outbound // with try: what the full socket did not get to
		left bool       // with try: bytes wait in the socket's pending buffer
		err  error
	)
	if corked := r.frames() > 1; c.nc != nil && (try || corked) {
		left, err = c.nc.round(try, corked, func() (err error) {
			rest, err = c.writeFrames(r, try)
			return err
		})
	} else {
		_, err = c.writeFrames(r, false)
	}
	if r.closeMsg != nil && err == nil {
		err = c.writeControl(websocket.CloseMessage, r.closeMsg)
	}
	switch {
	case err != nil:
		c.writeFailed(err)
		return turnDone, true
	case r.closeMsg != nil:
		c.sentClose(nil)
		c.wmu.Lock()
		c.writing = false
		c.wmu.Unlock()
		return turnDone, true
	case left:
		c.requeue(rest, r.batch)
		return turnHandoff, true
	}
	return turnDone, false
}

// writeFrames writes r's pongs, its ping and its messages, in that order.
// After the first error it writes nothing more but still gives up the
// rest of the batch, so that its room is freed. With try it stops before
// a message as soon as the socket holds bytes it did not take, and
// returns the messages not written.
func (c *Conn) writeFrames(r *writeRound, try bool) (rest []outbound, err error) {
	for _, pong := range r.pongs {
		if err == nil {
			err = c.writeControl(websocket.PongMessage, pong)
		}
	}
	if r.ping && err == nil {
		err = c.writeControl(websocket.PingMessage, nil)
	}
	for i := range r.batch {
		if try && c.nc.hasPending() {
			return r.batch[i:], err
		}
		if err == nil {
			err = c.writeOne(&r.batch[i])
			if errors.Is(err, websocket.ErrCloseSent) {
				// gorilla's reader sent a close frame (read limit,
				// protocol error): nothing may follow it.
				c.dropped(DropClosing, 1)
				err = nil
			}
		} else {
			c.dropped(lostTo(err), 1) // given up on after the first error
		}
		c.handOver(&r.batch[i])
	}
	return nil, err
}

// writeControl writes a pong, a ping or the close frame that follows the
// queue. gorilla refuses it (ErrCloseSent) once its reader sent a close
// frame (read limit, protocol error): nothing may follow that frame, which
// stands, and the connection is closing anyway. That is no write failure:
// failing the round would drop the frames it gathered (socketConn.round),
// the reader's close frame among them.
func (c *Conn) writeControl(typ int, data []byte) error {
	err := c.ws.WriteControl(typ, data, time.Now().Add(c.cfg.writeTimeout()))
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}

// handOver frees the room of m, handed to the socket (or given up on), now
// rather than when the batch is done, and wakes a Write that waits for it.
func (c *Conn) handOver(m *outbound) {
	c.handed.Add(int64(m.size))
	*m = outbound{}
	if c.waiters.Load() > 0 {
		c.wmu.Lock()
		c.foldLocked()
		c.wakeLocked()
		c.wmu.Unlock()
	}
}

// requeue puts the messages that a full socket did not get to back at the
// head of the queue, and keeps batch's array for the queue to reuse. The
// last frame written waits in the socket's pending buffer; it no longer
// counts against the queue: a peer that does not take it fails the
// flush's write timeout.
func (c *Conn) requeue(rest, batch []outbound) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(rest) > 0 {
		q := make([]outbound, 0, len(rest)+len(c.queue))
		q = append(append(q, rest...), c.queue...)
		clear(rest)
		c.queue = q
	}
	if c.spare == nil {
		c.spare = batch[:0]
	}
}

// writeOne writes m through gorilla, which refuses (ErrCloseSent) once a
// close frame is out, whoever sent it.
func (c *Conn) writeOne(m *outbound) error {
	c.msgsOut.Add(1)
	c.bytesOut.Add(uint64(m.size))
	if c.obs != nil {
		if m.pm != nil {
			c.obs.Message(false, m.pm.typ, m.pm.data)
		} else {
			c.obs.Message(false, m.typ, m.data)
		}
	}
	c.ws.SetWriteDeadline(time.Now().Add(c.cfg.writeTimeout()))
	if c.compress {
		c.ws.EnableWriteCompression(c.compresses(m.size))
	}
	if m.pm != nil {
		return c.ws.WritePreparedMessage(m.pm.pm)
	}
	return c.ws.WriteMessage(int(m.typ), m.data)
}

// compresses reports whether a message of size bytes is sent compressed
// when the peer negotiated compression.
func (c *Conn) compresses(size int) bool {
	return c.compress && size >= c.cfg.compressionMinSize()
}

// sentClose marks the close frame as written (err == nil) or given up on;
// the first call counts.
func (c *Conn) sentClose(err error) {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	if c.closeDone {
		return
	}
	c.closeDone, c.closeFailed = true, err != nil
	if c.closeSent != nil {
		close(c.closeSent)
	}
}

// whenCloseSent returns a channel that is closed once the close frame is
// written or writing failed (sentClose). It is made on demand: an open
// connection does not carry it.
func (c *Conn) whenCloseSent() <-chan struct{} {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	if c.closeSent == nil {
		c.closeSent = make(chan struct{})
		if c.closeDone {
			close(c.closeSent)
		}
	}
	return c.closeSent
}

// writeFailed makes a write error sticky and drops the connection: a frame
// that could not be written within the write timeout leaves the stream in
// an unknown state.
func (c *Conn) writeFailed(err error) {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() && !c.ending.Load() {
		c.markSlow() // the peer did not take one frame within the write timeout
	}
	c.endContext() // before the writes fail, as in initiateClose
	c.wmu.Lock()
	if c.werr == nil {
		c.werr = err
	}
	c.closing = true
	c.writing = false
	for _, m := range c.queue {
		c.qbytes -= m.size
	}
	c.dropped(c.lostKindLocked(), len(c.queue))
	c.foldLocked()
	clear(c.queue)
	c.queue = c.queue[:0]
	c.wakeLocked()
	c.wmu.Unlock()
	if !c.ending.Load() {
		c.logAttrs(c.ctx, slog.LevelDebug, "websocket write failed", slog.String("error", err.Error()))
	}
	c.ws.NetConn().Close()
	c.sentClose(err)
}

// flushers is the pool of goroutines that write connections' queues
// without waiting on their sockets. A broadcast to a thousand idle members
// thus costs a queue append per member and a few flusher goroutines, not a
// goroutine per member; a member whose socket is full is handed to a writer
// goroutine of its own, so that it waits for nobody else.
var flushers flushPool

// flushPool runs connections' writer roles on at most GOMAXPROCS goroutines,
// in the order the connections were pushed. A flusher starts when work
// arrives and no more than GOMAXPROCS run, and it exits when no work is
// left: the pool owns its goroutines and keeps none while idle.
type flushPool struct {
	mu      sync.Mutex
	ready   []*Conn // ready[head:] wait for a flusher
	head    int
	running int
	max     int // GOMAXPROCS when the pool last woke
}

// flushBatch is how many connections a flusher takes at a time.
const flushBatch = 8

// push queues c, whose writer role the caller took and whose goroutine
// count (hold) it added, for a flusher.
func (p *flushPool) push(c *Conn) {
	p.mu.Lock()
	p.ready = append(p.ready, c)
	if p.running == 0 {
		p.max = runtime.GOMAXPROCS(0) // read when the pool wakes, not per push
	}
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.run()
	}
}

func (p *flushPool) run() {
	var mine [flushBatch]*Conn
	for {
		p.mu.Lock()
		n := copy(mine[:], p.ready[p.head:])
		if n == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		clear(p.ready[p.head : p.head+n])
		p.head += n
		if p.head == len(p.ready) {
			p.ready, p.head = p.ready[:0], 0
		} else if p.head >= 1024 && 2*p.head >= len(p.ready) { // never empty: compact
			k := copy(p.ready, p.ready[p.head:])
			clear(p.ready[k:])
			p.ready, p.head = p.ready[:k], 0
		}
		p.mu.Unlock()
		for i, c := range mine[:n] {
			mine[i] = nil
			switch c.writeLoop(true) {
			case turnDone:
				c.wg.Done()
			case turnAgain:
				p.push(c) // keeps the role and the goroutine count
			case turnHandoff:
				go c.run(writerRole) // takes over the role and the count
			}
		}
	}
}
