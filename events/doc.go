// Package events dispatches the messages of WebSocket connections to typed
// handlers by event name, and declares every event for the route's AsyncAPI
// document from the same registrations.
//
// # Envelope
//
// A message is a JSON text frame {"event": "message", "id": "7",
// "payload": {...}}. The id is optional: a client sets it when it wants an
// answer, which carries the same id, either {"event": "message.ack", "id":
// "7", "payload": ...} or an error event {"event": "error", "id": "7",
// "payload": {"code": "invalid_payload", "message": "..."}}. Server events
// have the same shape. [WithCommandEnvelope] switches to the
// {"channel", "cmd", "param"} shape of command services instead.
//
// # Handlers
//
// [On] registers a typed handler; the payload is validated against the
// JSON schema of its type (struct tags such as required, enum, maxLength,
// pattern, from swaggest/jsonschema-go, checked by
// santhosh-tekuri/jsonschema) before the handler runs, and one that does
// not fit is answered with an error event while the connection goes on.
// [OnRequest] handlers return the reply's payload. [Controller] registers
// the methods of a struct named after events (MESSAGE, JOIN, LEAVE), and
// [OnAny] one function for every other event, as command services switch
// on the command. Malformed JSON, binary frames, unknown events, panics
// (recovered and logged) and handler errors are all answered with error
// events; only a handler returning a *connection.CloseError, or a message
// over the route's read limit (1009), ends the connection. Every answer is
// counted in [Dispatcher.Stats].
//
// A connection's messages are handled one at a time, in order. Between
// messages a connection holds no goroutine: the dispatcher hands its reads
// to connection.Listen, so that on Linux (without TLS) an idle connection
// costs its buffers and state only, and each message runs its handler in
// a goroutine of forge's. [WithDedicatedReader] keeps a goroutine per
// connection instead, for few busy connections, which then wait a little
// less for each message (nothing between the socket and the handler but
// the runtime's poller).
// [Context.Context] is the message's context: the connection's (rooted
// outside the upgrade request, which ends after the handshake), with the
// event's deadline from [WithTimeout];
// [Context.ConnContext] lives as long as the dispatcher handles the
// connection. [Context.GoSafe] starts a goroutine the connection owns: its
// panics are recovered, and the connection waits for it before it ends.
// The upgrade request and the connection themselves are [Context.Route]'s
// and [Context.Conn]'s, not repeated on Context.
//
// [Middleware] wraps handlers, per event or for all of them, before the
// payload is decoded: [Authorize] checks each event, [RateLimit] limits
// each connection's events (golang.org/x/time/rate), [Log] logs them.
// [WithSubprotocol] scopes a handler to one negotiated subprotocol.
//
// # Mistakes
//
// Registration follows forge's one rule: a mistake in the program panics
// with a "forge: events: " message, where the option is built when its
// value alone is wrong (WithTimeout(0), WithHub(nil)) and otherwise in the
// call that takes it (an event name registered twice, WithMeta without
// WithHub, registering after Route); nothing here returns a setup error.
// Options of one level have that level's type, [DispatcherOption] for New
// and [HandlerOption] for a handler's registration, so that one given at
// the wrong level does not compile; an [Option] (WithTimeout,
// WithMiddleware) is both.
//
// # Server events
//
// The server sends only declared events: [Emits] declares one, and
// [Context.Emit], [Dispatcher.Broadcast], [Dispatcher.BroadcastAll] and
// [Dispatcher.EmitTo] send it. [Requests] declares one that the client
// answers; [Request.Do] sends it and waits for the typed reply, reading
// the connection meanwhile if called from a handler.
//
// A client receives only the server events it subscribed to: ?events=a,b
// in the connection URL (absent or "*": all), changed at run time with the
// built-in subscribe and unsubscribe events. With [WithHub], the
// subscriptions are the connection's hub filter, so a broadcast is encoded
// once and each member costs one lookup.
//
// # Routes and documents
//
// [Route] registers a dispatcher as a WebSocket route and declares every
// message it handles and sends (with router.WithMessages): each event with
// its payload type and direction, replies, the error event, subscribe and
// unsubscribe, and the hub's presence messages. Registering after Route
// panics, so the document cannot miss an event. The documents describe
// each message as the envelope ([Envelope]) around its payload type; a
// handler that speaks the envelope without a dispatcher declares its
// messages in it by hand, apidoc.Message{..., Envelope: events.Envelope{}}.
package events
