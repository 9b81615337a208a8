package router

import (
	"fmt"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
)

// The options in this file set fields of a WebSocket route's
// connection.Config. Each is a WebSocketOption, so a REST route does not
// take it; given to a group or as defaults it skips the REST routes. Each
// is built by wsOption or handshakeOption. Values are checked when
// the option is built, so that a bad one panics where it is written.

// wsOption returns the option called name, which applies set to a
// WebSocket route's connection settings.
func wsOption(name string, set func(*connection.Config)) WebSocketOption {
	return webSocketOnly(func(s *settings) {
		if s.wsOnly(name) {
			set(&s.conn)
		}
	})
}

// handshakeOption is wsOption for a handshake setting, which an Upgrader
// (WithUpgrader) would override: the two cannot be combined.
func handshakeOption(name string, set func(*connection.Config)) WebSocketOption {
	return webSocketOnly(func(s *settings) {
		if s.handshake(name) {
			set(&s.conn)
		}
	})
}

// mustBePositive panics, as registration mistakes do, unless v > 0.
func mustBePositive[T int | int64 | time.Duration](option, what string, v T) {
	if v <= 0 {
		panic(fmt.Sprintf("forge: %s: %s must be positive", option, what))
	}
}

// WithSubprotocols lists the WebSocket subprotocols a route speaks, in order
// of preference; the handshake picks the first one the client offers.
func WithSubprotocols(protos ...string) WebSocketOption {
	if len(protos) == 0 || slices.Contains(protos, "") {
		panic("forge: WithSubprotocols: need at least one non-empty subprotocol")
	}
	protos = slices.Clone(protos)
	return handshakeOption("WithSubprotocols", func(c *connection.Config) { c.Subprotocols = protos })
}

// WithRequiredSubprotocol refuses, with 400 and before the upgrade, clients
// that offer none of the route's subprotocols.
func WithRequiredSubprotocol() WebSocketOption {
	return wsOption("WithRequiredSubprotocol", func(c *connection.Config) { c.RequireSubprotocol = true })
}

// WithOrigins sets the origins allowed to open WebSocket connections from a
// browser, replacing the default of the request's own host. See
// connection.Config.Origins for the patterns.
func WithOrigins(patterns ...string) WebSocketOption {
	if len(patterns) == 0 || slices.Contains(patterns, "") {
		panic("forge: WithOrigins: need at least one non-empty pattern")
	}
	patterns = slices.Clone(patterns)
	return handshakeOption("WithOrigins", func(c *connection.Config) { c.Origins = patterns })
}

// WithReadLimit caps the size of one incoming WebSocket message, in bytes.
func WithReadLimit(n int64) WebSocketOption {
	mustBePositive("WithReadLimit", "limit", n)
	return wsOption("WithReadLimit", func(c *connection.Config) { c.ReadLimit = n })
}

// WithKeepalive sets the interval between server pings and how long the
// peer has to answer one. A negative pingInterval disables keepalive.
func WithKeepalive(pingInterval, pongWait time.Duration) WebSocketOption {
	switch {
	case pingInterval == 0:
		panic("forge: WithKeepalive: ping interval must be positive, or negative to disable keepalive")
	case pingInterval > 0 && pongWait <= 0:
		panic("forge: WithKeepalive: pong wait must be positive")
	case pingInterval < 0:
		pingInterval, pongWait = -1, 0
	}
	return wsOption("WithKeepalive", func(c *connection.Config) { c.PingInterval, c.PongWait = pingInterval, pongWait })
}

// WithWriteTimeout bounds writing one WebSocket frame, and waiting for room
// in a full outbound queue.
func WithWriteTimeout(d time.Duration) WebSocketOption {
	mustBePositive("WithWriteTimeout", "timeout", d)
	return wsOption("WithWriteTimeout", func(c *connection.Config) { c.WriteTimeout = d })
}

