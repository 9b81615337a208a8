package connection

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forgekit/forge/internal/connhook"
)

// ErrListening is what Listen returns for the handler to return: it is not
// a failure, but the sign that the handler handed its reads over (see
// Connection.Listen). Code that wraps handlers passes it through and must
// not take the handler's return for the end of the connection.
var ErrListening = errors.New("forge: connection handed to its listener")

var errReadListening = errors.New("forge: read on a connection that has a listener (see Listen)")

// listener is the state of a connection whose handler called Listen.
//
// Between messages a listening connection parks: no goroutine waits for its
// input. The poller resumes it when input arrives (in a worker, or in its
// own goroutine; see poller.run), as do the end of its context (a close
// from either side, Shutdown) and the keepalive timer when the peer's
// answer is overdue. state decides who resumes it: only the one that swaps
// parked for running runs it (or starts the goroutine that does), so at
// most one runs at a time, and one that finds nothing to do parks again.
// While it is listening, the connection's read token stays taken, parked
// or not, so that no pump reads behind its back.
type listener struct {
	c        *Conn
	fn       func(MessageType, []byte) error
	onEnd    func(error)  // OnListenEnd's; nil without
	watching bool         // an idle pump's watch, not a listener (see Conn.idlePump)
	state    atomic.Int32 // running, parked or notified
	noPoll   atomic.Bool  // read in a goroutine of its own (no poller, or it failed)
	inFn     atomic.Bool  // fn is running, and the read side is free for Read (see deliver)
	slow     atomic.Int64 // until when (pollClock) the poller leaves it to workers: it ran past inlineBudget in the poller's goroutine

	// For the keepalive timer (see Conn.tick), as durations since the
	// connection's start.
	deadline atomic.Int64 // when a parked connection's peer is overdue; 0: not parked yet
	pingAt   atomic.Int64 // when the next ping is due

	// The poller's registration (see poller_linux.go), set before the
	// first park.
	raw  syscall.RawConn
	reg  uint64 // registration number; 0: not registered
	epfd int
	w    *workers // the poller's; nil without one
}

const (
	running  int32 = iota
	parked         // no goroutine runs it: a resume starts one
	notified       // running, and input came since its last read (see notify)
)

// A ListenOption configures Listen.
type ListenOption func(*listener)

// OnListenEnd has Listen call fn once, when the connection ends, with what
// ended it: a callback's error, or the read's (a *CloseError the peer
// sent, an error wrapping ErrClosed, ...; nil when the connection's
// context ended, by Close or Shutdown), or the handler's own error when it
// called Listen and then returned another. It is what a handler that reads
// would run in its defers, which in a handler that returns Listen's result
// run at once: fn runs in the connection's goroutine after the last
// callback returned, before the closing handshake, and the connection
// waits for it. A panic in fn is recovered and logged, and closes with
// CloseInternalError.
func OnListenEnd(fn func(err error)) ListenOption {
	return func(l *listener) { l.onEnd = fn }
}

// Listen implements Connection.
func (c *Conn) Listen(fn func(typ MessageType, data []byte) error, opts ...ListenOption) error {
	if fn == nil {
		return errors.New("forge: Listen: nil callback")
	}
	l := &listener{c: c, fn: fn}
	for _, o := range opts {
		o(l)
	}
	if !c.lis.CompareAndSwap(nil, l) {
		return errors.New("forge: Listen called twice")
	}
	return ErrListening
}

// ListenJSON is Listen for JSON messages: each message is decoded into a
// new T, as ReadJSON would decode it (validated first against the route's
// declared inbound schema when T is that type), and handed to fn. A
// message that does not decode closes the connection with
// CloseInvalidPayload, as a handler that returns ReadJSON's *DecodeError
// does; to answer it and go on instead, decode in a Listen callback.
func ListenJSON[T any](conn Connection, fn func(*T) error, opts ...ListenOption) error {
	return conn.Listen(func(_ MessageType, data []byte) error {
		v := new(T)
		if c, ok := conn.(*Conn); ok {
			if err := c.decodeJSON(data, v); err != nil {
				return err
			}
		} else if err := json.Unmarshal(data, v); err != nil {
			return &DecodeError{Err: err}
		}
		return fn(v)
	}, opts...)
}

