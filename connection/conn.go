package connection

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/payload"
	"github.com/forgekit/forge/internal/problem"
	"golang.org/x/time/rate"
)

// Conn is forge's implementation of Connection on gorilla/websocket.
//
// Concurrency: one holder of the writer role at a time owns every frame
// written to the socket, control frames included. A Write with nothing
// queued takes the role in the caller's goroutine and writes inline.
// Otherwise the role goes to one of a few shared flusher goroutines (see
// flushPool), which write the queue without ever waiting on the socket; a
// socket that does not take everything at once gets a writer goroutine of
// its own until it is drained, and so does a connection over TLS. One reader
// at a time owns the read side: the goroutine calling Read, or a
// short-lived pump goroutine that reads on behalf of a handler that is not
// reading (to answer pings and notice the peer's close) or of a read with a
// deadline. On Linux, where the poller of listening connections (see
// Listen) can watch the socket (not over TLS, nor with an Upgrader that
// sets ReadBufferSize), the pump of a handler that is not reading does not
// wait for input either: the poller starts one when input arrives. An idle
// connection there costs its handler's goroutine and nothing more (but for
// the pump of a ReadMessage whose context ended, which waits for the next
// message), and one whose handler listens costs no goroutine.
//
// Every ping is answered with its own pong, in order, ahead of queued
// messages. Under pressure (a peer that pings faster than its socket takes
// the pongs) at most maxPendingPongs pongs wait; past that, the newest
// ping's answer replaces the last one waiting, as RFC 6455 §5.5.3 allows, so
// a ping flood costs a few kilobytes at most and its last ping is still
// answered.
type Conn struct {
	ws     *websocket.Conn
	nc     *socketConn // under ws; nil when gorilla was handed another net.Conn
	id     string
	cfg    *Config                     // the route's, shared by its connections and never changed
	idLog  atomic.Pointer[slog.Logger] // cfg's logger with the connection's ID, made by the first record
	ctx    context.Context
	cancel context.CancelFunc

	inbound  reflect.Type // pointer to Config.Inbound's type; nil when undeclared
	compress bool         // compression enabled for the route (see withDeflateOffers for the negotiation)

	// Read side.
	rtok              chan struct{}            // capacity 1; holding a token means owning ws's reader
	lis               atomic.Pointer[listener] // set by Listen
	watch             atomic.Pointer[listener] // set by the first idle pump that watches (see idlePump)
	rmu               sync.Mutex
	pending           *inbound                // guarded by rmu; read by the pump, not yet delivered
	rerr              error                   // guarded by rmu; sticky terminal read error
	stashed           atomic.Bool             // pending != nil || rerr != nil; set under rmu, lets reads skip it
	moreIn            atomic.Bool             // the reader holds input past the message it returned last (see enqueue)
	armedAt           time.Duration           // owned by the reader; when the keepalive deadline was last moved, since start; 0: never
	msgRate           *msgRate                // nil without a MessageRate; used by the reader
	msgsIn, bytesIn   atomic.Uint64           // added to by the reader; read by Info
	msgsOut, bytesOut atomic.Uint64           // added to by the writer role; read by Info
	obs               ConnObserver            // nil unless the Tracker has an Observer
	ends              atomic.Pointer[endHook] // what runs when the context ends (see afterEnd)
	start             time.Time
	closeReason       string // guarded by wmu

	// Write side.
	wmu       sync.Mutex
	queue     []outbound    // guarded by wmu; waiting to be written
	spare     []outbound    // guarded by wmu; the writer's drained batch, reused
	qbytes    int           // guarded by wmu; payload bytes in queue and in the writer's hands, handed included
	handed    atomic.Int64  // bytes of qbytes the writer handed to the socket since it last folded them (foldLocked)
	space     chan struct{} // guarded by wmu; closed when room frees, nil without waiters
	pongs     [][]byte      // guarded by wmu; payloads of unanswered pings, oldest first, at most maxPendingPongs
	writing   bool          // guarded by wmu; the writer role is held
	pingDue   bool          // guarded by wmu
	closing   bool          // guarded by wmu; no more data is accepted
	slow      bool          // guarded by wmu; closed as a slow consumer
	waiters   atomic.Int32  // writers waiting for room; the writer then frees it message by message
	closeMsg  []byte        // guarded by wmu; the close frame to send after the queue
	closeCode StatusCode    // guarded by wmu; the code of the close frame, once chosen
	werr      error         // guarded by wmu; sticky writer failure

	ending     atomic.Bool // the closing handshake has begun; keepalive stands down
	peerClosed atomic.Bool // the peer's close frame arrived
	mustDrain  atomic.Bool // gorilla's reader failed mid-stream; drain the socket before closing
	canDiscard atomic.Bool // forge refused a message; gorilla's reader still works

	// Goroutines: writer and pump. done stops new ones before wg.Wait.
	gmu sync.Mutex

	closeSent   chan struct{} // guarded by gmu; made by the first waiter (whenCloseSent), closed by sentClose
	done        bool          // guarded by gmu
	closeDone   bool          // guarded by gmu; the close frame was written, or writing failed
	closeFailed bool          // guarded by gmu; writing failed
	wg          sync.WaitGroup

	tickAt   *tickBucket // guarded by ticks().mu; where the next tick waits (see scheduleTick)
	tickIdx  int32       // guarded by ticks().mu; c's entry in tickAt
	ownTicks *tickTable  // the table of c's ticks when cfg has no Tracker (see ticks)
}

