package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/connhook"
	"github.com/forgekit/forge/router"
)

// session is the dispatcher's state for one connection.
//
// Reading: one goroutine at a time reads the connection, the one holding
// rtok. Between messages that is the connection's listener (onMessage;
// next, in the connection's goroutine, with WithDedicatedReader); while a
// handler runs, it is a Request.Do waiting for a client's reply (from the
// handler or from a GoSafe goroutine), which routes replies to their
// requests and keeps other messages, in order, for the listener or next.
// A reply is routed before rtok is given back.
type session struct {
	d      *Dispatcher
	conn   connection.Connection
	rc     router.Context
	ctx    context.Context // the connection's, ended when the session ends (see end)
	cancel context.CancelFunc
	log    atomic.Pointer[slog.Logger] // see logger
	sub    string                      // negotiated subprotocol
	subs   *subscriptions
	rtok   chan struct{}   // capacity 1: held by the goroutine reading
	kept   chan struct{}   // capacity 1: a request's read kept a message (see takeBack)
	hubbed bool            // registered with the hub
	obs    HandlerObserver // nil unless the connection is observed

	ndeferred atomic.Int32 // len(deferred), read without mu on the hot path
	npending  atomic.Int32 // len(pending), likewise

	mu       sync.Mutex // guards the fields below
	deferred []message
	pending  map[string]*pendingRequest
	nextID   uint64
	values   map[any]any
	limiters map[*limiterKey]*rate.Limiter
	recover  map[string]hub.StreamPosition // from ?recover=, used once per room
	ended    bool                          // GoSafe starts no more goroutines

	wg sync.WaitGroup // GoSafe goroutines
}

type message struct {
	typ  connection.MessageType
	data []byte
}

// maxDeferred bounds the messages kept while a request waits for its
// reply; more are answered with CodeBusy.
const maxDeferred = 64

// logger is the dispatcher's logger for the session's connection: every
// record names the connection and, when it has one, its route. It is made
// at its first use: With formats the attributes at once, and most
// connections log nothing, so an idle connection does not keep them.
func (s *session) logger() *slog.Logger {
	if l := s.log.Load(); l != nil {
		return l
	}
	var l *slog.Logger
	if route := connection.RouteOf(s.conn); route != "" {
		l = s.d.log.With(slog.String("conn_id", s.conn.ID()), slog.String("route", route))
	} else {
		l = s.d.log.With(slog.String("conn_id", s.conn.ID()))
	}
	if !s.log.CompareAndSwap(nil, l) {
		l = s.log.Load()
	}
	return l
}

// logAttrs logs a record with the session's logger, which it makes only
// for a record the dispatcher's logger takes. The record's source is
// logAttrs's caller.
func (s *session) logAttrs(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if !s.d.log.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // skip runtime.Callers and logAttrs
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.AddAttrs(attrs...)
	_ = s.logger().Handler().Handle(ctx, r)
}

