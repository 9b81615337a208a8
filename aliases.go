package forge

import (
	"github.com/forgekit/forge/apidoc"
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
	// RouteOption configures routes of both kinds, REST and WebSocket,
	// and groups.
	RouteOption = router.RouteOption
	// RESTOption is what a REST route takes: a RouteOption, or an option
	// of REST routes only (WithBodyLimit, WithResponse, WithStatus).
	RESTOption = router.RESTOption
	// WebSocketOption is what a WebSocket route takes: a RouteOption, or
	// an option of WebSocket routes only (WithWebSocketMessages,
	// WithReadLimit and the other connection settings, WithAuthExpiry).
	WebSocketOption = router.WebSocketOption
	// GroupOption is what a group and WithRouteDefaults take: an option
	// of either kind of route, which applies to the routes of its kind.
	GroupOption = router.GroupOption
	// HTTPError is an error answered with its HTTP status; see
	// router.HTTPError.
	HTTPError = router.HTTPError
	// Message describes one kind of message a WebSocket route exchanges,
	// for WithMessages and the AsyncAPI document.
	Message = apidoc.Message

	// Connection is a WebSocket connection; see connection.Connection.
	Connection = connection.Connection
	// CloseError carries a WebSocket close code and reason; see
	// connection.CloseError.
	CloseError = connection.CloseError
	// StatusCode is a WebSocket close status code.
	StatusCode = connection.StatusCode
	// MessageType is a WebSocket data message's type: TextMessage or
	// BinaryMessage.
	MessageType = connection.MessageType
	// ListenOption configures Connection.Listen: OnListenEnd.
	ListenOption = connection.ListenOption
)

// Data message types, for MessageType.
const (
	TextMessage   = connection.TextMessage
	BinaryMessage = connection.BinaryMessage
)

// Message directions, for Message.Direction.
const (
	ClientToServer = apidoc.ClientToServer
	ServerToClient = apidoc.ServerToClient
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
	// ErrListening is Connection.Listen's result, which a handler returns.
	ErrListening = connection.ErrListening
)

// NewHTTPError returns an error that a REST handler's response maps to the
// given status, with message as the problem's detail.
func NewHTTPError(status int, message string) *HTTPError {
	return router.NewHTTPError(status, message)
}

// ListenJSON hands conn's reads to fn, each message decoded into a new T
// and validated like ReadJSON's; see connection.ListenJSON and
// Connection.Listen.
func ListenJSON[T any](conn Connection, fn func(*T) error, opts ...ListenOption) error {
	return connection.ListenJSON(conn, fn, opts...)
}

// OnListenEnd has Connection.Listen call fn when the connection ends, with
// what ended it: what a reading handler runs in its defers; see
// connection.OnListenEnd.
func OnListenEnd(fn func(err error)) ListenOption { return connection.OnListenEnd(fn) }

// CloseStatus returns the WebSocket close code carried by err, or -1.
func CloseStatus(err error) StatusCode { return connection.CloseStatus(err) }
