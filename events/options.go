package events

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/forgekit/forge/hub"
)

// Option configures both levels: a Dispatcher (given to New) and the
// handlers of events (given to On, OnRequest, OnAny, Emits, Requests and
// Controller). WithTimeout and WithMiddleware are Options. Every other
// option applies at one level only and has that level's type,
// DispatcherOption or HandlerOption, so that giving it where it does not
// apply does not compile; an Option is both.
type Option func(*settings)

// DispatcherOption configures a Dispatcher, given to New: an Option, or
// an option of dispatchers only (WithHub, WithLogger, WithMeta, ...).
type DispatcherOption interface {
	applyDispatcher(*settings)
}

// HandlerOption configures the handlers of one event, given to On,
// OnRequest, OnAny, Emits, Requests and Controller: an Option, or an
// option of handlers only (WithSummary, WithDescription, WithTransient,
// WithSubprotocol).
type HandlerOption interface {
	applyHandler(*settings)
}

func (o Option) applyDispatcher(s *settings) { s.run(o) }
func (o Option) applyHandler(s *settings)    { s.run(o) }

// dispatcherOption is an option of dispatchers only.
type dispatcherOption func(*settings)

func (o dispatcherOption) applyDispatcher(s *settings) { s.run(o) }

// handlerOption is an option of handlers only.
type handlerOption func(*settings)

func (o handlerOption) applyHandler(s *settings) { s.run(o) }

// settings is what a list of options builds.
type settings struct {
	err string // the first misuse

	// Dispatcher level.
	hub             *hub.Hub
	log             *slog.Logger
	commands        bool
	reqTimeout      time.Duration
	meta            func(*Context) map[string]string
	onConnect       func(*Context) error
	onDisconnect    func(*Context)
	onPanic         func(ctx *Context, v any, stack []byte)
	dedicatedReader bool

	// Both levels.
	timeout    time.Duration
	middleware []Middleware

	// Handler level.
	summary, description string
	subprotocol          string
	transient            bool
}

// dispatcherOptions applies the options given to New.
func (s *settings) dispatcherOptions(opts []DispatcherOption) {
	for _, o := range opts {
		if o == nil {
			s.fail("nil Option")
			continue
		}
		o.applyDispatcher(s)
	}
}

// handlerOptions applies the options given to a handler's registration.
func (s *settings) handlerOptions(opts []HandlerOption) {
	for _, o := range opts {
		if o == nil {
			s.fail("nil Option")
			continue
		}
		o.applyHandler(s)
	}
}

// run applies one option, which may be a nil func of a non-nil type.
func (s *settings) run(o func(*settings)) {
	if o == nil {
		s.fail("nil Option")
		return
	}
	o(s)
}

func (s *settings) fail(format string, args ...any) {
	if s.err == "" {
		s.err = fmt.Sprintf(format, args...)
	}
}

// WithHub connects the dispatcher's connections to h: each is registered
// on connect (with the metadata of WithMeta and its subscriptions as
// filter), Context.Join, Leave and Broadcast work, and so do the
// dispatcher's Broadcast, BroadcastAll and EmitTo. A hub sending presence
// messages (hub.WithPresence) has them declared for the documents.
func WithHub(h *hub.Hub) DispatcherOption {
	if h == nil {
		panic("forge: events: WithHub: nil hub")
	}
	return dispatcherOption(func(s *settings) { s.hub = h })
}

// WithLogger sets the logger for handler failures, panics and client
// misbehaviour; nil means slog.Default(). Logs carry the connection id.
func WithLogger(l *slog.Logger) DispatcherOption {
	return dispatcherOption(func(s *settings) { s.log = l })
}

// WithCommandEnvelope switches the wire format from forge's
// {"event", "id", "payload"} to {"channel", "cmd", "param"} (with an
// optional "id"), the shape of command-style socket services: cmd names
// the event and param is its payload; Context.Channel returns the
// message's channel, and messages the server sends carry the channel
// (a room's name for broadcasts).
func WithCommandEnvelope() DispatcherOption {
	return dispatcherOption(func(s *settings) { s.commands = true })
}

// WithTimeout gives every message (at dispatcher level) or one event's
// messages a deadline: the handler's Context.Context is cancelled after d,
// and a handler that returns its error is answered with CodeTimeout. The
// handler is not stopped; it is told. Without it a message's context ends
// only with the connection.
func WithTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("forge: events: WithTimeout: timeout must be positive")
	}
	return func(s *settings) { s.timeout = d }
}

