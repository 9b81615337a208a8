package events

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/forgekit/forge/hub"
)

// Option configures a Dispatcher (given to New) or the handlers of events
// (given to On, OnRequest, OnAny, Emits, Requests and Controller). Some
// options apply at both levels (WithTimeout, WithMiddleware), the others at
// one; giving an option where it does not apply panics, as other
// registration mistakes do.
type Option func(*settings)

type level int

const (
	levelDispatcher level = iota + 1
	levelHandler
)

// settings is what a list of Options builds.
type settings struct {
	level level
	err   string // the first misuse

	// Dispatcher level.
	hub          *hub.Hub
	log          *slog.Logger
	commands     bool
	reqTimeout   time.Duration
	meta         func(*Context) map[string]string
	onConnect    func(*Context) error
	onDisconnect func(*Context)
	onPanic      func(ctx *Context, v any, stack []byte)

	// Both levels.
	timeout    time.Duration
	middleware []Middleware

	// Handler level.
	summary, description string
	subprotocol          string
	transient            bool
}

func (s *settings) apply(lv level, opts []Option) {
	s.level = lv
	for _, o := range opts {
		if o == nil {
			s.fail("nil Option")
			continue
		}
		o(s)
	}
}

func (s *settings) fail(format string, args ...any) {
	if s.err == "" {
		s.err = fmt.Sprintf(format, args...)
	}
}

func (s *settings) only(lv level, option string) bool {
	if s.level != lv {
		where := "New"
		if lv == levelHandler {
			where = "handler registrations"
		}
		s.fail("%s applies to %s only", option, where)
		return false
	}
	return true
}

// WithHub connects the dispatcher's connections to h: each is registered
// on connect (with the metadata of WithMeta and its subscriptions as
// filter), Context.Join, Leave and Broadcast work, and so do the
// dispatcher's Broadcast, BroadcastAll and EmitTo. A hub sending presence
// messages (hub.WithPresence) has them declared for the documents.
func WithHub(h *hub.Hub) Option {
	if h == nil {
		panic("forge: events: WithHub: nil hub")
	}
	return func(s *settings) {
		if s.only(levelDispatcher, "WithHub") {
			s.hub = h
		}
	}
}

// WithLogger sets the logger for handler failures, panics and client
// misbehaviour; nil means slog.Default(). Logs carry the connection id.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) {
		if s.only(levelDispatcher, "WithLogger") {
			s.log = l
		}
	}
}

// WithCommandEnvelope switches the wire format from forge's
// {"event", "id", "payload"} to {"channel", "cmd", "param"} (with an
// optional "id"), the shape of command-style socket services: cmd names
// the event and param is its payload; Context.Channel returns the
// message's channel, and messages the server sends carry the channel
// (a room's name for broadcasts).
func WithCommandEnvelope() Option {
	return func(s *settings) {
		if s.only(levelDispatcher, "WithCommandEnvelope") {
			s.commands = true
		}
	}
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
func WithRequestTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("forge: events: WithRequestTimeout: timeout must be positive")
	}
	return func(s *settings) {
		if s.only(levelDispatcher, "WithRequestTimeout") {
			s.reqTimeout = d
		}
	}
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
func WithMeta(fn func(ctx *Context) map[string]string) Option {
	if fn == nil {
		panic("forge: events: WithMeta: nil function")
	}
	return func(s *settings) {
		if s.only(levelDispatcher, "WithMeta") {
			s.meta = fn
		}
	}
}

// WithOnConnect calls fn once per connection, after it is registered with
// the hub and before its first message: the place to join rooms, check
// the upgrade request and greet the client. An error from fn ends the
// connection (with the code of a *connection.CloseError it carries, 1011
// otherwise).
func WithOnConnect(fn func(ctx *Context) error) Option {
	if fn == nil {
		panic("forge: events: WithOnConnect: nil function")
	}
	return func(s *settings) {
		if s.only(levelDispatcher, "WithOnConnect") {
			s.onConnect = fn
		}
	}
}

// WithOnDisconnect calls fn once per connection when it ends, before it
// leaves the hub; the connection cannot be written to any more.
func WithOnDisconnect(fn func(ctx *Context)) Option {
	if fn == nil {
		panic("forge: events: WithOnDisconnect: nil function")
	}
	return func(s *settings) {
		if s.only(levelDispatcher, "WithOnDisconnect") {
			s.onDisconnect = fn
		}
	}
}

// WithPanicHandler calls fn with the value and stack of every panic
// recovered from a handler, a hook or a GoSafe goroutine, besides the
// error log; for an error tracker.
func WithPanicHandler(fn func(ctx *Context, v any, stack []byte)) Option {
	if fn == nil {
		panic("forge: events: WithPanicHandler: nil function")
	}
	return func(s *settings) {
		if s.only(levelDispatcher, "WithPanicHandler") {
			s.onPanic = fn
		}
	}
}

// WithSummary documents an event in one line.
func WithSummary(summary string) Option {
	return func(s *settings) {
		if s.only(levelHandler, "WithSummary") {
			s.summary = summary
		}
	}
}

// WithDescription documents an event at length.
func WithDescription(description string) Option {
	return func(s *settings) {
		if s.only(levelHandler, "WithDescription") {
			s.description = description
		}
	}
}

// WithTransient marks a server event (Emits) as news of the moment, such as
// "typing": it is never kept in a room's history (hub.WithHistory), so a
// client that recovers a room is not replayed stale ones, and it carries
// no position.
func WithTransient() Option {
	return func(s *settings) {
		if s.only(levelHandler, "WithTransient") {
			s.transient = true
		}
	}
}

// WithSubprotocol scopes a handler to the connections that negotiated the
// WebSocket subprotocol p; an event may have one handler per subprotocol
// and one for all the others. Route adds the subprotocols of scoped
// handlers to the route's (WithSubprotocols given to Route overrides
// them).
func WithSubprotocol(p string) Option {
	if p == "" {
		panic("forge: events: WithSubprotocol: empty subprotocol")
	}
	return func(s *settings) {
		if s.only(levelHandler, "WithSubprotocol") {
			s.subprotocol = p
		}
	}
}