// listen runs the connection once its handler returned ErrListening: it
// takes the read side for good, then reads and delivers messages until the
// connection ends or it parks. It runs in the connection's goroutine.
func (c *Conn) listen(l *listener) {
	// A pump may be reading (the handler waited past pumpGrace before it
	// called Listen); what it reads is delivered first.
	c.rtok <- struct{}{}
	w := c.watch.Swap(nil)
	switch {
	case w != nil && pollHandOver(w, l):
		// The listener takes the watch's registration over: reports from
		// now on resume the listener (an idle pump late to park the watch
		// changes nothing). A report before the hand-over went to the
		// watch: the listener reads before it first parks.
		c.nc.drained = false
	case canPoll && c.nc != nil && c.nc.raw != nil && c.nc.gbr != nil:
		if w != nil {
			pollLeave(w) // it could not join, or the poller failed under it
		}
		l.raw = c.nc.raw
		if pollJoin(l) != nil {
			l.noPoll.Store(true)
		}
	default:
		l.noPoll.Store(true)
	}
	c.armKeepalive() // as a read would, before it waits
	c.listenLoop(l, false)
}

// endContext ends the connection's context and resumes a parked
// listener, so that it runs the closing handshake. Every end of the
// context goes through it.
func (c *Conn) endContext() {
	c.cancel()
	// Under gmu, so that a concurrent end returns only once the hooks
	// have run, as a second cancel of a parent context returns only once
	// the first has cancelled its children.
	c.gmu.Lock()
	for h := c.ends.Swap(endsRan); h != nil && h != endsRan; h = h.next {
		h.f()
	}
	c.gmu.Unlock()
	if l := c.lis.Load(); l != nil {
		l.resume()
	}
}

// endHook is one function afterEnd registered, in a list of them.
type endHook struct {
	f    func()
	next *endHook
}

// endsRan marks a connection whose context has ended: its hooks ran, and
// afterEnd runs new ones at once.
var endsRan = &endHook{}

func init() { connhook.AfterEnd = afterEnd }

// afterEnd is connhook.AfterEnd (see there): it keeps f in the list that
// endContext runs.
func afterEnd(conn any, f func()) bool {
	c, ok := conn.(*Conn)
	if !ok {
		return false
	}
	h := &endHook{f: f}
	for {
		next := c.ends.Load()
		if next == endsRan {
			f()
			return true
		}
		h.next = next
		if c.ends.CompareAndSwap(next, h) {
			return true
		}
	}
}

// resume runs a parked connection in a goroutine, unless it is running
// already: in an idle worker of the poller's, or in a new goroutine that
// becomes one. The end of the context and the keepalive timer resume;
// the poller notifies.
func (l *listener) resume() {
	if l.state.CompareAndSwap(parked, running) {
		l.run()
	}
}

// notify is the poller's report that input came (or the peer ended or
// failed): a parked connection is resumed, and a running one marked so
// that it reads again before it parks (see park). The socket is watched
// edge-triggered: the report came once, for input its last read did not
// see, and no other will come for it.
func (l *listener) notify() {
	for {
		switch l.state.Load() {
		case parked:
			if l.state.CompareAndSwap(parked, running) {
				l.run()
				return
			}
		case running:
			if l.state.CompareAndSwap(running, notified) {
				return
			}
		default: // notified already
			return
		}
	}
}

// park marks a running listener parked and reports true, unless input
// came since its last read (notify): it then stays running and reports
// false.
func (l *listener) park() bool {
	if l.state.CompareAndSwap(running, parked) {
		return true
	}
	l.state.Store(running) // notified: only the runner changes that
	return false
}

// run runs a listener that was parked, which the caller resumed, or one
// that the poller's goroutine ran and hands on, running or notified (see
// listenLoop): in a worker, or a pump for a watch.
func (l *listener) run() {
	if l.watching {
		l.c.startPump() // never waits
		return
	}
	if w := l.w; w != nil {
		select {
		case w.work <- l:
			return
		default:
		}
	}
	go l.w.run(l)
}

// workers are the goroutines that run resumed listeners. A goroutine that
// parked its connection waits a while for another to run before it ends,
// so that a busy server does not start a goroutine per message, each of
// which would grow its stack anew on the way to the socket. They belong
// to a poller and end with it, or after workerIdle without work.
type workers struct {
	work chan *listener // unbuffered: a send succeeds only to an idle worker
	quit chan struct{}  // closed when the poller ends
}

// workerIdle is how long a worker waits for another listener to run.
const workerIdle = time.Second

