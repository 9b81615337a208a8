package connection

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// Connection is one live WebSocket connection as a handler sees it.
//
// Every method is safe for concurrent use. Writes go through the
// connection's outbound queue, drained by one writer at a time, so frames
// never interleave. Reads are served by one reader at a time.
type Connection interface {
	// ID returns the connection's identifier: "ws_" followed by 128 random
	// bits, unique across processes and restarts.
	ID() string
	// Read returns the payload of the next text or binary message.
	Read() ([]byte, error)
	// ReadJSON reads the next message and unmarshals it into v. A payload
	// that is not valid JSON for v yields a *DecodeError; the connection
	// stays usable. When the route declares the one type of message clients
	// send (Config.Inbound, set by router.WithWebSocketMessages) and v
	// points to a value of that type, the message is first validated against the type's JSON schema,
	// the one the documents publish: a message that breaks it (a required
	// field missing, a string past its maxLength, ...) is not decoded and
	// yields a *DecodeError too. A handler that returns a *DecodeError
	// closes the connection with CloseInvalidPayload (1007) and the reason
	// "invalid JSON" or "invalid message"; one that answers it and reads
	// on keeps the connection.
	ReadJSON(v any) error
	// Write sends data as one text message. It copies data, so the caller may
	// reuse it once Write returns. While the outbound queue is full, Write
	// waits for the peer to drain it, up to the write timeout; a peer that
	// does not is closed as a slow consumer and Write returns ErrSlowConsumer.
	Write(data []byte) error
	// WriteJSON marshals v and sends it as one text message, like Write.
	WriteJSON(v any) error
	// WriteBinary sends data as one binary message, like Write.
	WriteBinary(data []byte) error
	// Close closes the connection with CloseNormal. Messages queued before
	// Close are flushed (bounded by the write timeout) before the close frame.
	Close() error
	// CloseWith closes the connection with the given status code and reason
	// (at most 123 bytes of UTF-8).
	CloseWith(code StatusCode, reason string) error
	// Context returns the connection's context. It carries the upgrade
	// request's values but not its cancellation, and is cancelled as soon as
	// the connection ends for any reason.
	Context() context.Context
	// RemoteAddr returns the peer's network address.
	RemoteAddr() string
	// LocalAddr returns the server's network address.
	LocalAddr() string
	// Subprotocol returns the negotiated subprotocol, or "" if none.
	Subprotocol() string

	// ReadMessage returns the next message and its type. If ctx ends first it
	// returns ErrReadTimeout (deadline) or ctx.Err(); the message still in
	// flight is kept for the next read, and the connection stays usable.
	ReadMessage(ctx context.Context) (MessageType, []byte, error)
	// WriteMessage enqueues one message of type typ. If ctx ends while it
	// waits for room in the queue it returns ErrWriteTimeout (deadline) or
	// ctx.Err(), nothing is sent, and the connection stays usable.
	WriteMessage(ctx context.Context, typ MessageType, data []byte) error
	// NewReader returns a reader over the payloads of consecutive incoming
	// messages, read as one byte stream. It returns io.EOF once the peer
	// closes the connection normally.
	NewReader() io.Reader
	// NewWriter returns a writer that sends each Write call as one message of
	// type typ.
	NewWriter(typ MessageType) io.Writer
	// WritePrepared sends a message prepared once for many connections,
	// waiting for room in the queue like Write.
	WritePrepared(pm *PreparedMessage) error
	// Offer queues a prepared message without ever waiting, for broadcasts.
	// When the queue is full the route's slow-consumer Policy applies
	// (close the connection, or drop and count). It reports whether the
	// message was queued.
	Offer(pm *PreparedMessage) bool
	// PeriodicWrite writes get's value now and then every interval, skipping
	// a value that equals the last one written (reflect.DeepEqual unless a
	// comparator is given). It returns nil when the connection ends, or the
	// first error from get or from writing.
	PeriodicWrite(interval time.Duration, get func() (any, error), same ...func(last, current any) bool) error

	// Listen hands the connection's reads to fn, which is called with each
	// message in turn, and returns ErrListening, which the handler returns
	// at once: `return conn.Listen(fn)`. The connection then lives on
	// without the handler's goroutine. Between messages it holds no
	// goroutine at all on Linux, where the socket's readiness comes from
	// an epoll poller that forge runs while any connection listens
	// (elsewhere, and over TLS, a goroutine reads for it); so a server
	// with many idle connections keeps only their buffers and state.
	//
	// fn runs in a goroutine of forge's (on Linux sometimes the poller's
	// own, which hands its waiting to another once fn has run for 1 ms,
	// and leaves that connection to other goroutines for a while), one
	// call at a time and in order; it may write, and it should return
	// soon, since the connection reads nothing while it runs. Its error
	// closes the connection as a handler's would (see Serve for the
	// codes), and so does a panic, recovered and logged. The connection's
	// context ends when it closes, for any reason; pings, pongs, keepalive
	// and the closing handshake work as for a handler that reads. Read and
	// ReadMessage fail once Listen was called, except while fn runs: then
	// they take the next messages (from fn, or from a goroutine waiting
	// for a reply meanwhile), which fn is not given, and the connection
	// reads on for fn once they returned. A message still being read when
	// the connection closes is not delivered. The handler's defers run
	// when it returns, at once; what must run when the connection ends
	// goes in OnListenEnd.
	Listen(fn func(typ MessageType, data []byte) error, opts ...ListenOption) error
}

