package connection

import (
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Read implements Connection.
func (c *Conn) Read() ([]byte, error) {
	_, data, err := c.readNow()
	return data, err
}

// ReadMessage implements Connection.
func (c *Conn) ReadMessage(ctx context.Context) (MessageType, []byte, error) {
	if ctx.Done() == nil {
		return c.readNow()
	}
	return c.readWithin(ctx)
}

// readNow reads the next message in the caller's goroutine. It is
// readWithin without the select, whose frame an idle handler's goroutine
// would carry while it waits (see Conn.serve).
func (c *Conn) readNow() (MessageType, []byte, error) {
	if l := c.lis.Load(); l != nil && !l.inFn.Load() {
		return 0, nil, errReadListening
	}
	if m, err, ok := c.takePending(); ok {
		return m.typ, m.data, err
	}
	c.rtok <- struct{}{}
	m, err, ok := c.takePending()
	if !ok {
		m, err = c.readFrame()
	}
	<-c.rtok
	return m.typ, m.data, err
}

// readWithin returns the next message, or gives up when ctx ends: a pump
// reads, so that the caller can stop waiting while the message in flight
// is kept for the next read.
func (c *Conn) readWithin(ctx context.Context) (MessageType, []byte, error) {
	if l := c.lis.Load(); l != nil && !l.inFn.Load() {
		return 0, nil, errReadListening
	}
	done := ctx.Done()
	for {
		if m, err, ok := c.takePending(); ok {
			return m.typ, m.data, err
		}
		select {
		case c.rtok <- struct{}{}:
		case <-done:
			return 0, nil, ctxReadErr(ctx)
		}
		if m, err, ok := c.takePending(); ok {
			<-c.rtok
			return m.typ, m.data, err
		}
		// Hand the token to a pump and wait for the token again (or ctx).
		if !c.spawn(pumpRole) {
			<-c.rtok
			return 0, nil, ErrClosed
		}
	}
}

func ctxReadErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrReadTimeout
	}
	return ctx.Err()
}

