package connection

import (
	"errors"
	"net"
	"time"
)

// Observer watches the connections of a Tracker: the handshakes refused and
// the connections opened. Metrics and the inspector implement it (package
// metrics, package admin). A Tracker without an Observer calls nothing, so
// that connections pay nothing for observation they do not use.
//
// Its methods are called from many goroutines at once and must not block.
type Observer interface {
	// Refused is called for each handshake refused before the upgrade,
	// with the route's pattern (Config.Route).
	Refused(route string, why Refusal)
	// Opened is called once a connection is upgraded, before its handler
	// runs. The ConnObserver it returns watches the connection until its
	// Closed; nil watches nothing.
	Opened(c *Conn, info OpenInfo) ConnObserver
}

// HeaderTimeoutObserver is implemented by an Observer that wants to know
// of each connection counted through Tracker.CountHeaderTimeout: one cut
// off before it had sent its request's headers.
type HeaderTimeoutObserver interface {
	HeaderTimedOut()
}

// OpenInfo describes a connection just opened, for Observer.Opened.
type OpenInfo struct {
	Route     string        // the route's pattern (Config.Route)
	Policy    Policy        // the route's slow-consumer policy
	Handshake time.Duration // from Serve's start to the end of the upgrade
}

// ConnObserver watches one connection. Its reader and its writer call it
// as messages pass, some while holding the connection's locks: each call
// must be quick, must not block, and must not call the connection's
// methods. A ConnObserver must be safe for concurrent use.
type ConnObserver interface {
	// Message is called for each data message read from the peer (in is
	// true; messages over the rate limit included) and for each one handed
	// to the socket (in is false). data must not be modified nor kept
	// once Message returns.
	Message(in bool, typ MessageType, data []byte)
	// Queued is called with the bytes waiting in the outbound queue,
	// whenever a message joins the queue instead of being written at once.
	Queued(bytes int)
	// Dropped is called for each drop counted in Stats: an outbound
	// message dropped (DropQueueFull, DropClosing), an incoming message
	// over the rate limit (DropRateLimited), and the connection closed as
	// a slow consumer (DropSlowConsumer, once).
	Dropped(why Drop)
	// Closed is called once, when the connection has ended.
	Closed(info SessionInfo)
}

// Refusal is why a handshake was refused before the upgrade.
type Refusal int

// Reasons for refusing a handshake.
const (
	// RefusedBadRequest: not a WebSocket handshake, no subprotocol the
	// route requires, or a handshake the upgrader rejected.
	RefusedBadRequest Refusal = iota
	// RefusedOrigin: a browser's origin that the route does not allow.
	RefusedOrigin
	// RefusedAuth: credentials missing, invalid or short of a scope
	// (router.WithAuth).
	RefusedAuth
	// RefusedShutdown: the application is shutting down.
	RefusedShutdown
)

func (r Refusal) String() string {
	switch r {
	case RefusedOrigin:
		return "origin"
	case RefusedAuth:
		return "auth"
	case RefusedShutdown:
		return "shutdown"
	}
	return "bad_request"
}

// Drop is what a ConnObserver's Dropped call reports.
type Drop int

// Kinds of drops.
const (
	// DropQueueFull: an outbound message lost to a full queue (counted in
	// Stats.Dropped): dropped by the route's slow-consumer policy (the new
	// one, or queued ones with PolicyDropOldest; with PolicyClose, the one
	// that found the queue full), or still queued when the connection was
	// closed as a slow consumer.
	DropQueueFull Drop = iota
	// DropClosing: an outbound message offered to, or still queued on, a
	// connection that was closing for another reason (counted in
	// Stats.Discarded).
	DropClosing
	// DropSlowConsumer: the connection is closed as a slow consumer. It
	// is not a message; it comes once per connection.
	DropSlowConsumer
	// DropRateLimited: an incoming message over the route's MessageRate.
	DropRateLimited
)

func (d Drop) String() string {
	switch d {
	case DropClosing:
		return "closing"
	case DropSlowConsumer:
		return "slow_consumer"
	case DropRateLimited:
		return "rate_limited"
	}
	return "queue_full"
}

// ObserverOf returns the ConnObserver watching conn, or nil when nothing
// watches it (or conn is not a *Conn). Layers above the connection, such
// as the event dispatcher, use it to report what only they know, through
// the methods the observer implements beyond ConnObserver.
func ObserverOf(conn Connection) ConnObserver {
	if c, ok := conn.(*Conn); ok {
		return c.obs
	}
	return nil
}

// RouteOf returns the pattern of the route conn was accepted on (its
// Config.Route), or "" when conn is not a *Conn or has none. Layers above
// the connection use it to name the route in what they log.
func RouteOf(conn Connection) string {
	if c, ok := conn.(*Conn); ok {
		return c.cfg.Route
	}
	return ""
}

// Info describes a connection as it is now, for listings such as the
// inspector's.
type Info struct {
	ID          string    `json:"id"`
	Route       string    `json:"route"` // the route's pattern
	RemoteAddr  string    `json:"remote_addr"`
	Subprotocol string    `json:"subprotocol,omitempty"`
	Opened      time.Time `json:"opened"`
	// QueueBytes is the payload bytes waiting in the outbound queue, not
	// yet handed to the socket.
	QueueBytes  int    `json:"queue_bytes"`
	MessagesIn  uint64 `json:"messages_in"` // data messages read, rate-limited ones included
	BytesIn     uint64 `json:"bytes_in"`
	MessagesOut uint64 `json:"messages_out"` // data messages handed to the socket
	BytesOut    uint64 `json:"bytes_out"`
}

// lostKindLocked says why the messages still queued are lost when the
// connection fails: a full queue when it is closed as a slow consumer,
// its closing otherwise. Caller holds wmu.
func (c *Conn) lostKindLocked() Drop {
	if c.slow {
		return DropQueueFull
	}
	return DropClosing
}

// lostTo says why a message that the writer gave up on after err is lost:
// a write that timed out is a peer that did not keep up.
func lostTo(err error) Drop {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return DropQueueFull
	}
	return DropClosing
}

// InfoOf returns a snapshot of c. It is a function rather than a method
// so that Conn's methods stay those of Connection, the handler's view.
func InfoOf(c *Conn) Info {
	c.wmu.Lock()
	queued := c.queuedLocked()
	c.wmu.Unlock()
	return Info{
		ID:          c.id,
		Route:       c.cfg.Route,
		RemoteAddr:  c.RemoteAddr(),
		Subprotocol: c.ws.Subprotocol(),
		Opened:      c.start,
		QueueBytes:  queued,
		MessagesIn:  c.msgsIn.Load(),
		BytesIn:     c.bytesIn.Load(),
		MessagesOut: c.msgsOut.Load(),
		BytesOut:    c.bytesOut.Load(),
	}
}

// dropped counts n outbound messages lost for why, in the Tracker's
// Stats (Dropped or Discarded) and for the observer.
func (c *Conn) dropped(why Drop, n int) {
	if n <= 0 {
		return
	}
	if c.cfg.Tracker != nil {
		if why == DropClosing {
			c.cfg.Tracker.discarded.Add(uint64(n))
		} else {
			c.cfg.Tracker.dropped.Add(uint64(n))
		}
	}
	if c.obs != nil {
		for range n {
			c.obs.Dropped(why)
		}
	}
}