var _ Connection = (*Conn)(nil)

// msgRate is a connection's MessageRate, made only for a route that sets
// one, so that the others do not carry its fields.
type msgRate struct {
	limiter *rate.Limiter
	reply   []byte // what a message over the rate is answered with
	close   bool   // a message over the rate fails the connection instead
}

type inbound struct {
	typ  MessageType
	data []byte
}

// writeBufferPool lends write buffers to connections only while they write,
// so an idle connection holds none.
var writeBufferPool sync.Pool

// Serve upgrades r to a WebSocket connection and runs h on it in a new
// goroutine, then returns. A refused handshake is answered with an HTTP
// error before any upgrade (426 for a request that is not a WebSocket
// handshake, 403 for a foreign origin, 400 for a missing required
// subprotocol, 503 during shutdown) and h is not called.
//
// The connection keeps cfg, which must not change while a connection it
// served is open: a route's connections share their settings rather than
// each holding a copy.
//
// The request's context ends when Serve returns; h gets the connection's
// own context (Conn.Context), which keeps the request's values. Anything h
// needs from a pooled per-request structure (chi's route context) must be
// copied before Serve is called. The goroutine is owned by cfg.Tracker:
// Tracker.Shutdown waits for it, and it ends once h returned, the queue was
// flushed, the closing handshake completed or timed out, and every other
// goroutine of the connection is gone.
//
// h's result picks the close code: nil closes with CloseNormal; an error
// carrying a *CloseError closes with its code; a *DecodeError with
// CloseInvalidPayload and the reason "invalid JSON", or "invalid message"
// for a message that breaks the schema of Config.Inbound (the details are
// logged); any other error with CloseInternalError, and it is logged. An
// error that only reports the end of the connection (the peer closed it,
// or it dropped) ends it normally. A panic in h is recovered,
// logged, and closes with CloseInternalError.
func Serve(w http.ResponseWriter, r *http.Request, cfg *Config, h func(*Conn) error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := accept(w, r, cfg)
	if c == nil {
		return
	}
	c.begin()
	// The connection outlives the HTTP handler: ServeHTTP returns now, so
	// net/http releases its per-request state (its deep goroutine stack and
	// write buffer) and an idle connection costs a small goroutine and its
	// buffers. The goroutine is owned by the Tracker, whose Shutdown waits
	// for it.
	go c.serve(h)
}