func newWorkers() *workers {
	return &workers{work: make(chan *listener), quit: make(chan struct{})}
}

// run runs l, then, with w (nil without a poller), other listeners until
// it has none for workerIdle.
func (w *workers) run(l *listener) {
	l.c.listenLoop(l, false)
	if w == nil {
		return
	}
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case l := <-w.work:
			l.c.listenLoop(l, false)
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		case <-w.quit:
			return
		}
	}
}

// listenLoop reads and delivers messages until the connection ends, or
// until it parks with nothing to read (its goroutine then ends). The
// caller holds the read token and the running state.
//
// inline is the poller's goroutine running the connection (see
// poller.run): it delivers what one read brought and then parks the
// connection if that read left the socket empty, as with one that sends
// now and then, or hands it to a worker if more may be there, so that a
// busy connection does not keep the poller from the others' reports.
func (c *Conn) listenLoop(l *listener, inline bool) {
	served := false
	for {
		if inline && served && !c.nc.drained && !c.nc.buffered() && !c.stashed.Load() {
			l.run() // a worker goes on from here
			return
		}
		if c.ctx.Err() != nil {
			// A read that ended the context (a pump's, or a callback's)
			// says what ended the connection; Close and Shutdown leave
			// none.
			c.rmu.Lock()
			err := c.rerr
			c.rmu.Unlock()
			c.endListening(l, err)
			return
		}
		if m, err, ok := c.takePending(); ok {
			if err != nil {
				c.endListening(l, err)
				return
			}
			if err := c.deliver(l, m); err != nil {
				c.endListeningFree(l, err)
				return
			}
			served = true
			c.armKeepalive() // see below
			continue
		}
		if !l.noPoll.Load() {
			var (
				ready bool
				err   error
			)
			if c.nc.drained && !c.nc.buffered() {
				// The last read left the socket empty: the poller reports
				// input that came since (park), so a read that would most
				// likely find none is saved. Once: the next look reads.
				c.nc.drained = false
			} else if ready, err = c.nextInput(); err != nil {
				c.endListening(l, c.readFailed(err))
				return
			}
			if !ready {
				if c.overdue() {
					// The socket's deadline fires about now: the
					// keepalive timer may have seen it first.
					c.endListening(l, c.readFailed(os.ErrDeadlineExceeded))
					return
				}
				if c.park(l) {
					return
				}
				continue
			}
		}
		m, dropped, err := c.readOne()
		if err != nil {
			c.endListening(l, err)
			return
		}
		if !dropped {
			if err := c.deliver(l, m); err != nil {
				c.endListeningFree(l, err)
				return
			}
		}
		served = true // a dropped message too: a flood of them hands on as well
		// The callback may have run past the deadline while the peer's
		// pongs waited in the socket: as a read after it would, the next
		// poll gives the peer a full window.
		c.armKeepalive()
	}
}

// nextInput reads the input there is without waiting, and answers the
// whole pings and pongs at its start itself: gorilla's reader, once it has
// handled one, waits in the socket for the next frame. It reports whether
// a data or close frame (or part of one) is there for readOne; false means
// there is no input: the caller may park. An error is the socket's: the
// peer ended or failed, or the keepalive deadline passed (readOne would
// move the deadline before it read). Only the reader calls it, between
// messages, where the poller can watch the socket.
func (c *Conn) nextInput() (ready bool, err error) {
	for {
		// Wait for input, unless some is held: a frame for nextControl or
		// gorilla's reader, or only the start of a ping or pong, whose
		// rest is polled for here (short).
		if !c.nc.buffered() || c.nc.short {
			got, err := c.nc.poll()
			if err != nil || !got {
				return false, err
			}
			// Input shows the peer is alive. Only input moves the
			// deadline: a resume that finds none, the keepalive timer's
			// at the deadline among them, must not.
			c.armKeepalive()
		}
		op, p, ok := c.nc.nextControl()
		if !ok && !c.nc.short {
			return true, nil
		}
		if ok && op == websocketPing {
			c.onPing(string(p))
		}
	}
}