// serve is the WebSocket handler of a routed dispatcher.
func (d *Dispatcher) serve(rc router.Context, conn connection.Connection) error {
	// The session's context ends with the connection's, and before it
	// when the session ends; AfterEnd ties the two without registering a
	// child in the connection's context (a map and a channel, kept for as
	// long as the connection lives).
	ctx, cancel := context.WithCancel(context.WithoutCancel(conn.Context()))
	if !connhook.AfterEnd(conn, cancel) {
		cancel()
		ctx, cancel = context.WithCancel(conn.Context())
	}
	s := &session{
		d:      d,
		conn:   conn,
		rc:     rc,
		ctx:    ctx,
		cancel: cancel,
		sub:    conn.Subprotocol(),
		subs:   newSubscriptions(rc.Request().URL.Query().Get("events")), // not rc.Query: the connection would keep its cache
		rtok:   make(chan struct{}, 1),
		kept:   make(chan struct{}, 1),
		obs:    handlerObserver(conn),
	}
	if d.cfg.hub != nil && d.cfg.hub.KeepsHistory() {
		s.recover = parseRecover(rc.Request().URL.Query()["recover"])
	}
	d.stats.conns.Add(1)
	base := &Context{s: s, ctx: ctx}
	listening := false
	defer func() {
		if !listening {
			s.end(base)
		}
	}()

	if h := d.cfg.hub; h != nil {
		var meta map[string]string
		if d.cfg.meta != nil {
			meta = d.cfg.meta(base)
		}
		if err := h.Register(conn, hub.WithMeta(meta), hub.WithFilter(s.subs)); err != nil {
			return err
		}
		s.hubbed = true
	}
	if fn := d.cfg.onConnect; fn != nil {
		if err := s.protect(base, func() error { return fn(base) }); err != nil {
			var e *Error
			if errors.As(err, &e) { // a refusal: tell the client why
				s.sendError("", "", e)
				return &connection.CloseError{Code: connection.ClosePolicyViolation, Reason: e.Message}
			}
			return err
		}
	}
	if !d.cfg.dedicatedReader {
		// The listener holds the read side between messages (see
		// onMessage). Messages kept by a request in the OnConnect hook (or
		// in a goroutine it started) come first.
		if err := s.takeBack(); err != nil {
			return err
		}
		if err := s.dispatchKept(); err != nil {
			return err
		}
		err := conn.Listen(s.onMessage, connection.OnListenEnd(s.listenEnd))
		listening = errors.Is(err, connection.ErrListening)
		return err
	}
	for {
		typ, data, err := s.next()
		if err != nil {
			return err // the end of the connection
		}
		if err := s.dispatch(typ, data); err != nil {
			return err
		}
	}
}

// onMessage is the connection's listener (see connection.Listen): the
// connection holds no goroutine between messages. Between calls it holds
// rtok; each message is dispatched with rtok free, so that a request
// waiting for the client's reply (in the handler, or in a GoSafe
// goroutine) reads meanwhile, and the messages it keeps are dispatched
// before the call returns. A reply that comes while no handler runs is
// routed here.
func (s *session) onMessage(typ connection.MessageType, data []byte) error {
	if s.routeReply(typ, data) {
		return nil
	}
	if err := s.dispatchFree(typ, data); err != nil {
		return err
	}
	return s.dispatchKept()
}

// dispatchFree dispatches a message with rtok free; the caller holds it,
// and holds it again on a nil return (see takeBack).
func (s *session) dispatchFree(typ connection.MessageType, data []byte) error {
	<-s.rtok
	if err := s.dispatch(typ, data); err != nil {
		return err
	}
	return s.takeBack()
}

// takeBack takes rtok. While a request's read holds it, the messages the
// read keeps are dispatched as they come, rather than when the read ends
// (which may be when the request times out). An error ends the
// connection: rtok is then left to the request's read, which the
// session's end cancels.
func (s *session) takeBack() error {
	for {
		if m, ok := s.popDeferred(); ok {
			if err := s.dispatch(m.typ, m.data); err != nil {
				return err
			}
			continue
		}
		select {
		case s.rtok <- struct{}{}:
			return nil
		case <-s.kept:
		}
	}
}

// dispatchKept dispatches the messages requests kept, in order, until
// there are none; the caller holds rtok, and holds it still on a nil
// return (see dispatchFree).
func (s *session) dispatchKept() error {
	for {
		m, ok := s.popDeferred()
		if !ok {
			return nil
		}
		if err := s.dispatchFree(m.typ, m.data); err != nil {
			return err
		}
	}
}

// end runs when the connection's handling ends: the disconnect hook, the
// hub, then the goroutines started with GoSafe, which are waited for.
func (s *session) end(base *Context) {
	defer s.d.stats.conns.Add(-1)
	if fn := s.d.cfg.onDisconnect; fn != nil {
		s.protect(base, func() error { fn(base); return nil })
	}
	if s.hubbed {
		s.d.cfg.hub.Unregister(s.conn.ID())
	}
	s.cancel()
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.wg.Wait()
}

// listenEnd ends a listening session (OnListenEnd). It makes the
// Context that OnDisconnect gets: the connect hook's would have kept
// another 96 bytes alive for every idle connection.
func (s *session) listenEnd(error) { s.end(&Context{s: s, ctx: s.ctx}) }