// MessageType is the type of a WebSocket data message.
type MessageType int

// Data message types, as numbered by RFC 6455.
const (
	TextMessage   MessageType = websocket.TextMessage
	BinaryMessage MessageType = websocket.BinaryMessage
)

// StatusCode is a WebSocket close status code (RFC 6455, section 7.4).
type StatusCode int

// Close status codes used by forge. CloseSlowConsumer is the code a peer gets
// when it does not drain its outbound queue within the write timeout.
const (
	CloseNormal          StatusCode = 1000
	CloseGoingAway       StatusCode = 1001
	CloseProtocolError   StatusCode = 1002
	CloseUnsupportedData StatusCode = 1003
	CloseNoStatus        StatusCode = 1005
	CloseAbnormal        StatusCode = 1006
	CloseInvalidPayload  StatusCode = 1007
	ClosePolicyViolation StatusCode = 1008
	CloseMessageTooBig   StatusCode = 1009
	CloseInternalError   StatusCode = 1011
	CloseTryAgainLater   StatusCode = 1013

	// CloseSlowConsumer tells a client that it fell behind: its outbound
	// queue stayed full for longer than the write timeout. Reconnecting
	// later is the right response, hence 1013 (Try Again Later).
	CloseSlowConsumer = CloseTryAgainLater

	// CloseTokenExpired closes a connection whose credentials expired, on
	// routes that ask for it (forge.WithAuthExpiry). A client reconnects
	// with a fresh token.
	CloseTokenExpired StatusCode = 4401
)

// CloseError carries a close status code and reason. A handler that returns
// one (or an error wrapping one) closes its connection with that code; Read
// returns one when the peer closes the connection.
type CloseError struct {
	Code   StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	s := "websocket closed with status " + strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// CloseStatus returns the status code carried by err, or -1 if err carries
// none.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// DecodeError reports a message that ReadJSON could not decode into the
// value it was given, or that breaks the JSON schema of the route's
// declared inbound type (Config.Inbound). The connection stays usable; a
// handler that returns the error closes the connection with
// CloseInvalidPayload and the reason "invalid JSON" (or "invalid message",
// for a message that breaks the schema), and Err, which may name Go types,
// goes to the log only.
type DecodeError struct {
	Err error
}

func (e *DecodeError) Error() string { return "forge: decode JSON message: " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// Errors returned by connection methods.
var (
	// ErrClosed is returned by reads and writes on a connection that has been
	// closed, locally or by the peer.
	ErrClosed = errors.New("forge: connection closed")
	// ErrReadTimeout is returned when a read's context deadline passes
	// before a message arrives.
	ErrReadTimeout = errors.New("forge: read timeout")
	// ErrWriteTimeout is returned when a write's context deadline passes
	// before the outbound queue had room for the message.
	ErrWriteTimeout = errors.New("forge: write timeout")
	// ErrSlowConsumer is returned by a write that closed the connection
	// because the peer did not drain its queue within the write timeout.
	ErrSlowConsumer = errors.New("forge: slow consumer closed")
)
