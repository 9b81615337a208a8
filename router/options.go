package router

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/payload"
)

// RouteOption configures routes of both kinds, REST and WebSocket, and
// groups.
//
// Route options come in three kinds, each with its type, so that an option
// given to a route it cannot apply to does not compile:
//
//   - RouteOption: options of every route, REST or WebSocket (WithSummary,
//     WithTags, WithMiddleware, WithAuth, ...).
//   - RESTOption: what a REST route takes, a RouteOption or an option of
//     REST routes only (WithBodyLimit, WithResponse, WithStatus).
//   - WebSocketOption: what a WebSocket route takes, a RouteOption or an
//     option of WebSocket routes only (WithWebSocketMessages, WithMessages,
//     WithAuthExpiry and the connection settings such as WithReadLimit).
//
// A group (Group, Route) and an application's defaults (Config.Defaults)
// take any of them, as GroupOption values: there an option of one kind of
// route applies to the group's routes of that kind and skips the others.
// A route's own options win over its group's, which win over the
// defaults; tags and middleware accumulate instead. Options of single
// routes (WithName, WithRequest, WithStatus) panic when given to a group or
// as defaults, which the types cannot tell apart.
type RouteOption func(*settings)

// RESTOption configures a REST route (GET, POST, ..., Get, Post, ...): a
// RouteOption, or an option of REST routes only.
type RESTOption interface {
	GroupOption
	rest()
}

// WebSocketOption configures a WebSocket route: a RouteOption, or an
// option of WebSocket routes only.
type WebSocketOption interface {
	GroupOption
	webSocket()
}

// GroupOption configures the routes of a group (Group, Route) or of an
// application (Config.Defaults): an option of either kind of route.
type GroupOption interface {
	apply(*settings)
}

func (o RouteOption) apply(s *settings) { s.run(o) }
func (RouteOption) rest()               {}
func (RouteOption) webSocket()          {}

// restOnly is an option of REST routes only.
type restOnly func(*settings)

func (o restOnly) apply(s *settings) { s.run(o) }
func (restOnly) rest()               {}

// webSocketOnly is an option of WebSocket routes only.
type webSocketOnly func(*settings)

func (o webSocketOnly) apply(s *settings) { s.run(o) }
func (webSocketOnly) webSocket()          {}

// level is where a set of options is applied.
type level int

const (
	levelDefaults level = iota
	levelGroup
	levelRoute
)

// settings is what a chain of route options builds for one route.
type settings struct {
	level     level // where the options being applied were given
	layer     int   // counts the option lists applied, most specific last
	websocket bool  // the route being built is a WebSocket route
	err       error // first misuse found while applying options

	// The handshake options that an Upgrader overrides: the last layer
	// that set one, and its name.
	handshakeLayer  int
	handshakeOption string

	name, summary, description string
	tags                       []string
	deprecated                 bool
	middleware                 []Middleware
	bodyLimit                  int64

	messages []apidoc.Message // WithWebSocketMessages, WithMessages

	auth       []string    // WithAuth: provider names, any of which admits
	guard      *auth.Guard // WithAuth's providers, resolved at registration
	authExpiry bool        // WithAuthExpiry
	scopes     []string    // WithScopes: all required
	routeMW    int         // index in middleware where the route's own WithMiddleware start

	// Documents: WithHidden, WithRequest, WithResponse, WithStatus, and
	// the typed handler registering the route.
	hidden    bool
	request   any
	responses []apidoc.Response
	status    int
	typed     *typedRoute

	conn connection.Config // Logger and Tracker are filled in by the Mux
}

// applyOptions applies opts, given at level lv, to s.
func applyOptions[O GroupOption](s *settings, lv level, opts []O) {
	s.level = lv
	s.layer++
	for _, o := range opts {
		if GroupOption(o) == nil {
			s.fail("nil route option")
			continue
		}
		o.apply(s)
	}
}

// run applies one option, which may be a nil func of a non-nil type.
func (s *settings) run(o func(*settings)) {
	if o == nil {
		s.fail("nil route option")
		return
	}
	o(s)
}

func (s *settings) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