// next returns the next message to dispatch: one kept by a request's
// reader, or one read now. Replies to requests are routed on the way.
func (s *session) next() (connection.MessageType, []byte, error) {
	for {
		if m, ok := s.popDeferred(); ok {
			return m.typ, m.data, nil
		}
		// A request's read may hold rtok for long: what it keeps
		// meanwhile is taken at once (see takeBack).
		select {
		case s.rtok <- struct{}{}:
		case <-s.kept:
			continue
		}
		if m, ok := s.popDeferred(); ok { // kept while we waited for rtok
			<-s.rtok
			return m.typ, m.data, nil
		}
		typ, data, err := s.conn.ReadMessage(context.Background())
		// A reply is routed before rtok goes back: a request that took
		// rtok in between would find no reply yet and read, waiting for a
		// message after the one that answered it (the client may send
		// none until it has the request's outcome).
		routed := err == nil && s.routeReply(typ, data)
		<-s.rtok
		if err != nil {
			return 0, nil, err
		}
		if routed {
			continue
		}
		return typ, data, nil
	}
}

func (s *session) popDeferred() (message, bool) {
	if s.ndeferred.Load() == 0 {
		return message{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.deferred) == 0 {
		return message{}, false
	}
	m := s.deferred[0]
	s.deferred[0] = message{}
	s.deferred = s.deferred[1:]
	s.ndeferred.Add(-1)
	return m, true
}

// keep holds a message read while a request waited, for next.
func (s *session) keep(typ connection.MessageType, data []byte) {
	s.mu.Lock()
	if len(s.deferred) < maxDeferred {
		s.deferred = append(s.deferred, message{typ, data})
		s.ndeferred.Add(1)
		s.mu.Unlock()
		select {
		case s.kept <- struct{}{}:
		default:
		}
		return
	}
	s.mu.Unlock()
	var in inbound
	_ = s.d.env.decode(data, &in) // for the id, if there is one
	s.d.stats.received.Add(1)
	s.sendError(in.id, in.channel, &Error{Code: CodeBusy,
		Message: "the server is waiting for a reply and has too many messages queued: this one was dropped"})
}

// dispatch handles one message. It returns an error only to end the
// connection (a handler returned a *connection.CloseError).
func (s *session) dispatch(typ connection.MessageType, data []byte) error {
	d := s.d
	d.stats.received.Add(1)
	if typ != connection.TextMessage {
		s.sendError("", "", &Error{Code: CodeUnsupported, Message: "binary messages are not events: send JSON text"})
		return nil
	}
	var in inbound
	if err := d.env.decode(data, &in); err != nil {
		s.sendError(in.id, in.channel, &Error{Code: CodeMalformed, Message: err.Error()})
		return nil
	}
	h := d.lookup(&in, s.sub)
	if h == nil {
		s.sendError(in.id, in.channel, &Error{Code: CodeUnknownEvent, Message: fmt.Sprintf("no handler for event %q", in.eventName())})
		return nil
	}
	c := &Context{s: s, event: h.name, id: in.id, channel: in.channel, payload: in.payload, ctx: s.ctx}
	if h.name == "" {
		c.event = in.eventName()
	}
	var cancel context.CancelFunc
	if h.timeout > 0 {
		c.ctx, cancel = context.WithTimeout(s.ctx, h.timeout)
	}
	var began time.Time
	if s.obs != nil {
		began = time.Now()
	}
	result, err := s.call(c, h)
	if s.obs != nil {
		s.obs.Handled(h.name, time.Since(began), err)
	}
	timedOut := cancel != nil && errors.Is(c.ctx.Err(), context.DeadlineExceeded)
	if cancel != nil {
		cancel()
	}
	if err != nil {
		return s.failed(c, h, err, timedOut)
	}
	d.stats.handled.Add(1)
	if in.id != "" {
		s.reply(c, result)
	}
	return nil
}

// call runs the handler chain, turning a panic into CodeInternal.
func (s *session) call(c *Context, h *handler) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.panicked(c, v, debug.Stack())
			result, err = nil, &Error{Code: CodeInternal, Message: "internal error"}
		}
	}()
	return h.run(c)
}