// accept checks and upgrades the handshake; it returns nil after answering
// a refusal.
func accept(w http.ResponseWriter, r *http.Request, cfg *Config) *Conn {
	log := cfg.logger()
	var began time.Time
	if cfg.Tracker.observer() != nil {
		began = time.Now()
	}
	refuse := func(why Refusal, status int, detail string) *Conn {
		cfg.Tracker.Refuse(cfg.Route, why)
		log.LogAttrs(r.Context(), slog.LevelDebug, "websocket handshake refused",
			slog.Int("status", status), slog.String("detail", detail), slog.String("path", r.URL.Path))
		writeProblem(w, status, detail)
		return nil
	}
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		return refuse(RefusedBadRequest, http.StatusUpgradeRequired,
			"this route accepts WebSocket connections only: send a GET with Upgrade: websocket and Connection: Upgrade")
	}
	up := websocket.Upgrader{
		WriteBufferPool:   &writeBufferPool,
		EnableCompression: cfg.Compression,
		Subprotocols:      cfg.Subprotocols,
	}
	if cfg.Upgrader != nil {
		up = *cfg.Upgrader
	}
	if up.CheckOrigin == nil {
		if !originAllowed(r, cfg.Origins) {
			return refuse(RefusedOrigin, http.StatusForbidden, fmt.Sprintf("origin %q is not allowed", r.Header.Get("Origin")))
		}
		up.CheckOrigin = func(*http.Request) bool { return true }
	}
	if cfg.RequireSubprotocol && len(up.Subprotocols) > 0 && !offersAny(r, up.Subprotocols) {
		return refuse(RefusedBadRequest, http.StatusBadRequest, fmt.Sprintf(
			"this route requires a subprotocol: offer one of %s in Sec-WebSocket-Protocol", strings.Join(up.Subprotocols, ", ")))
	}
	if !cfg.Tracker.admit() {
		w.Header().Set("Retry-After", "1")
		return refuse(RefusedShutdown, http.StatusServiceUnavailable, "server is shutting down")
	}
	up.Error = func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		cfg.Tracker.Refuse(cfg.Route, RefusedBadRequest)
		writeProblem(w, status, reason.Error())
	}
	upr := r
	if up.EnableCompression {
		upr = withDeflateOffers(r)
	}
	hj := &hijacker{ResponseWriter: w, slack: min(deadlineSlack, cfg.writeTimeout()/4), ownReader: up.ReadBufferSize == 0}
	ws, err := up.Upgrade(hj, upr, nil)
	if err != nil {
		// Upgrade has answered (or the client spoke too early and the
		// connection is gone); nothing else to do.
		cfg.Tracker.release()
		log.LogAttrs(r.Context(), slog.LevelDebug, "websocket upgrade failed", slog.String("error", err.Error()))
		return nil
	}
	c := newConn(ws, r, cfg)
	if o := cfg.Tracker.observer(); o != nil {
		c.obs = o.Opened(c, OpenInfo{Route: cfg.Route, Policy: cfg.SlowConsumer, Handshake: time.Since(began)})
	}
	return c
}

func offersAny(r *http.Request, protos []string) bool {
	for _, offered := range websocket.Subprotocols(r) {
		for _, p := range protos {
			if offered == p {
				return true
			}
		}
	}
	return false
}