// takePending returns the message a pump left, or the sticky read error.
//
// A reader that finds nothing stashed does not take rmu: whatever a pump
// stores is stashed before it hands the read token back, and a reader
// looks again once it holds the token.
func (c *Conn) takePending() (inbound, error, bool) {
	if !c.stashed.Load() {
		return inbound{}, nil, false
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.pending != nil {
		m := *c.pending
		c.pending = nil
		c.stashed.Store(c.rerr != nil)
		return m, nil, true
	}
	if c.rerr != nil {
		return inbound{}, c.rerr, true
	}
	return inbound{}, nil, false
}

// startPump starts a pump if nobody is reading and nothing is pending. A
// listening connection has its listener for that: it never starts one.
func (c *Conn) startPump() {
	if c.lis.Load() != nil {
		return
	}
	select {
	case c.rtok <- struct{}{}:
	default:
		return // someone is reading
	}
	c.rmu.Lock()
	idle := c.pending == nil && c.rerr == nil
	c.rmu.Unlock()
	if !idle || !c.spawn(idlePumpRole) {
		<-c.rtok
	}
}

// idlePump reads on behalf of a handler that is not reading: it answers
// pings and pongs and notices the peer's close, and keeps a message for
// the handler's next read. Where the poller can watch the socket (see
// Listen), it does not wait for input: with none, it gives the read side
// back and has the poller start a pump when input arrives (or the keepalive
// timer, when the peer is overdue), so that a handler that only writes, or
// only waits, costs its own goroutine and no other.
func (c *Conn) idlePump() {
	if !canPoll || c.nc == nil || c.nc.raw == nil || c.nc.gbr == nil {
		c.pump()
		return
	}
	w := c.watch.Load()
	if w == nil {
		w = &listener{c: c, watching: true}
		w.raw = c.nc.raw
		if pollJoin(w) != nil {
			w.noPoll.Store(true)
		}
		c.watch.Store(w) // only the reader, which this pump is, stores it
		// As a read would before it waits; from now on only input moves
		// the deadline (a pump that finds none must not).
		c.armKeepalive()
	}
	if w.noPoll.Load() {
		c.pump()
		return
	}
	// A pump that no resume started (the keepalive timer's, PeriodicWrite's)
	// takes the watch too: a report while it looks then fails its park.
	w.state.CompareAndSwap(parked, running)
	if c.ctx.Err() == nil {
		ready, err := c.nextInput()
		if err != nil {
			c.readFailed(err) // stores the terminal error
			<-c.rtok
			return
		}
		if !ready {
			if c.overdue() {
				// The socket's deadline fires about now: the keepalive
				// timer may have seen it first.
				c.readFailed(os.ErrDeadlineExceeded)
				<-c.rtok
				return
			}
			deadline := c.keepaliveDeadline()
			w.deadline.Store(int64(deadline))
			if !w.park() {
				c.idlePump() // input came since nextInput looked
				return
			}
			// The read side goes back after the watch parks: a report in
			// between found it taken, and started no pump (see below).
			<-c.rtok
			// As in park: the keepalive timer may have found the watch
			// running just before the deadline passed, or the poller
			// failed meanwhile (failAll found it running). Whoever takes
			// the watch back starts a pump: its poll fails on the
			// deadline, or it reads without the poller. A watch that is
			// no longer parked was resumed while this pump held the read
			// side: it starts the pump the resume could not.
			overdue := deadline > 0 && time.Since(c.start) >= deadline
			if overdue || w.noPoll.Load() {
				w.state.CompareAndSwap(parked, running)
			}
			if w.state.Load() != parked {
				c.startPump()
			}
			return
		}
	}
	c.pump()
}

// pump reads one message on behalf of whoever reads next. It is started
// holding the read token and releases it when the message (or the terminal
// error) is stored.
func (c *Conn) pump() {
	m, err := c.readFrame()
	c.rmu.Lock()
	if err == nil {
		c.pending = &m
		c.stashed.Store(true)
	}
	c.rmu.Unlock()
	<-c.rtok
}

// readFrame reads one whole message from the socket. The caller holds the
// read token and has seen no terminal error under it (only readFrame's
// reader sets one). Errors are terminal and sticky.
func (c *Conn) readFrame() (inbound, error) {
	for {
		m, dropped, err := c.readOne()
		if !dropped {
			return m, err
		}
	}
}

// readOne reads the next message, like readFrame, but returns one that the
// message rate dropped as dropped rather than reading on.
func (c *Conn) readOne() (m inbound, dropped bool, err error) {
	c.armKeepalive()
	if c.nc != nil {
		c.nc.short = false // gorilla takes whatever nextControl left
		if err := c.nc.awaitInput(); err != nil {
			return inbound{}, false, c.readFailed(err)
		}
	}
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return inbound{}, false, c.readFailed(err)
	}
	if c.nc != nil {
		c.nc.limitReads(c.cfg.wireLimit())
	}
	data, err := readLimited(r, c.cfg.readLimit())
	if c.nc != nil {
		c.nc.limitReads(-1)
	}
	if err != nil {
		return inbound{}, false, c.readFailed(err)
	}
	if c.compress && c.nc != nil {
		// A compressed message may leave the rest of its frame unread;
		// nextControl must not take that for frames. Without compression
		// a message is read to the end of its last frame.
		c.nc.inFrame = !c.nc.atFrameStart()
	}
	if typ == websocket.TextMessage && !utf8.Valid(data) {
		return inbound{}, false, c.readFailed(errInvalidUTF8)
	}
	c.msgsIn.Add(1)
	c.bytesIn.Add(uint64(len(data)))
	if c.obs != nil {
		c.obs.Message(true, MessageType(typ), data)
	}
	if c.msgRate != nil && !c.msgRate.limiter.Allow() {
		if err := c.rateLimited(); err != nil {
			return inbound{}, false, err
		}
		return inbound{}, true, nil
	}
	// Stored only when it changes: a store is a locked instruction,
	// and with one message in flight it stays false.
	if c.nc != nil {
		if more := c.nc.buffered(); more != c.moreIn.Load() {
			c.moreIn.Store(more)
		}
	}
	return inbound{typ: MessageType(typ), data: data}, false, nil
}