// wsOnly reports whether a WebSocket-only option may be applied, recording
// an error when it is given directly to a REST route (which the types
// rule out: this is a guard).
func (s *settings) wsOnly(option string) bool {
	if s.level == levelRoute && !s.websocket {
		s.fail("%s applies to WebSocket routes only", option)
		return false
	}
	return true
}

// handshake reports whether an option that WithUpgrader overrides may be
// applied: not once an Upgrader is set, whose own settings would win.
func (s *settings) handshake(option string) bool {
	if !s.wsOnly(option) {
		return false
	}
	if s.conn.Upgrader != nil {
		s.fail("%s cannot be combined with WithUpgrader; configure the Upgrader instead", option)
		return false
	}
	s.handshakeLayer, s.handshakeOption = s.layer, option
	return true
}

// restRoute is wsOnly's counterpart for options of REST routes.
func (s *settings) restRoute(option string) bool {
	if s.level == levelRoute && s.websocket {
		s.fail("%s applies to REST routes only", option)
		return false
	}
	return true
}

// singleRoute reports whether an option of single routes may be applied,
// recording an error when it is given to a group or as a default.
func (s *settings) singleRoute(option string) bool {
	if s.level != levelRoute {
		s.fail("%s applies to single routes, not to groups or defaults", option)
		return false
	}
	return true
}

// checkOptions applies opts to a scratch settings at level lv, so that a
// misuse panics where the group is declared rather than at its first route.
func checkOptions(lv level, opts []GroupOption) error {
	var s settings
	applyOptions(&s, lv, opts)
	return s.err
}

// WithName names a route; the documents use it as the operation ID. Names
// are unique within a router, and WithName applies to single routes only.
func WithName(name string) RouteOption {
	if name == "" {
		panic("forge: WithName: empty name")
	}
	return func(s *settings) {
		if s.singleRoute("WithName") {
			s.name = name
		}
	}
}

// WithSummary sets a route's one-line summary in the documents. It is the
// OpenAPI operation's summary for a REST route and the AsyncAPI channel's
// for a WebSocket route; events.WithSummary, one level down, summarises
// one event's message.
func WithSummary(summary string) RouteOption {
	return func(s *settings) { s.summary = summary }
}

// WithDescription sets a route's longer description in the documents.
func WithDescription(description string) RouteOption {
	return func(s *settings) { s.description = description }
}

// WithTags adds tags that group routes in the documents. Tags accumulate
// from the defaults, the groups and the route, without duplicates.
func WithTags(tags ...string) RouteOption {
	if slices.Contains(tags, "") {
		panic("forge: WithTags: empty tag")
	}
	tags = slices.Clone(tags)
	return func(s *settings) {
		for _, t := range tags {
			if !slices.Contains(s.tags, t) {
				s.tags = append(s.tags, t)
			}
		}
	}
}

// WithDeprecated marks routes as deprecated in the documents.
func WithDeprecated() RouteOption {
	return func(s *settings) { s.deprecated = true }
}

// WithMiddleware adds middleware around the route handlers, in the order
// given. It runs after the middleware added with Use on the application and
// on enclosing groups, so it sees the values they stored in the request
// context.
func WithMiddleware(mw ...Middleware) RouteOption {
	if slices.ContainsFunc(mw, isNil) {
		panic("forge: WithMiddleware: nil middleware")
	}
	mw = slices.Clone(mw)
	return func(s *settings) { s.middleware = append(s.middleware, mw...) }
}

// WithBodyLimit caps the request bodies that Context.Bind reads, in bytes.
// The default is DefaultBodyLimit. It applies to REST routes only.
func WithBodyLimit(n int64) RESTOption {
	if n <= 0 {
		panic("forge: WithBodyLimit: limit must be positive")
	}
	return restOnly(func(s *settings) {
		if s.restRoute("WithBodyLimit") {
			s.bodyLimit = n
		}
	})
}