func newConn(ws *websocket.Conn, r *http.Request, cfg *Config) *Conn {
	id := "ws_" + rand.Text()
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &Conn{
		ws:     ws,
		id:     id,
		cfg:    cfg,
		ctx:    ctx,
		cancel: cancel,
		rtok:   make(chan struct{}, 1),
	}
	if cfg.Tracker == nil {
		c.ownTicks = new(tickTable)
	}
	// gorilla compresses every message once deflate is negotiated; forge
	// decides per message (setting it without negotiation is harmless).
	c.nc, _ = ws.NetConn().(*socketConn)
	c.compress = cfg.Compression || (cfg.Upgrader != nil && cfg.Upgrader.EnableCompression)
	ws.EnableWriteCompression(false)
	if cfg.MessageRate > 0 {
		c.msgRate = &msgRate{
			limiter: rate.NewLimiter(rate.Limit(cfg.MessageRate), max(cfg.MessageBurst, 1)),
			reply:   rateLimitedEvent,
			close:   cfg.RateLimitClose,
		}
		if cfg.RateLimitReply != nil {
			c.msgRate.reply = cfg.RateLimitReply
		}
	}
	if cfg.Inbound != nil {
		t := reflect.TypeOf(cfg.Inbound)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		c.inbound = reflect.PointerTo(t)
	}
	c.start = time.Now()
	// gorilla's own read limit stays off: gorilla would answer an oversized
	// frame with a bare 1009 and stop reading for good, so the peer's
	// answering close frame could not be recognized and the closing
	// handshake would sit out the close timeout. readLimited enforces the
	// limit instead, and gorilla's reader skips the rest of the message.
	ws.SetPingHandler(c.onPing)
	ws.SetPongHandler(c.onPong)
	ws.SetCloseHandler(c.onClose)
	return c
}

// serve is the connection's goroutine: it runs the handler, then ends the
// connection or hands it to its listener.
//
// The goroutine is kept small: what comes before the handler (begin) runs
// in the goroutine that upgraded the connection, and what comes after it
// (after) in a function of its own, so that the handler runs on top of a
// small frame. An idle handler blocked in Read or waiting for its context
// then waits within the 2 KiB of stack that a goroutine starts with; a
// goroutine whose stack grew keeps 4 KiB while it waits, as the runtime
// halves a stack only when less than a quarter of it is in use, counting
// 800 bytes it reserves.
func (c *Conn) serve(h func(*Conn) error) {
	c.after(c.runHandler(h))
}

// begin registers the connection, schedules its first tick and arms the
// read deadline that the handler's first read would arm (the runtime's
// timer code is deep enough to grow a goroutine's stack).
func (c *Conn) begin() {
	c.armKeepalive()
	c.cfg.Tracker.add(c)
	c.logAttrs(c.ctx, slog.LevelDebug, "websocket connected",
		slog.String("remote_addr", c.RemoteAddr()), slog.String("subprotocol", c.ws.Subprotocol()))
	// The first tick comes soon: if the handler is not reading by then (it
	// only writes, or waits on the context), a pump starts so that pings
	// are answered and the peer's close is noticed. A handler that reads
	// holds the read side already, and the tick leaves it alone; no
	// goroutine is spent on connections whose handler reads.
	c.gmu.Lock()
	c.scheduleTick(pumpGrace, true)
	c.gmu.Unlock()
}

// after ends the connection once its handler returned err, or hands it
// to its listener.
func (c *Conn) after(err error) {
	if l := c.lis.Load(); l != nil {
		if errors.Is(err, ErrListening) {
			c.listen(l)
			return
		}
		// The handler failed after it called Listen: the connection ends
		// now, and OnListenEnd's function runs as the handler's defers
		// would have.
		err = c.runOnEnd(l, err)
	}
	c.end(err)
}

// end closes the connection as the handler's result err says and releases
// it: the last thing its goroutine does.
func (c *Conn) end(err error) {
	defer c.cfg.Tracker.release()
	defer c.cfg.Tracker.remove(c)
	code, reason := c.closeCodeFor(err)
	c.finish(code, reason)
	info := c.sessionInfo()
	c.logAttrs(context.Background(), slog.LevelDebug, "websocket closed", slog.Int("code", int(info.Code)))
	observers := observersFrom(c.ctx)
	for i := len(observers) - 1; i >= 0; i-- {
		observers[i](info)
	}
	if c.obs != nil {
		c.obs.Closed(info)
	}
}