// rateLimitedEvent is the error event a peer gets for a message over its
// MessageRate, unless Config.RateLimitReply says otherwise; its shape is
// the event layer's error event.
var rateLimitedEvent = []byte(`{"event":"error","payload":{"code":"rate_limited","message":"message rate exceeded; the message was dropped"}}`)

// rateLimited counts a message over the rate and answers it: with an error
// event (the message is dropped, nil is returned), or by failing the
// connection with ClosePolicyViolation.
func (c *Conn) rateLimited() error {
	if c.cfg.Tracker != nil {
		c.cfg.Tracker.rateLimited.Add(1)
	}
	if c.obs != nil {
		c.obs.Dropped(DropRateLimited)
	}
	if c.msgRate.close {
		return c.readFailed(errRateLimited)
	}
	c.logAttrs(c.ctx, slog.LevelDebug, "websocket message over the rate limit dropped")
	// Queue the error without waiting: the reader must not block on a
	// peer that floods and does not read.
	pm, _ := NewPreparedMessage(TextMessage, c.msgRate.reply)
	c.Offer(pm)
	return nil
}

var (
	errInvalidUTF8 = errors.New("text message is not valid UTF-8")
	errTooBig      = errors.New("message exceeds the read limit")
	errWireTooBig  = errors.New("message exceeds the read limit on the wire")
	errRateLimited = errors.New("message rate exceeded")
)

// readBufs holds scratch buffers for reading messages whole; the message is
// then copied out at its exact size, so a read costs one allocation.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledReadBuf bounds the scratch buffers kept for reuse.
const maxPooledReadBuf = 64 << 10

