package forge

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/router"
)

// The route options below forward to package router, which implements
// them, under forge's names (forge.WithSummary), so that a program needs
// to import forge alone. Each doc comment opens with the same sentence as
// router's, which TestRouteOptionForwarders checks, so that godoc for
// forge tells the whole story without sending the reader elsewhere.

// Options that describe a route in the documents.

// WithName names a route; the documents use it as the operation ID. Names
// are unique within a router, and WithName applies to single routes only.
func WithName(name string) RouteOption { return router.WithName(name) }

// WithSummary sets a route's one-line summary in the documents. It is the
// OpenAPI operation's summary for a REST route and the AsyncAPI channel's
// for a WebSocket route; events.WithSummary, one level down, summarises
// one event's message.
func WithSummary(summary string) RouteOption { return router.WithSummary(summary) }

// WithDescription sets a route's longer description in the documents.
func WithDescription(description string) RouteOption {
	return router.WithDescription(description)
}

// WithTags adds tags that group routes in the documents. Tags accumulate
// from the defaults, the groups and the route, without duplicates.
func WithTags(tags ...string) RouteOption { return router.WithTags(tags...) }

// WithDeprecated marks routes as deprecated in the documents.
func WithDeprecated() RouteOption { return router.WithDeprecated() }

// WithHidden keeps routes out of the documents. It applies to routes and
// groups of any kind; the framework's own routes use it.
func WithHidden() RouteOption { return router.WithHidden() }

// WithRequest documents the request of a route whose handler reads it
// itself: v is a value of a type whose fields tagged path, query, header,
// cookie and json describe the path parameters, the query, the headers, the
// cookies and the JSON body, with the constraint tags of
// swaggest/jsonschema-go; a type that is not a struct is the JSON body as a
// whole.
//
// It only documents: the handler still reads its input (Context.Bind,
// Param, Query, Header). A typed handler (Get, Post, ...) binds and
// validates its input type instead and takes no WithRequest. Registration
// fails when the request cannot be documented as declared.
func WithRequest(v any) RouteOption { return router.WithRequest(v) }

// WithResponse documents a response of a REST route: its status, a value
// of its body type (nil for none) and when it is sent. A Problem body is
// documented as application/problem+json, any other as application/json;
// a later response with the same status replaces an earlier one.
func WithResponse(status int, body any, description string) RESTOption {
	return router.WithResponse(status, body, description)
}

// WithStatus sets the status of a typed handler's successful response:
// 2xx, 200 by default (204 when the output type is struct{}). It applies
// to single typed routes.
func WithStatus(status int) RESTOption { return router.WithStatus(status) }

// Options of the handler chain.

// WithMiddleware adds middleware around the route handlers, in the order
// given. It runs after the middleware added with Use on the application and
// on enclosing groups, so it sees the values they stored in the request
// context.
func WithMiddleware(mw ...Middleware) RouteOption { return router.WithMiddleware(mw...) }

// WithBodyLimit caps the request bodies that Context.Bind reads, in bytes.
// The default is router.DefaultBodyLimit. It applies to REST routes only.
func WithBodyLimit(n int64) RESTOption { return router.WithBodyLimit(n) }

// WithAuth requires a request to be authenticated by one of the named auth
// providers (registered on the app with forge.WithAuthProvider), tried in
// order.
// It is enforced before the handler and, on WebSocket routes, before the
// upgrade: 401 with WWW-Authenticate without valid credentials, 403
// without a required scope (WithScopes), never a 101. The handler finds
// the principal with PrincipalFrom, and the route's security requirement
// goes into its document. An unknown provider name fails at registration.
func WithAuth(providers ...string) RouteOption { return router.WithAuth(providers...) }

// WithScopes requires the authenticated principal to hold every scope
// given; it needs WithAuth on the route or one of its groups.
func WithScopes(scopes ...string) RouteOption { return router.WithScopes(scopes...) }

// WithAuthExpiry closes a WebSocket connection with
// connection.CloseTokenExpired (4401) when the credentials it was opened
// with expire (the principal's ExpiresAt), unless the handler refreshed
// them in-band with RefreshAuth.
// It needs WithAuth.
func WithAuthExpiry() WebSocketOption { return router.WithAuthExpiry() }

// Options that declare a WebSocket route's messages.

