package events

import (
	"errors"
)

// Error is the payload of an error event, {"event": "error", "id": ...,
// "payload": {"code": ..., "message": ...}}, which answers a message that
// could not be handled; the id is the message's own, when it had one. A
// handler that returns an *Error (or an error wrapping one) sends it as is;
// any other error is answered with CodeInternal and logged.
type Error struct {
	Code    string `json:"code" required:"true" description:"A machine-readable reason, such as invalid_payload."`
	Message string `json:"message" required:"true" description:"What went wrong, for people."`
}

// Error codes forge sends. Handlers may use their own codes too.
const (
	// CodeMalformed: the message is not valid JSON, not an object, or has
	// no event name.
	CodeMalformed = "malformed"
	// CodeUnsupported: a binary message, where events are JSON text.
	CodeUnsupported = "unsupported"
	// CodeUnknownEvent: no handler for the event (for the connection's
	// subprotocol), or a reply to no pending request.
	CodeUnknownEvent = "unknown_event"
	// CodeInvalidPayload: the payload does not match the event's type or
	// its constraints.
	CodeInvalidPayload = "invalid_payload"
	// CodeForbidden: an authorization middleware refused the event.
	CodeForbidden = "forbidden"
	// CodeRateLimited: a rate-limit middleware refused the event.
	CodeRateLimited = "rate_limited"
	// CodeTimeout: the handler did not finish within the event's deadline.
	CodeTimeout = "timeout"
	// CodeBusy: the message arrived while the server waited for a reply to
	// its own request, and too many others were waiting already.
	CodeBusy = "busy"
	// CodeTooManyRooms: a join beyond the rooms one connection may be in
	// (hub.WithMaxRooms).
	CodeTooManyRooms = "too_many_rooms"
	// CodeInvalidRoom: a join of a room whose name the hub refuses.
	CodeInvalidRoom = "invalid_room"
	// CodeNotInRoom: a request about a room the connection is not in.
	CodeNotInRoom = "not_in_room"
	// CodeNoHistory: a position asked of a room that keeps no history.
	CodeNoHistory = "no_history"
	// CodeInternal: the handler failed or panicked; the details are in the
	// server's log, not in the message.
	CodeInternal = "internal"
)

// NewError returns an *Error with the given code and message, for a handler
// to return.
func NewError(code, message string) *Error { return &Error{Code: code, Message: message} }

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errors of the event layer.
var (
	// ErrUndeclared is returned when emitting or broadcasting an event that
	// the dispatcher did not declare with Emits (or with a payload of
	// another type), since the documents would not describe it.
	ErrUndeclared = errors.New("forge: undeclared server event")
	// ErrNoHub is returned by room operations of a dispatcher without a hub.
	ErrNoHub = errors.New("forge: events dispatcher has no hub")
	// ErrRequestTimeout is returned by Request.Do when the client did not
	// reply in time.
	ErrRequestTimeout = errors.New("forge: request timed out")
	// ErrClosed is returned by Request.Do when the connection ended before
	// the reply.
	ErrClosed = errors.New("forge: connection ended")
)