// park leaves the connection parked and reports true, unless it must run
// on: input came since its last read (the poller notified it while it
// ran), its context ended, the poller failed (failAll), or the keepalive
// deadline passed. The caller's last read left the socket empty: the
// poller, which watches it edge-triggered, reports any input after it.
// The context, the poller's failure and the deadline are checked after
// the state says parked: whoever changed them before found the connection
// running, and left it to run on. (Closing the socket is always followed
// by the context's end.) After park returns true, the caller must not
// touch the connection: another goroutine may be running it already.
func (c *Conn) park(l *listener) bool {
	// The runner that resumes the connection reads: the poller's report
	// that resumed it was the only one for input that came since the last
	// read, which the skip in listenLoop would leave waiting.
	c.nc.drained = false
	deadline := c.keepaliveDeadline()
	l.deadline.Store(int64(deadline))
	if !l.park() {
		return false
	}
	// From here on, only what another runner does not change is read
	// (not armedAt, which it may be moving already).
	overdue := deadline > 0 && time.Since(c.start) >= deadline
	if c.ctx.Err() == nil && !l.noPoll.Load() && !overdue {
		return true
	}
	// Whoever swaps the state back runs the connection: this goroutine, or
	// a resume that came first.
	return !l.state.CompareAndSwap(parked, running)
}

// keepaliveDeadline is when the peer is overdue, as a duration since the
// connection's start, as the keepalive timer sees it (see
// listener.keepaliveCheck); 0 without keepalive. Only the reader calls
// it: armedAt is the reader's.
func (c *Conn) keepaliveDeadline() time.Duration {
	if c.cfg.pingInterval() <= 0 {
		return 0
	}
	return c.armedAt + c.cfg.pingInterval() + c.cfg.pongWait()
}

// overdue reports whether the peer's keepalive deadline has passed. Only
// the reader calls it.
func (c *Conn) overdue() bool {
	d := c.keepaliveDeadline()
	return d > 0 && c.armedAt != 0 && time.Since(c.start) >= d
}

// deliver calls the listener's callback, turning a panic into an error.
// While the callback runs, the read side is free: Read and ReadMessage,
// called from the callback or from another goroutine meanwhile, take the
// next messages (an event dispatcher waiting for a client's reply inside
// a handler does), and the listener goes on once they are done. After a
// callback's error it does not take the read side back: a pump left by a
// read that gave up may wait for the peer, and the closing handshake,
// which the error starts, must not wait for it (see endListeningFree).
func (c *Conn) deliver(l *listener, m inbound) (err error) {
	l.inFn.Store(true)
	<-c.rtok
	defer func() {
		l.inFn.Store(false)
		if p := recover(); p != nil {
			c.logAttrs(c.ctx, slog.LevelError, "websocket listener panicked",
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = errPanicked
		}
		if err == nil {
			c.rtok <- struct{}{}
		}
	}()
	return l.fn(m.typ, m.data)
}

// endListening gives the read side back and closes the connection as a
// handler's result would.
func (c *Conn) endListening(l *listener, err error) {
	<-c.rtok
	c.endListeningFree(l, err)
}

// endListeningFree is endListening after a callback's error: deliver
// gave the read side up already, and the closing handshake takes it as
// for a handler that returned.
func (c *Conn) endListeningFree(l *listener, err error) {
	pollLeave(l)
	c.end(c.runOnEnd(l, err))
}

// runOnEnd runs OnListenEnd's function, if any, with err, as a handler's
// defers would run, and returns err, or the error of a panic in it.
func (c *Conn) runOnEnd(l *listener, err error) error {
	if fn := l.onEnd; fn != nil {
		return c.runHandler(func(*Conn) error { fn(err); return err })
	}
	return err
}

// keepaliveCheck is tick's part for a listening connection: it resumes a
// parked one whose peer is overdue (its next read then fails with the
// read deadline, which closes it as a keepalive timeout would), and says
// when the timer should fire next and whether a ping is due now. Without
// a goroutine blocked in a read, the read deadline alone would not be
// noticed, so the timer fires at the deadline too when it comes before
// the next ping.
func (l *listener) keepaliveCheck(now, interval time.Duration) (ping bool, next time.Duration) {
	deadline := time.Duration(l.deadline.Load())
	if deadline > 0 && now >= deadline && l.state.Load() == parked {
		l.resume()
	}
	pingAt := time.Duration(l.pingAt.Load())
	if ping = now >= pingAt; ping {
		pingAt = now + interval
		l.pingAt.Store(int64(pingAt))
	}
	next = pingAt - now
	if deadline > now {
		next = min(next, deadline-now)
	}
	return ping, max(next, time.Millisecond)
}
