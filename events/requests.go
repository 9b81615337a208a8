package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/forgekit/forge/connection"
)

// Request is a server event that the client answers: declared with
// Requests, sent with Do.
type Request[T, R any] struct {
	d     *Dispatcher
	name  string
	reply *payloadType
}

// Requests declares the server event name, with payloads of type T, which
// the client answers with {"event": name + ".ack", "id": ..., "payload":
// R} (or an error event with the id); both are declared for the documents.
// Only WithSummary and WithDescription apply.
func Requests[T, R any](d *Dispatcher, name string, opts ...HandlerOption) *Request[T, R] {
	d.checkName("Requests", name)
	s := documentation("Requests", name, opts)
	pt := mustPayloadType[R]("Requests", name)
	d.declare("Requests", name, reflect.TypeFor[T](), pt.typ, s)
	return &Request[T, R]{d: d, name: name, reply: pt}
}

// Do sends the request to c's connection and waits for the reply, which is
// validated and decoded like a client event's payload. It fails with
// ErrRequestTimeout when ctx ends first (or, if ctx has no deadline, after
// WithRequestTimeout), with ErrClosed when the connection ends, with the
// client's *Error when it answered with one, and with an *Error
// (CodeInvalidPayload, which the client is sent too) when the reply does
// not fit R. Do may be called from a handler: the connection is read while
// it waits, and other messages are handled after the handler returns.
func (r *Request[T, R]) Do(ctx context.Context, c *Context, payload T) (R, error) {
	var zero R
	s := c.s
	if s.d != r.d {
		return zero, fmt.Errorf("forge: request %q: the connection is served by another dispatcher", r.name)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.d.cfg.reqTimeout)
		defer cancel()
	}
	id, ch := s.addPending(r.name)
	defer s.dropPending(id)
	data, err := r.d.encode(r.name, id, c.channel, payload)
	if err != nil {
		return zero, err
	}
	if err := s.conn.Write(data); err != nil {
		return zero, fmt.Errorf("forge: request %q: %w", r.name, err)
	}
	rep, err := s.await(ctx, ch)
	if err != nil {
		return zero, fmt.Errorf("forge: request %q: %w", r.name, err)
	}
	if rep.err != nil {
		return zero, rep.err
	}
	var v R
	if err := r.reply.decode(rep.payload, &v); err != nil {
		var e *Error
		if errors.As(err, &e) {
			s.sendError(id, c.channel, e)
		}
		return zero, fmt.Errorf("forge: request %q: reply: %w", r.name, err)
	}
	return v, nil
}

// pendingRequest is a server request waiting for the client's reply.
type pendingRequest struct {
	name string
	ch   chan reply // capacity 1
}

// reply is what the client answered: a payload, or an error event.
type reply struct {
	payload []byte
	err     *Error
}

// addPending registers a request; its id starts with "s" and counts per
// connection.
func (s *session) addPending(name string) (string, chan reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "s" + strconv.FormatUint(s.nextID, 10)
	if s.pending == nil {
		s.pending = make(map[string]*pendingRequest)
	}
	p := &pendingRequest{name: name, ch: make(chan reply, 1)}
	s.pending[id] = p
	s.npending.Add(1)
	return id, p.ch
}

func (s *session) dropPending(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[id]; ok {
		delete(s.pending, id)
		s.npending.Add(-1)
	}
}

// routeReply hands a message that answers a pending request to it, and
// reports whether it did.
func (s *session) routeReply(typ connection.MessageType, data []byte) bool {
	if s.npending.Load() == 0 || typ != connection.TextMessage {
		return false
	}
	var in inbound
	if s.d.env.decode(data, &in) != nil || in.id == "" {
		return false
	}
	name := in.eventName()
	s.mu.Lock()
	p := s.pending[in.id]
	if p == nil || (name != "error" && name != p.name+ackSuffix) {
		s.mu.Unlock()
		return false
	}
	delete(s.pending, in.id)
	s.npending.Add(-1)
	s.mu.Unlock()
	s.d.stats.received.Add(1)
	rep := reply{payload: in.payload}
	if name == "error" {
		e := &Error{}
		if json.Unmarshal(in.payload, e) != nil || e.Code == "" {
			e = &Error{Code: CodeInternal, Message: "the client answered with an error event"}
		}
		rep = reply{err: e}
	}
	p.ch <- rep
	return true
}

// await waits for a reply on ch. Whenever nobody else reads the
// connection, it reads itself: replies go to their requests, other
// messages are kept, in order, for the session's dispatch (see keep).
func (s *session) await(ctx context.Context, ch chan reply) (reply, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	for {
		select {
		case r := <-ch:
			return r, nil
		case <-rctx.Done():
			return reply{}, s.awaitErr(ctx)
		case s.rtok <- struct{}{}:
		}
		select {
		case r := <-ch:
			<-s.rtok
			return r, nil
		default:
		}
		typ, data, err := s.conn.ReadMessage(rctx)
		if err != nil {
			<-s.rtok
			if rctx.Err() != nil {
				continue // the Done case says why
			}
			return reply{}, fmt.Errorf("%w: %w", ErrClosed, err)
		}
		if !s.routeReply(typ, data) {
			s.keep(typ, data)
		}
		<-s.rtok
	}
}

func (s *session) awaitErr(ctx context.Context) error {
	switch {
	case s.ctx.Err() != nil:
		return ErrClosed
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ErrRequestTimeout
	}
	return ctx.Err()
}