// WithWebSocketMessages declares the messages of a WebSocket route: a value
// of the type the client sends and one of the type the server sends, such as
// &ChatMessage{}. A nil value means no messages in that direction. The
// documents describe the route with them. It is shorthand for WithMessages
// with one message per direction.
//
// What the documents publish about the client's type (the constraints of
// its struct tags: required, minLength, maxLength, enum, ...) is enforced:
// when a route declares exactly one message clients send, and not in an
// envelope (as events are), the connection's ReadJSON into a pointer to
// that type validates each message against the type's JSON schema before
// decoding it (see connection.Config.Inbound). A message that breaks the
// schema yields a *connection.DecodeError, as one that is not JSON does:
// the connection stays usable, so the handler may answer and read on, and
// a handler that returns the error closes the connection with 1007
// (invalid payload data) and the reason "invalid message". Read and
// ReadMessage return messages unchecked.
func WithWebSocketMessages(clientToServer, serverToClient any) WebSocketOption {
	if clientToServer == nil && serverToClient == nil {
		panic("forge: WithWebSocketMessages: both message types are nil")
	}
	var msgs []apidoc.Message
	if clientToServer != nil {
		msgs = append(msgs, apidoc.Message{Direction: apidoc.ClientToServer, Payload: clientToServer})
	}
	if serverToClient != nil {
		msgs = append(msgs, apidoc.Message{Direction: apidoc.ServerToClient, Payload: serverToClient})
	}
	return withMessages("WithWebSocketMessages", msgs)
}

// WithMessages declares messages of a WebSocket route, adding to any
// declared before (by the route, its groups or WithWebSocketMessages).
// When the route ends up with exactly one message clients send, and not in
// an envelope, ReadJSON enforces its schema, as WithWebSocketMessages says.
func WithMessages(msgs ...apidoc.Message) WebSocketOption {
	for i, m := range msgs {
		if m.Direction != apidoc.ClientToServer && m.Direction != apidoc.ServerToClient {
			panic(fmt.Sprintf("forge: WithMessages: message %d (%q) has no direction", i, m.Name))
		}
		if m.Payload == nil {
			panic(fmt.Sprintf("forge: WithMessages: message %d (%q) has no payload type", i, m.Name))
		}
		if m.Envelope != nil && m.Name == "" {
			panic(fmt.Sprintf("forge: WithMessages: message %d is in an envelope and needs a name", i))
		}
		if m.Reply != nil && m.Reply.Direction == m.Direction {
			panic(fmt.Sprintf("forge: WithMessages: the reply to %q must travel the other way", m.Name))
		}
	}
	return withMessages("WithMessages", slices.Clone(msgs))
}

func withMessages(name string, msgs []apidoc.Message) WebSocketOption {
	return webSocketOnly(func(s *settings) {
		if s.wsOnly(name) {
			s.messages = append(slices.Clip(s.messages), msgs...)
		}
	})
}

// checkWebSocket reports contradictions that only show once a WebSocket
// route's options are merged.
func (s *settings) checkWebSocket() error {
	c := &s.conn
	if c.RequireSubprotocol && len(c.Subprotocols) == 0 && (c.Upgrader == nil || len(c.Upgrader.Subprotocols) == 0) {
		return fmt.Errorf("WithRequiredSubprotocol needs WithSubprotocols")
	}
	return nil
}

// enforceInbound has ReadJSON enforce the schema of the one message
// clients send, if the route declares one (see WithWebSocketMessages),
// compiling the schema now so that a bad one fails at registration.
func (s *settings) enforceInbound() error {
	in := inbound(s.messages)
	if in == nil {
		return nil
	}
	t := reflect.TypeOf(in)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, err := payload.For(t); err != nil {
		return fmt.Errorf("the message clients send: %w", err)
	}
	s.conn.Inbound = in
	return nil
}

// inbound returns the payload of the one message clients send, when the
// messages declare exactly one and it is not in an envelope (the event
// layer validates its own); nil otherwise.
func inbound(msgs []apidoc.Message) any {
	var (
		n   int
		raw any
	)
	for i := range msgs {
		for m := &msgs[i]; m != nil; m = m.Reply {
			if m.Direction == apidoc.ClientToServer {
				n++
				if m.Envelope == nil {
					raw = m.Payload
				}
			}
		}
	}
	if n != 1 {
		return nil
	}
	return raw
}