// runHandler calls h, turning a panic into an error.
func (c *Conn) runHandler(h func(*Conn) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.logAttrs(c.ctx, slog.LevelError, "websocket handler panicked",
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = errPanicked
		}
	}()
	return h(c)
}

// errPanicked is what runHandler returns for a panic, which it logged.
var errPanicked = &CloseError{Code: CloseInternalError, Reason: "internal error"}

// closeCodeFor maps a handler's result to a close code, logging server
// faults. This is the one place where handler errors become close codes.
func (c *Conn) closeCodeFor(err error) (StatusCode, string) {
	if err == nil {
		return CloseNormal, ""
	}
	if c.isEndOfConn(err) {
		c.logAttrs(c.ctx, slog.LevelDebug, "websocket ended", slog.String("reason", err.Error()))
		return CloseNormal, ""
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		if (ce.Code >= 1011 || ce.Code == CloseInternalError) && ce != errPanicked {
			c.logAttrs(c.ctx, slog.LevelError, "websocket handler failed", slog.String("error", err.Error()))
		}
		return ce.Code, ce.Reason
	}
	var de *DecodeError
	if errors.As(err, &de) {
		// encoding/json's text names Go types and fields: it is for the
		// log, not for the peer.
		c.logAttrs(c.ctx, slog.LevelWarn, "websocket message rejected", slog.String("error", err.Error()))
		if pe := (*payload.Error)(nil); errors.As(de.Err, &pe) {
			return CloseInvalidPayload, "invalid message"
		}
		return CloseInvalidPayload, "invalid JSON"
	}
	c.logAttrs(c.ctx, slog.LevelError, "websocket handler failed", slog.String("error", err.Error()))
	return CloseInternalError, "internal error"
}

// isEndOfConn reports whether err only says that the connection is over:
// the read side's terminal error, or ErrClosed.
func (c *Conn) isEndOfConn(err error) bool {
	if errors.Is(err, ErrClosed) || errors.Is(err, ErrSlowConsumer) {
		return true
	}
	c.rmu.Lock()
	rerr := c.rerr
	c.rmu.Unlock()
	return rerr != nil && errors.Is(err, rerr)
}

// finish runs the closing handshake and releases everything: it flushes the
// queue and sends the close frame (bounded by the write timeout), waits for
// the peer's close frame (bounded by the close timeout) so that the peer
// sees our code rather than a reset, then closes the socket and waits for
// the connection's goroutines.
func (c *Conn) finish(code StatusCode, reason string) {
	c.initiateClose(code, reason, false)

	t := time.NewTimer(c.cfg.writeTimeout())
	sent := c.whenCloseSent()
	select {
	case <-sent:
	case <-t.C:
		c.abort()
		<-sent
	}
	t.Stop()

	c.ending.Store(true)
	netConn := c.ws.NetConn()
	netConn.SetReadDeadline(time.Now().Add(c.cfg.closeTimeout()))
	select {
	case c.rtok <- struct{}{}:
	case <-time.After(c.cfg.closeTimeout()):
		// A reader re-armed its keepalive deadline just before ending was
		// set; cut it short.
		netConn.SetReadDeadline(time.Now())
		c.rtok <- struct{}{}
	}
	c.rmu.Lock()
	rerr := c.rerr
	c.rmu.Unlock()
	switch {
	case c.peerClosed.Load():
		// The peer closed first; its close frame has been answered.
	case rerr == nil || c.canDiscard.Load():
		// Discard data until the peer's close frame (or the deadline).
		for {
			if _, _, err := c.ws.NextReader(); err != nil {
				break
			}
		}
		if !c.peerClosed.Load() {
			// The peer did not answer (in time): closing now, with its
			// input unread or still arriving, would reset the connection
			// and could discard the close frame before it reads it.
			// Half-close and drain briefly instead, as for a failed peer.
			c.fail(netConn)
		}
	case c.mustDrain.Load():
		// gorilla's reader failed for good (a protocol error, frame
		// lengths that overflow): its close frame is out, and the peer's
		// answer could not be read. RFC 6455 §7.1.7: fail the connection.
		c.fail(netConn)
	}
	<-c.rtok

	c.gmu.Lock()
	c.done = true
	c.cancelTick()
	c.gmu.Unlock()
	c.ws.Close()
	c.endContext()
	c.wg.Wait()
	// After the wait: a pump that began just before done was set may have
	// registered the watch. The socket is closed, so the poller's interest
	// in it is gone already.
	if w := c.watch.Load(); w != nil {
		pollLeave(w)
	}
}

