package forge

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/router"
)

// The types a handler works with, defined in router and connection.
type (
	// Context is a handler's view of its request; see router.Context.
	Context = router.Context
	// Handler handles a REST request; see router.Handler.
	Handler = router.Handler
	// WebSocketHandler handles a WebSocket connection; see
	// router.WebSocketHandler.
	WebSocketHandler = router.WebSocketHandler
	// Middleware wraps an http.Handler; any chi middleware fits.
	Middleware = router.Middleware
	// Router registers routes; see router.Router.
	Router = router.Router
	// RouteOption configures routes, groups and route defaults; see
	// router.RouteOption.
	RouteOption = router.RouteOption
	// HTTPError is an error answered with its HTTP status; see
	// router.HTTPError.
	HTTPError = router.HTTPError
	// Message describes a WebSocket message for the documents; see
	// router.Message.
	Message = router.Message

	// Connection is a WebSocket connection; see connection.Connection.
	Connection = connection.Connection
	// CloseError carries a WebSocket close code and reason; see
	// connection.CloseError.
	CloseError = connection.CloseError
	// StatusCode is a WebSocket close status code.
	StatusCode = connection.StatusCode
)

// Message directions, for Message.Direction.
const (
	ClientToServer = router.ClientToServer
	ServerToClient = router.ServerToClient
)

// WebSocket close codes that handlers commonly use; connection lists them
// all.
const (
	CloseNormal          = connection.CloseNormal
	CloseGoingAway       = connection.CloseGoingAway
	ClosePolicyViolation = connection.ClosePolicyViolation
	CloseInternalError   = connection.CloseInternalError
)

// Errors of connection methods, for errors.Is.
var (
	ErrClosed      = connection.ErrClosed
	ErrReadTimeout = connection.ErrReadTimeout
)

// NewHTTPError returns an error that a REST handler's response maps to the
// given status, with message as the problem's detail.
func NewHTTPError(status int, message string) *HTTPError {
	return router.NewHTTPError(status, message)
}

// CloseStatus returns the WebSocket close code carried by err, or -1.
func CloseStatus(err error) StatusCode { return connection.CloseStatus(err) }

// Route options; each is documented in package router.

// WithName names a route (the operation ID in the documents).
func WithName(name string) RouteOption { return router.WithName(name) }

// WithSummary sets a route's one-line summary.
func WithSummary(summary string) RouteOption { return router.WithSummary(summary) }

// WithDescription sets a route's description.
func WithDescription(description string) RouteOption {
	return router.WithDescription(description)
}

// WithTags adds tags to routes.
func WithTags(tags ...string) RouteOption { return router.WithTags(tags...) }

// WithDeprecated marks routes as deprecated.
func WithDeprecated() RouteOption { return router.WithDeprecated() }

// WithMiddleware adds middleware around route handlers.
func WithMiddleware(mw ...Middleware) RouteOption { return router.WithMiddleware(mw...) }

// WithBodyLimit caps the request bodies that Context.Bind reads.
func WithBodyLimit(n int64) RouteOption { return router.WithBodyLimit(n) }

// WithWebSocketMessages declares a WebSocket route's message types: a
// value of the type the client sends and one of the type the server sends,
// either may be nil. The documents describe the route with them, and the
// constraints they publish for the client's type are enforced: ReadJSON
// into a pointer to that type validates the message against the type's
// JSON schema first, and a message that breaks it yields a
// *connection.DecodeError (the connection stays usable; returned from the
// handler, it closes the connection with 1007 "invalid message").
func WithWebSocketMessages(clientToServer, serverToClient any) RouteOption {
	return router.WithWebSocketMessages(clientToServer, serverToClient)
}

// WithMessages declares any number of messages of a WebSocket route.
func WithMessages(msgs ...Message) RouteOption { return router.WithMessages(msgs...) }

// WithSubprotocols lists a WebSocket route's subprotocols.
func WithSubprotocols(protos ...string) RouteOption { return router.WithSubprotocols(protos...) }

// WithRequiredSubprotocol refuses clients that offer none of the route's
// subprotocols.
func WithRequiredSubprotocol() RouteOption { return router.WithRequiredSubprotocol() }

// WithOrigins sets the browser origins allowed to connect.
func WithOrigins(patterns ...string) RouteOption { return router.WithOrigins(patterns...) }

// WithReadLimit caps the size of an incoming WebSocket message.
func WithReadLimit(n int64) RouteOption { return router.WithReadLimit(n) }

// WithKeepalive sets the ping interval and pong wait; a negative interval
// disables keepalive.
func WithKeepalive(pingInterval, pongWait time.Duration) RouteOption {
	return router.WithKeepalive(pingInterval, pongWait)
}

// WithWriteTimeout bounds writing one WebSocket frame.
func WithWriteTimeout(d time.Duration) RouteOption { return router.WithWriteTimeout(d) }

// WithCloseTimeout bounds the WebSocket closing handshake.
func WithCloseTimeout(d time.Duration) RouteOption { return router.WithCloseTimeout(d) }

// WithQueueBytes caps a connection's outbound queue.
func WithQueueBytes(n int) RouteOption { return router.WithQueueBytes(n) }

// WithSlowConsumerPolicy sets what a full outbound queue does to
// broadcasts.
func WithSlowConsumerPolicy(p connection.Policy) RouteOption {
	return router.WithSlowConsumerPolicy(p)
}

// WithCompression enables permessage-deflate above minSize bytes.
func WithCompression(minSize int) RouteOption { return router.WithCompression(minSize) }

// WithUpgrader performs WebSocket handshakes with u.
func WithUpgrader(u *websocket.Upgrader) RouteOption { return router.WithUpgrader(u) }
