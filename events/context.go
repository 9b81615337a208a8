package events

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/router"
)

// Context is what a handler gets for one message: the message, its
// connection, and ways to answer, join rooms and broadcast. A new Context
// is made for every message, so a handler may hand it to goroutines;
// WithOnConnect and WithOnDisconnect hooks get one without a message.
//
// Context holds only what the dispatcher adds. The upgrade request (path
// parameters, query, headers) is Route's, and the connection (its id,
// address, subprotocol, raw writes) is Conn's: c.Route().Param("room"),
// c.Conn().ID(). ConnContext stays although it looks like
// c.Conn().Context(): it ends as soon as the dispatcher stops handling the
// connection. When the dispatcher ends the connection itself (a handler's
// CloseError, a refused connect), the connection's own context ends only
// after the WebSocket handler returns, and the handler first waits for the
// GoSafe goroutines: one that watched the connection's context would
// never be told to stop.
type Context struct {
	s       *session
	event   string
	id      string
	channel string
	payload []byte
	ctx     context.Context
}

// Context returns the message's context: the connection's, with the
// event's deadline (WithTimeout) if it has one. It is cancelled when the
// connection ends, at the deadline, and, for an event with a deadline,
// when the handler returns.
func (c *Context) Context() context.Context { return c.ctx }

// ConnContext returns the connection's context for the dispatcher: it
// carries the upgrade request's values (the authenticated principal, for
// one) but not its cancellation, and ends when the dispatcher stops
// handling the connection, before GoSafe goroutines are waited for. Work
// with a deadline of its own derives from it:
// context.WithTimeout(c.ConnContext(), d).
func (c *Context) ConnContext() context.Context { return c.s.ctx }

// Event returns the message's event name.
func (c *Context) Event() string { return c.event }

// ID returns the message's id, which a reply carries back; "" when the
// client expects none.
func (c *Context) ID() string { return c.id }

// Channel returns the message's channel, with WithCommandEnvelope; "" for
// forge's envelope.
func (c *Context) Channel() string { return c.channel }

// Payload returns the message's raw JSON payload, nil when it had none.
// Do not modify it.
func (c *Context) Payload() []byte { return c.payload }

// Conn returns the connection: its ID, addresses and subprotocol, and
// writes that bypass the event envelope.
func (c *Context) Conn() connection.Connection { return c.s.conn }

// Route returns the context of the upgrade request: path parameters
// (Route().Param), query (Route().Query), headers.
func (c *Context) Route() router.Context { return c.s.rc }

// RefreshAuth accepts a fresh token that the client sent in a message,
// before the credentials it connected with expire (router.WithAuthExpiry
// closes the connection with 4401 then): the route's providers check it
// as if it came in the Authorization header, with the route's scopes. On
// success the new principal is what auth.PrincipalFrom(ctx.ConnContext())
// returns from then on, and the expiry moves to the new token's. On failure
// nothing changes, and the error is an *auth.Error, whose Code and
// Description may be shown to the client, auth.ErrNoCredentials when no
// provider takes the token, or router.ErrNoAuth on a route without
// router.WithAuth. It is router.RefreshAuth on the upgrade request.
func (c *Context) RefreshAuth(token string) (*auth.Principal, error) {
	return router.RefreshAuth(c.s.rc, token)
}

// Logger returns the dispatcher's logger with the connection's id.
func (c *Context) Logger() *slog.Logger { return c.s.logger() }

// Set stores a value for the connection's lifetime, for later messages.
func (c *Context) Set(key, value any) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.values == nil {
		c.s.values = make(map[any]any)
	}
	c.s.values[key] = value
}

// Get returns a value stored with Set, or nil.
func (c *Context) Get(key any) any {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.values[key]
}

// Emit sends the server event to this connection, waiting for room in its
// queue like Connection.Write. An event the connection did not subscribe
// to is skipped (and counted in Stats.Filtered). The event must have been
// declared with Emits, with the payload's type.
func (c *Context) Emit(event string, payload any) error {
	d := c.s.d
	if err := d.checkEmit(event, payload); err != nil {
		return err
	}
	if !c.s.subs.Accepts(event) {
		d.stats.filtered.Add(1)
		return nil
	}
	data, err := d.encode(event, "", c.channel, payload)
	if err != nil {
		return err
	}
	return c.s.conn.Write(data)
}

// Join adds the connection to room in the dispatcher's hub. A join that
// the hub refuses for the client's sake (too many rooms, an invalid name)
// fails with an *Error that a handler can return as it is. When the room
// keeps history and the handshake gave a position for it (?recover=), the
// connection first gets what it missed, then a "recovery" event.
func (c *Context) Join(room string) error {
	h := c.s.d.cfg.hub
	if h == nil {
		return ErrNoHub
	}
	recovering, err := c.joinFrom(h, room)
	if !recovering {
		err = h.Join(c.ctx, c.s.conn.ID(), room)
	}
	switch {
	case errors.Is(err, hub.ErrTooManyRooms):
		return &Error{Code: CodeTooManyRooms, Message: "this connection is in as many rooms as it may be"}
	case errors.Is(err, hub.ErrInvalidRoom):
		return &Error{Code: CodeInvalidRoom, Message: "invalid room name"}
	}
	return err
}

// Leave removes the connection from room in the dispatcher's hub.
func (c *Context) Leave(room string) error {
	h := c.s.d.cfg.hub
	if h == nil {
		return ErrNoHub
	}
	return h.Leave(c.ctx, c.s.conn.ID(), room)
}

// Rooms returns the rooms the connection is in, sorted.
func (c *Context) Rooms() []string {
	h := c.s.d.cfg.hub
	if h == nil {
		return nil
	}
	m, _ := h.Connection(c.s.conn.ID())
	return m.Rooms
}

// Broadcast sends the server event to every member of room but the
// connections listed (pass c.Conn().ID() to leave out the sender); see
// Dispatcher.Broadcast.
func (c *Context) Broadcast(room, event string, payload any, except ...string) error {
	return c.s.d.Broadcast(c.ctx, room, event, payload, except...)
}

// Subscribe makes the connection receive these server events too; "*"
// means all of them.
func (c *Context) Subscribe(events ...string) { c.s.subs.update(true, events) }

// Unsubscribe stops the connection from receiving these server events;
// "*" means all of them.
func (c *Context) Unsubscribe(events ...string) { c.s.subs.update(false, events) }

// Subscribed reports whether the connection receives the server event.
func (c *Context) Subscribed(event string) bool { return c.s.subs.Accepts(event) }

// GoSafe runs fn(ctx) in a goroutine owned by the connection: a panic in
// it is recovered and reported (logged, counted, WithPanicHandler) without
// harm to the connection, and the connection's handling does not end
// before fn returns, so fn must watch ctx. Pass c.Context() to have fn
// cancelled with the message's deadline (and, for an event with a
// deadline, when its handler returns), or c.ConnContext() to have it live
// as long as the connection. After the connection ended, GoSafe does
// nothing.
func (c *Context) GoSafe(ctx context.Context, fn func(ctx context.Context)) {
	s := c.s
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			if v := recover(); v != nil {
				s.panicked(c, v, debug.Stack())
			}
		}()
		fn(ctx)
	}()
}