// failLinger bounds how long a failed connection discards its input once
// the server's side is shut down: a peer that read the close frame and the
// end of the stream closes at once, and one that does not is not waited for.
const failLinger = time.Second

// fail ends a connection whose reader is dead, after the close frame went
// out: there is nothing more to read, so nothing is waited for. Shutting
// down the writing side first has the peer read the close frame, then the
// end of the stream; the input that still arrives is discarded for a
// moment (failLinger at most), so that closing with unread input does not
// reset the connection under the peer's feet. Without a half-close, the
// socket is closed at once.
func (c *Conn) fail(nc net.Conn) {
	cw, ok := nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if c.nc != nil {
		c.nc.frames.off = true // what is discarded need not be checked
	}
	nc.SetReadDeadline(time.Now().Add(min(c.cfg.closeTimeout(), failLinger)))
	drain(nc)
}

func drain(r interface{ Read([]byte) (int, error) }) {
	var buf [512]byte
	for {
		if _, err := r.Read(buf[:]); err != nil {
			return
		}
	}
}

// abort drops the connection without a closing handshake: every pending and
// future read and write fails at once.
func (c *Conn) abort() {
	c.ending.Store(true)
	c.ws.NetConn().Close()
	c.endContext()
	c.wmu.Lock()
	c.closing = true
	if c.werr == nil {
		c.werr = ErrClosed
	}
	c.wakeLocked()
	writing := c.writing
	c.wmu.Unlock()
	if !writing { // a running writer fails on the closed socket and says so
		c.sentClose(ErrClosed)
	}
}

// spawn starts the writer or the pump in a goroutine owned by c, unless c
// is finished.
func (c *Conn) spawn(role goroutineRole) bool {
	if !c.hold() {
		return false
	}
	go c.run(role)
	return true
}

type goroutineRole int

const (
	writerRole   goroutineRole = iota
	pumpRole                   // reads one message for a waiting reader
	idlePumpRole               // reads for a handler that is not reading; may watch instead (see idlePump)
)

// hold counts one more goroutine's work for c (a goroutine of its own or a
// flusher's turn), unless c is finished.
func (c *Conn) hold() bool {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	if c.done {
		return false
	}
	c.wg.Add(1)
	return true
}

func (c *Conn) run(role goroutineRole) {
	defer c.wg.Done()
	switch role {
	case writerRole:
		c.writeLoop(false)
	case idlePumpRole:
		c.idlePump()
	default:
		c.pump()
	}
}

// pumpGrace is how long a new connection's handler has to start reading
// before a pump reads for it.
const pumpGrace = 20 * time.Millisecond

// firstTick starts a pump if the handler is not reading, then hands over to
// the keepalive schedule.
func (c *Conn) firstTick() {
	c.startPump()
	c.gmu.Lock()
	if !c.done && c.cfg.pingInterval() > 0 {
		c.scheduleTick(max(c.cfg.pingInterval()-pumpGrace, time.Millisecond), false)
	}
	c.gmu.Unlock()
}