// WithWebSocketMessages declares the messages of a WebSocket route: a value
// of the type the client sends and one of the type the server sends, such as
// &ChatMessage{}. Either may be nil. The documents describe the route with
// them, and the constraints they publish for the client's type are
// enforced: ReadJSON into a pointer to that type validates the message
// against the type's JSON schema first, and a message that breaks it
// yields a *connection.DecodeError (the connection stays usable; returned
// from the handler, it closes the connection with 1007 "invalid message").
func WithWebSocketMessages(clientToServer, serverToClient any) WebSocketOption {
	return router.WithWebSocketMessages(clientToServer, serverToClient)
}

// WithMessages declares messages of a WebSocket route, adding to any
// declared before (by the route, its groups or WithWebSocketMessages). A
// route may declare any number per direction, with names, replies and
// descriptions.
func WithMessages(msgs ...apidoc.Message) WebSocketOption { return router.WithMessages(msgs...) }

// Options that set a WebSocket route's connections (connection.Config).
// They are WebSocketOptions, which a REST route does not take; given to a
// group or as defaults they apply to its WebSocket routes only.

// WithSubprotocols lists the WebSocket subprotocols a route speaks, in order
// of preference; the handshake picks the first one the client offers.
func WithSubprotocols(protos ...string) WebSocketOption { return router.WithSubprotocols(protos...) }

// WithRequiredSubprotocol refuses, with 400 and before the upgrade, clients
// that offer none of the route's subprotocols.
func WithRequiredSubprotocol() WebSocketOption { return router.WithRequiredSubprotocol() }

// WithOrigins sets the origins allowed to open WebSocket connections from a
// browser, replacing the default of the request's own host. Patterns may
// hold wildcards ("https://*.example.com"); see connection.Config.Origins.
func WithOrigins(patterns ...string) WebSocketOption { return router.WithOrigins(patterns...) }

// WithReadLimit caps the size of one incoming WebSocket message, in bytes.
// A larger message closes the connection with 1009 (message too big).
func WithReadLimit(n int64) WebSocketOption { return router.WithReadLimit(n) }

// WithKeepalive sets the interval between server pings and how long the
// peer has to answer one. A negative pingInterval disables keepalive.
func WithKeepalive(pingInterval, pongWait time.Duration) WebSocketOption {
	return router.WithKeepalive(pingInterval, pongWait)
}

// WithWriteTimeout bounds writing one WebSocket frame, and waiting for room
// in a full outbound queue.
func WithWriteTimeout(d time.Duration) WebSocketOption { return router.WithWriteTimeout(d) }

// WithCloseTimeout bounds waiting for the peer's close frame after the
// server's.
func WithCloseTimeout(d time.Duration) WebSocketOption { return router.WithCloseTimeout(d) }

// WithQueueBytes caps the payload bytes waiting in a connection's outbound
// queue.
func WithQueueBytes(n int) WebSocketOption { return router.WithQueueBytes(n) }

// WithSlowConsumerPolicy sets what happens to a message offered without
// waiting, such as a broadcast, when the outbound queue is full. The
// default, connection.PolicyClose, closes the slow connection; the others
// drop the oldest or the newest message.
func WithSlowConsumerPolicy(p connection.Policy) WebSocketOption {
	return router.WithSlowConsumerPolicy(p)
}

// WithCompression enables permessage-deflate for clients that offer it.
// Messages shorter than minSize bytes are sent uncompressed; 0 means
// connection.DefaultCompressionMinSize.
func WithCompression(minSize int) WebSocketOption { return router.WithCompression(minSize) }

// WithMessageRateLimit limits the messages a client may send on a
// WebSocket route: perSecond on average, in bursts of up to burst. A
// message over the limit is dropped and counted (App.Stats().RateLimited)
// and the client gets an error event with the code "rate_limited" (on an
// events route in the route's own envelope, a command with
// events.WithCommandEnvelope), or, with closeOnExceed, the connection is
// closed with 1008 (policy violation).
func WithMessageRateLimit(perSecond float64, burst int, closeOnExceed bool) WebSocketOption {
	return router.WithMessageRateLimit(perSecond, burst, closeOnExceed)
}

// WithRateLimitReply sets the text message a client gets for a message
// over WithMessageRateLimit, in place of the error event
// {"event":"error",...}. It is for raw routes whose clients expect
// another shape: events routes answer in their own envelope by themselves.
func WithRateLimitReply(msg []byte) WebSocketOption { return router.WithRateLimitReply(msg) }

// WithUpgrader performs the handshake with u instead of an upgrader built
// from the other options. Its origin check, compression and subprotocols
// apply, so it cannot be combined with WithOrigins, WithCompression or
// WithSubprotocols in the same option list or below.
func WithUpgrader(u *websocket.Upgrader) WebSocketOption { return router.WithUpgrader(u) }
