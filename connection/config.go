package connection

import (
	"log/slog"
	"math"
	"time"

	"github.com/gorilla/websocket"
)

// Default settings, used for every zero field of a Config.
const (
	DefaultReadLimit          = 64 << 10
	DefaultPingInterval       = 25 * time.Second
	DefaultPongWait           = 20 * time.Second
	DefaultWriteTimeout       = 10 * time.Second
	DefaultCloseTimeout       = 5 * time.Second
	DefaultQueueBytes         = 1 << 20
	DefaultCompressionMinSize = 512
)

// Policy says what happens to a message offered without waiting (a hub
// broadcast) when the connection's outbound queue is full. Whatever the
// policy, the event is counted in Stats.
type Policy int

const (
	// PolicyClose closes the connection with CloseSlowConsumer.
	PolicyClose Policy = iota
	// PolicyDropOldest drops queued messages, oldest first, until the new
	// one fits.
	PolicyDropOldest
	// PolicyDropNewest drops the new message and keeps the queue as it is.
	PolicyDropNewest
)

// Config holds a connection's settings. The zero value of every field means
// its default, so a zero Config is ready to use. Connections keep the
// Config they were served with (see Serve): do not change it while they
// are open.
type Config struct {
	// Origins lists the origins allowed to open a connection from a
	// browser. An entry is a host pattern ("app.example.com",
	// "*.example.com", "localhost:*") or a full origin with a scheme
	// ("https://*.example.com"); "*" allows every origin. When empty, only
	// the request's own host is allowed. Requests without an Origin header
	// (non-browser clients) are always allowed.
	Origins []string

	// ReadLimit caps the size of one incoming message (after
	// decompression); a larger one closes the connection with
	// CloseMessageTooBig, reason "message too big". It bounds the
	// message's frames on the wire too (headers included, compressed as
	// they come): at twice ReadLimit, so that frames and deflate's overhead
	// have room, and so that compressed data that inflates to little
	// cannot stream without end. Default DefaultReadLimit.
	ReadLimit int64

	// PingInterval is the time between server pings; negative disables
	// keepalive. PongWait is how long after a ping the peer has to show it
	// is alive (any frame counts). Defaults DefaultPingInterval and
	// DefaultPongWait. A handler that is not reading never gets a healthy
	// peer closed: the wait only runs while someone reads.
	PingInterval time.Duration
	PongWait     time.Duration

	// WriteTimeout bounds writing one frame to the socket and waiting for
	// room in a full outbound queue. Default DefaultWriteTimeout.
	WriteTimeout time.Duration

	// CloseTimeout bounds waiting for the peer's close frame after ours.
	// Default DefaultCloseTimeout.
	CloseTimeout time.Duration

	// QueueBytes caps the payload bytes waiting in the outbound queue:
	// bytes count until they are handed to the socket, so a peer that
	// keeps up is never closed, whatever the volume. A message larger than
	// the cap is still accepted into an empty queue. Default
	// DefaultQueueBytes.
	//
	// Handed to the socket includes the frames that one write gathers (16
	// KiB at most, see the writer) and what the socket did not take of
	// them at once: like the bytes in the kernel's send buffer, they are
	// lost without being counted as dropped when the connection fails.
	// Messages still queued when it fails are counted.
	QueueBytes int

	// SlowConsumer is the policy for messages offered without waiting when
	// the queue is full. Default PolicyClose.
	SlowConsumer Policy

	// Compression enables permessage-deflate when the client offers it.
	// Messages shorter than CompressionMinSize (default
	// DefaultCompressionMinSize) are sent uncompressed. An offer is
	// accepted without context takeover either way; an invalid offer, or
	// one that asks for server_max_window_bits, is declined, and the
	// connection works uncompressed (RFC 7692).
	Compression        bool
	CompressionMinSize int

	// Subprotocols lists the subprotocols the route speaks, in order of
	// preference. With RequireSubprotocol, a client that offers none of them
	// is refused with 400 before the upgrade.
	Subprotocols       []string
	RequireSubprotocol bool

	// Inbound is a value of the type clients send, such as &Say{}, or nil
	// when undeclared. ReadJSON into a pointer to that type first
	// validates the message against the JSON schema reflected from the
	// type and its struct tags (the schema the documents publish for it):
	// a message that breaks it (a required field missing, a string under
	// its minLength, ...) is not decoded, and ReadJSON returns a
	// *DecodeError. Routes set it from the one message type clients send
	// that they declare (router.WithWebSocketMessages).
	Inbound any

	// Upgrader, when set, is used for the handshake instead of the one built
	// from this Config: its buffer sizes, CheckOrigin, compression and
	// subprotocols apply. Its Error field is replaced so that refusals use
	// forge's response format.
	Upgrader *websocket.Upgrader

	// Logger receives lifecycle and error logs; nil means slog.Default().
	Logger *slog.Logger

	// Tracker, when set, registers the connection for graceful shutdown.
	Tracker *Tracker

	// Route names the route in what the Tracker's Observer is told: the
	// route's pattern, such as "/ws/chat/{room}", never the request's
	// path. The router sets it.
	Route string

	// MessageRate limits the messages a peer may send, per second, with
	// bursts of up to MessageBurst (at least 1); zero means no limit. A
	// message over the limit is dropped, counted in Stats.RateLimited, and
	// answered with an error event ({"event":"error","payload":{"code":
	// "rate_limited",...}}), or, with RateLimitClose, closes the connection
	// with ClosePolicyViolation.
	MessageRate    float64
	MessageBurst   int
	RateLimitClose bool

	// RateLimitReply is the text message a peer gets for a message over
	// MessageRate (without RateLimitClose). nil means the error event
	// above, in package events' event envelope; package events sets its
	// dispatcher's own envelope, so that a route of commands answers with
	// a command.
	RateLimitReply []byte
}

func (c *Config) readLimit() int64 {
	if c.ReadLimit > 0 {
		return c.ReadLimit
	}
	return DefaultReadLimit
}

// readAhead is the size of the read buffer gorilla reads frames through:
// net/http's, or the Upgrader's.
const readAhead = 4096

// wireLimit bounds the bytes one message may take on the socket, counted
// once its first frame's header is read: twice the read limit, plus what
// the read buffer may take ahead of the message's end.
func (c *Config) wireLimit() int64 {
	ahead := int64(readAhead)
	if c.Upgrader != nil {
		ahead = max(ahead, int64(c.Upgrader.ReadBufferSize))
	}
	limit := c.readLimit()
	if limit > (math.MaxInt64-ahead)/2 {
		return math.MaxInt64
	}
	return 2*limit + ahead
}

func (c *Config) pingInterval() time.Duration {
	if c.PingInterval != 0 {
		return c.PingInterval
	}
	return DefaultPingInterval
}

func (c *Config) pongWait() time.Duration {
	if c.PongWait > 0 {
		return c.PongWait
	}
	return DefaultPongWait
}

func (c *Config) writeTimeout() time.Duration {
	if c.WriteTimeout > 0 {
		return c.WriteTimeout
	}
	return DefaultWriteTimeout
}

func (c *Config) closeTimeout() time.Duration {
	if c.CloseTimeout > 0 {
		return c.CloseTimeout
	}
	return DefaultCloseTimeout
}

func (c *Config) queueBytes() int {
	if c.QueueBytes > 0 {
		return c.QueueBytes
	}
	return DefaultQueueBytes
}

func (c *Config) compressionMinSize() int {
	if c.CompressionMinSize > 0 {
		return c.CompressionMinSize
	}
	return DefaultCompressionMinSize
}

func (c *Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}