// readLimited reads r whole, failing past limit bytes (which catches a
// compressed message that inflates beyond the limit).
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	bp := readBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= maxPooledReadBuf {
			*bp = buf[:0]
			readBufs.Put(bp)
		}
	}()
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errTooBig
		}
		if err == io.EOF {
			return append([]byte(nil), buf...), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readFailed turns a read error into the connection's terminal read error,
// starts the closing handshake with the right code, and cancels the
// connection's context.
func (c *Conn) readFailed(err error) error {
	var (
		wsClose  *websocket.CloseError
		netErr   net.Error
		badFrame frameError
		rerr     error
		detail   string // for the log, not for the peer
		level    = slog.LevelDebug
	)
	switch {
	case errors.As(err, &wsClose) && wsClose.Code == websocket.CloseAbnormalClosure:
		// gorilla's name for a connection that ended without a close frame.
		rerr = fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.As(err, &wsClose):
		// The peer closed; onClose has queued the answer.
		rerr = &CloseError{Code: StatusCode(wsClose.Code), Reason: wsClose.Text}
	case errors.Is(err, websocket.ErrReadLimit):
		// Frame lengths that overflow int64: gorilla has sent 1009 itself
		// and will not read on.
		rerr = &CloseError{Code: CloseMessageTooBig, Reason: "message too big"}
		detail = "frame lengths overflow"
		level = slog.LevelWarn
		c.mustDrain.Store(true)
	case errors.Is(err, errTooBig):
		rerr = &CloseError{Code: CloseMessageTooBig, Reason: "message too big"}
		detail = fmt.Sprintf("message exceeds %d bytes", c.cfg.readLimit())
		level = slog.LevelWarn
		c.canDiscard.Store(true)
	case errors.Is(err, errWireTooBig):
		// gorilla's reader failed on the socket's refusal and will not read
		// on; it sent no close frame.
		rerr = &CloseError{Code: CloseMessageTooBig, Reason: "message too big"}
		detail = fmt.Sprintf("message takes more than %d bytes on the wire", c.cfg.wireLimit())
		level = slog.LevelWarn
		c.mustDrain.Store(true)
	case errors.As(err, &badFrame):
		// socketConn refused a frame under gorilla's reader, which failed
		// on the refusal and will not read on; it sent no close frame.
		rerr = &CloseError{Code: CloseProtocolError, Reason: string(badFrame)}
		level = slog.LevelWarn
		c.mustDrain.Store(true)
	case errors.Is(err, errInvalidUTF8):
		rerr = &CloseError{Code: CloseInvalidPayload, Reason: errInvalidUTF8.Error()}
		level = slog.LevelWarn
		c.canDiscard.Store(true)
	case errors.Is(err, errRateLimited):
		rerr = &CloseError{Code: ClosePolicyViolation, Reason: errRateLimited.Error()}
		level = slog.LevelWarn
		c.canDiscard.Store(true)
	case errors.As(err, &netErr) && netErr.Timeout() && !c.ending.Load():
		rerr = fmt.Errorf("%w: peer did not answer keepalive within %v", ErrClosed, c.cfg.pongWait())
		c.initiateClose(CloseGoingAway, "keepalive timeout", true)
	case c.ending.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || c.nc != nil && c.nc.dropped(err):
		// The connection dropped: closed here, ended by the peer without a
		// close frame, or failed under us (a reset, a broken pipe, a TLS
		// record cut short).
		rerr = fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, new(flate.CorruptInputError)):
		// The inflater's, not the socket's: a compressed message whose
		// deflate data is cut short or corrupt. gorilla's reader has read
		// the frames and goes on to the next message.
		rerr = &CloseError{Code: CloseInvalidPayload, Reason: "invalid compressed data"}
		detail = err.Error()
		level = slog.LevelWarn
		c.canDiscard.Store(true)
	default:
		// A protocol violation: gorilla has sent 1002 itself.
		rerr = &CloseError{Code: CloseProtocolError, Reason: err.Error()}
		level = slog.LevelWarn
		c.mustDrain.Store(true)
	}
	var ce *CloseError
	if errors.As(rerr, &ce) {
		// A peer that broke the protocol or a limit is failed at once: what
		// is queued for it is dropped, so that the close frame goes next
		// (and when gorilla has sent a close frame itself, nothing queued
		// could follow it anyway).
		c.initiateClose(ce.Code, ce.Reason, c.mustDrain.Load() || c.canDiscard.Load())
	}
	// The context ends before the error is stored: whoever reads the
	// error (another goroutine's Read takes it from the stash) finds the
	// context done, as whoever finds the connection closing does.
	c.endContext()
	c.rmu.Lock()
	if c.rerr == nil {
		c.rerr = rerr
	}
	c.stashed.Store(true)
	rerr = c.rerr
	c.rmu.Unlock()
	attrs := []slog.Attr{slog.String("reason", rerr.Error())}
	if detail != "" {
		attrs = append(attrs, slog.String("detail", detail))
	}
	c.logAttrs(c.ctx, level, "websocket read ended", attrs...)
	return rerr
}

// onPong extends the keepalive deadline; any frame shows the peer is alive.
func (c *Conn) onPong(string) error {
	c.armKeepalive()
	return nil
}

// deadlineSlack is how stale the keepalive deadline may get before it is
// moved: a busy connection reprograms the runtime's timer at most once per
// slack, not once per message.
const deadlineSlack = time.Second

// armKeepalive moves the read deadline to the ping interval plus the pong
// wait from now. Only the reader calls it (pong handling runs inside reads),
// so armedAt needs no lock.
func (c *Conn) armKeepalive() {
	if c.cfg.pingInterval() <= 0 || c.ending.Load() {
		return
	}
	now := time.Now()
	since := max(now.Sub(c.start), 1) // monotonic; never 0, which means "not armed"
	if c.armedAt != 0 && since-c.armedAt < min(deadlineSlack, c.cfg.pongWait()/4) {
		return
	}
	c.armedAt = since
	c.ws.SetReadDeadline(now.Add(c.cfg.pingInterval() + c.cfg.pongWait()))
}