// WithCloseTimeout bounds waiting for the peer's close frame after the
// server's.
func WithCloseTimeout(d time.Duration) WebSocketOption {
	mustBePositive("WithCloseTimeout", "timeout", d)
	return wsOption("WithCloseTimeout", func(c *connection.Config) { c.CloseTimeout = d })
}

// WithQueueBytes caps the payload bytes waiting in a connection's outbound
// queue.
func WithQueueBytes(n int) WebSocketOption {
	mustBePositive("WithQueueBytes", "size", n)
	return wsOption("WithQueueBytes", func(c *connection.Config) { c.QueueBytes = n })
}

// WithSlowConsumerPolicy sets what happens to a message offered without
// waiting, such as a broadcast, when the outbound queue is full.
func WithSlowConsumerPolicy(p connection.Policy) WebSocketOption {
	if p < connection.PolicyClose || p > connection.PolicyDropNewest {
		panic(fmt.Sprintf("forge: WithSlowConsumerPolicy: unknown policy %d", p))
	}
	return wsOption("WithSlowConsumerPolicy", func(c *connection.Config) { c.SlowConsumer = p })
}

// WithCompression enables permessage-deflate for clients that offer it.
// Messages shorter than minSize bytes are sent uncompressed; 0 means
// connection.DefaultCompressionMinSize.
func WithCompression(minSize int) WebSocketOption {
	if minSize < 0 {
		panic("forge: WithCompression: negative minimum size")
	}
	return handshakeOption("WithCompression", func(c *connection.Config) { c.Compression, c.CompressionMinSize = true, minSize })
}

// WithMessageRateLimit limits the messages a client may send on a
// WebSocket route: perSecond on average, in bursts of up to burst. A
// message over the limit is dropped and counted (App.Stats().RateLimited);
// the client gets an error event {"event":"error","payload":{"code":
// "rate_limited",...}} (on a route of package events, the error in its
// dispatcher's envelope, such as {"cmd":"error",...}; WithRateLimitReply
// sets another), or, with closeOnExceed, the connection is closed with 1008
// (policy violation).
func WithMessageRateLimit(perSecond float64, burst int, closeOnExceed bool) WebSocketOption {
	if perSecond <= 0 || burst < 1 {
		panic("forge: WithMessageRateLimit: rate and burst must be positive")
	}
	return wsOption("WithMessageRateLimit", func(c *connection.Config) {
		c.MessageRate, c.MessageBurst, c.RateLimitClose = perSecond, burst, closeOnExceed
	})
}

// WithRateLimitReply sets the text message a client gets for a message
// over WithMessageRateLimit, in place of the error event
// {"event":"error",...}. Package events gives its routes their
// dispatcher's error in its own envelope; a raw route whose clients expect
// another shape sets its own.
func WithRateLimitReply(msg []byte) WebSocketOption {
	if len(msg) == 0 {
		panic("forge: WithRateLimitReply: empty message")
	}
	msg = slices.Clone(msg)
	return wsOption("WithRateLimitReply", func(c *connection.Config) { c.RateLimitReply = msg })
}

// WithUpgrader performs the handshake with u instead of an upgrader built
// from the other options. Its origin check, compression and subprotocols
// apply: it replaces WithOrigins, WithCompression and WithSubprotocols
// inherited from groups or defaults, and cannot be combined with them in
// the same option list or below.
func WithUpgrader(u *websocket.Upgrader) WebSocketOption {
	if u == nil {
		panic("forge: WithUpgrader: nil upgrader")
	}
	return webSocketOnly(func(s *settings) {
		if !s.wsOnly("WithUpgrader") {
			return
		}
		if s.handshakeLayer == s.layer {
			s.fail("WithUpgrader cannot be combined with %s; configure the Upgrader instead", s.handshakeOption)
			return
		}
		s.conn.Origins, s.conn.Subprotocols = nil, nil
		s.conn.Compression, s.conn.CompressionMinSize = false, 0
		s.conn.Upgrader = u
	})
}