// failed answers a handler's error with an error event. A close error
// ends the connection instead.
func (s *session) failed(c *Context, h *handler, err error, timedOut bool) error {
	var ce *connection.CloseError
	if errors.As(err, &ce) {
		return err
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		s.logAttrs(c.ctx, slog.LevelDebug, "event refused",
			slog.String("event", c.event), slog.String("code", e.Code), slog.String("message", e.Message))
	case s.ctx.Err() != nil && (errors.Is(err, ErrClosed) || errors.Is(err, connection.ErrClosed) ||
		errors.Is(err, connection.ErrSlowConsumer)):
		// This connection ended under the handler (a request to the
		// client or a write found it gone): nobody is left to answer, and
		// the server did nothing wrong. A write to another connection
		// that has gone is the handler's error like any other.
		s.logAttrs(c.ctx, slog.LevelDebug, "event handler ended with its connection",
			slog.String("event", c.event), slog.String("error", err.Error()))
		return nil
	case timedOut && errors.Is(err, context.DeadlineExceeded):
		e = &Error{Code: CodeTimeout, Message: fmt.Sprintf("the handler did not finish within %v", h.timeout)}
		s.logAttrs(s.ctx, slog.LevelWarn, "event handler timed out", slog.String("event", c.event))
	default:
		s.logAttrs(s.ctx, slog.LevelError, "event handler failed",
			slog.String("event", c.event), slog.String("error", err.Error()))
		e = &Error{Code: CodeInternal, Message: "internal error"}
	}
	s.sendError(c.id, c.channel, e)
	return nil
}

// reply acknowledges a message that carried an id.
func (s *session) reply(c *Context, result any) {
	event := c.event + ackSuffix
	if result == nil { // the empty payload needs no encoding
		b := make([]byte, 0, len(event)+len(c.id)+len(c.channel)+48)
		s.conn.Write(s.d.env.appendEnvelope(b, event, c.id, c.channel, emptyObject))
		return
	}
	data, err := s.d.encode(event, c.id, c.channel, result)
	if err != nil {
		s.logAttrs(s.ctx, slog.LevelError, "event reply not sent",
			slog.String("event", c.event), slog.String("error", err.Error()))
		s.sendError(c.id, c.channel, &Error{Code: CodeInternal, Message: "internal error"})
		return
	}
	s.conn.Write(data) // fails only once the connection is gone
}

// sendError sends an error event and counts it.
func (s *session) sendError(id, channel string, e *Error) {
	s.d.stats.countError(e.Code)
	data, _ := s.d.encode("error", id, channel, e) // an *Error always encodes
	s.conn.Write(data)
}

// protect runs a hook, turning a panic into an error that closes the
// connection with 1011.
func (s *session) protect(c *Context, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.panicked(c, v, debug.Stack())
			err = &connection.CloseError{Code: connection.CloseInternalError, Reason: "internal error"}
		}
	}()
	return fn()
}

// panicked reports a recovered panic.
func (s *session) panicked(c *Context, v any, stack []byte) {
	s.d.stats.panics.Add(1)
	s.logAttrs(s.ctx, slog.LevelError, "event handler panicked",
		slog.String("event", c.event), slog.Any("panic", v), slog.String("stack", string(stack)))
	if fn := s.d.cfg.onPanic; fn != nil {
		defer func() { _ = recover() }() // a failing reporter must not take the connection down
		fn(c, v, stack)
	}
}

// limiterKey identifies one RateLimit middleware; it is not zero-sized, so
// every one has its own address.
type limiterKey struct {
	limit rate.Limit
	burst int
}

func (s *session) limiter(k *limiterKey) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[k]
	if l == nil {
		if s.limiters == nil {
			s.limiters = make(map[*limiterKey]*rate.Limiter)
		}
		l = rate.NewLimiter(k.limit, k.burst)
		s.limiters[k] = l
	}
	return l
}