// tick runs every ping interval: it queues a ping and, if nobody is reading,
// starts a pump so that the pong (or the peer's close) is read.
func (c *Conn) tick() {
	if c.ending.Load() {
		return
	}
	ping, next := true, c.cfg.pingInterval()
	l := c.lis.Load()
	if l == nil {
		l = c.watch.Load()
	}
	if l != nil {
		ping, next = l.keepaliveCheck(time.Since(c.start), c.cfg.pingInterval())
	}
	if ping {
		c.wmu.Lock()
		if !c.closing {
			c.pingDue = true
			c.kickLocked()
		}
		c.wmu.Unlock()
		c.startPump()
	}
	c.gmu.Lock()
	if !c.done {
		c.scheduleTick(next, false)
	}
	c.gmu.Unlock()
}

// logAttrs logs a record with the connection's ID (conn_id); the router
// gives each route's connections a logger that names the route. The logger
// that carries the ID is built once, by the first record its handler
// takes, so that a connection that logs nothing (Debug being off) does not
// keep a handler of its own. The record's source is logAttrs's caller.
func (c *Conn) logAttrs(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if !c.cfg.logger().Enabled(ctx, level) {
		return
	}
	l := c.idLog.Load()
	if l == nil {
		l = c.cfg.logger().With(slog.String("conn_id", c.id))
		if !c.idLog.CompareAndSwap(nil, l) {
			l = c.idLog.Load()
		}
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // skip runtime.Callers and logAttrs
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.AddAttrs(attrs...)
	_ = l.Handler().Handle(ctx, r)
}

// ID implements Connection.
func (c *Conn) ID() string { return c.id }

// Context implements Connection.
func (c *Conn) Context() context.Context { return c.ctx }

// RemoteAddr implements Connection.
func (c *Conn) RemoteAddr() string { return c.ws.RemoteAddr().String() }

// LocalAddr implements Connection.
func (c *Conn) LocalAddr() string { return c.ws.LocalAddr().String() }

// Subprotocol implements Connection.
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Close implements Connection.
func (c *Conn) Close() error { return c.CloseWith(CloseNormal, "") }

// CloseWith implements Connection. It starts the closing handshake and
// returns at once; the connection's context is cancelled, queued messages
// are still flushed before the close frame, and reads return the peer's
// answer or ErrClosed.
func (c *Conn) CloseWith(code StatusCode, reason string) error {
	c.initiateClose(code, reason, false)
	c.endContext()
	return nil
}

// ReadJSON implements Connection. Into a pointer to the type of
// Config.Inbound, it validates the message against the type's JSON schema
// before decoding it; a message that breaks the schema yields a
// *DecodeError, which closes the connection with CloseInvalidPayload and
// the reason "invalid message" when the handler returns it. Other targets
// cost no validation.
func (c *Conn) ReadJSON(v any) error {
	data, err := c.Read()
	if err != nil {
		return err
	}
	return c.decodeJSON(data, v)
}

// decodeJSON is ReadJSON's decoding of a message already read.
func (c *Conn) decodeJSON(data []byte, v any) error {
	if c.inbound != nil && reflect.TypeOf(v) == c.inbound {
		if err := c.validate(data); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &DecodeError{Err: err}
	}
	return nil
}

// validate checks a message against the schema of Config.Inbound. Input
// that is not JSON passes, for json.Unmarshal to report.
func (c *Conn) validate(data []byte) error {
	sch, err := payload.For(c.inbound.Elem())
	if err != nil { // routes check this at registration
		return fmt.Errorf("forge: read JSON message: %w", err)
	}
	if err := sch.Validate(data, "message"); err != nil && !errors.Is(err, payload.ErrSyntax) {
		return &DecodeError{Err: err}
	}
	return nil
}

// WriteJSON implements Connection.
func (c *Conn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("forge: encode JSON message: %w", err)
	}
	return c.enqueue(context.Background(), outbound{typ: TextMessage, data: data}, false)
}

func truncateReason(s string) string {
	const max = 123 // RFC 6455: a control frame's payload is at most 125 bytes
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// writeProblem answers a refused handshake with an RFC 9457 problem. The
// detail is for the client, so it carries no "forge: " prefix.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	problem.Write(w, status, detail)
}