// WithRequestTimeout bounds how long Request.Do waits for a client's reply
// when its context has no deadline. The default is DefaultRequestTimeout.
func WithRequestTimeout(d time.Duration) DispatcherOption {
	if d <= 0 {
		panic("forge: events: WithRequestTimeout: timeout must be positive")
	}
	return dispatcherOption(func(s *settings) { s.reqTimeout = d })
}

// DefaultRequestTimeout is how long Request.Do waits for a reply unless
// told otherwise.
const DefaultRequestTimeout = 10 * time.Second

// WithMiddleware wraps handlers in mw, the first outermost: at dispatcher
// level every event's handler (the built-in subscribe and unsubscribe
// included), at handler level one event's, inside the dispatcher's.
func WithMiddleware(mw ...Middleware) Option {
	if slices.ContainsFunc(mw, func(m Middleware) bool { return m == nil }) {
		panic("forge: events: WithMiddleware: nil middleware")
	}
	mw = slices.Clone(mw)
	return func(s *settings) { s.middleware = append(s.middleware, mw...) }
}

// WithMeta computes a connection's hub metadata (such as its user, from a
// query parameter or the authenticated principal) when it connects. It
// needs WithHub.
func WithMeta(fn func(ctx *Context) map[string]string) DispatcherOption {
	if fn == nil {
		panic("forge: events: WithMeta: nil function")
	}
	return dispatcherOption(func(s *settings) { s.meta = fn })
}

// WithOnConnect calls fn once per connection, after it is registered with
// the hub and before its first message: the place to join rooms, check
// the upgrade request and greet the client. An error from fn refuses the
// connection:
//
//   - an *Error (NewError, found with errors.As) is a refusal meant for
//     the client: it gets the error event, then the connection closes with
//     1008 (policy violation) and the error's message as the reason;
//   - a *connection.CloseError closes with its code and reason, without an
//     error event;
//   - any other error, or a panic, is a server fault: it is logged, and
//     the connection closes with 1011 (internal error), telling the client
//     nothing more.
func WithOnConnect(fn func(ctx *Context) error) DispatcherOption {
	if fn == nil {
		panic("forge: events: WithOnConnect: nil function")
	}
	return dispatcherOption(func(s *settings) { s.onConnect = fn })
}

// WithOnDisconnect calls fn once per connection when it ends, before it
// leaves the hub; the connection cannot be written to any more.
func WithOnDisconnect(fn func(ctx *Context)) DispatcherOption {
	if fn == nil {
		panic("forge: events: WithOnDisconnect: nil function")
	}
	return dispatcherOption(func(s *settings) { s.onDisconnect = fn })
}

// WithPanicHandler calls fn with the value and stack of every panic
// recovered from a handler, a hook or a GoSafe goroutine, besides the
// error log; for an error tracker.
func WithPanicHandler(fn func(ctx *Context, v any, stack []byte)) DispatcherOption {
	if fn == nil {
		panic("forge: events: WithPanicHandler: nil function")
	}
	return dispatcherOption(func(s *settings) { s.onPanic = fn })
}

// WithDedicatedReader gives each connection a goroutine that waits for its
// messages, as a handler looping on Read has. By default a dispatcher's
// connections listen (connection.Listen): between messages a connection
// holds no goroutine (on Linux, without TLS), which saves the goroutine
// and its stack for every idle connection, at the price of some latency:
// the poller runs a connection whose message it reported in its own
// goroutine or hands it to a worker, and a request with its reply takes
// 1.1-1.6 times as long (BenchmarkRoundTrip). Choose this for few
// connections that are busy all the time. Handlers behave the same
// either way: one message at a time per connection, in order.
func WithDedicatedReader() DispatcherOption {
	return dispatcherOption(func(s *settings) { s.dedicatedReader = true })
}

// WithSummary documents an event in one line.
func WithSummary(summary string) HandlerOption {
	return handlerOption(func(s *settings) { s.summary = summary })
}

// WithDescription documents an event at length.
func WithDescription(description string) HandlerOption {
	return handlerOption(func(s *settings) { s.description = description })
}

// WithTransient marks a server event (Emits) as news of the moment, such as
// "typing": it is never kept in a room's history (hub.WithHistory), so a
// client that recovers a room is not replayed stale ones, and it carries
// no position.
func WithTransient() HandlerOption {
	return handlerOption(func(s *settings) { s.transient = true })
}

// WithSubprotocol scopes a handler to the connections that negotiated the
// WebSocket subprotocol p; an event may have one handler per subprotocol
// and one for all the others. Route adds the subprotocols of scoped
// handlers to the route's (WithSubprotocols given to Route overrides
// them).
func WithSubprotocol(p string) HandlerOption {
	if p == "" {
		panic("forge: events: WithSubprotocol: empty subprotocol")
	}
	return handlerOption(func(s *settings) { s.subprotocol = p })
}
