package hub

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/forgekit/forge/connection"
)

// Message is what the hub delivers: one WebSocket message, encoded once for
// all its recipients.
type Message struct {
	// Data is the message's payload. The hub keeps it until every recipient
	// has been sent it: do not modify it after the call.
	Data []byte
	// Binary sends a binary message instead of a text message.
	Binary bool
	// Event labels the message for member filters (see WithFilter), with
	// the event name it carries. An unlabelled message reaches every
	// member.
	Event string
	// Except lists connection ids that do not receive the message, such as
	// its sender's.
	Except []string
	// Transient keeps the message out of its room's history (WithHistory):
	// news of the moment, such as "someone is typing", delivered live only
	// and without a position.
	Transient bool
}

func (msg *Message) prepare() (*connection.PreparedMessage, error) {
	typ := connection.TextMessage
	if msg.Binary {
		typ = connection.BinaryMessage
	}
	return connection.NewPreparedMessage(typ, msg.Data)
}

// Broadcast sends msg to every member of room, on this node and, with a
// broker, on every other node. It never waits for a member: each one's
// message is queued or handled by its slow-consumer policy (and counted).
// A room without members here is not an error. The error reports a hub
// that is closed or a broker that failed; local members have their message
// either way.
//
// In a room with history (WithHistory), the message must be a JSON object:
// it is appended to the history first, and every member on every node
// receives it in the order of the history, with its position.
func (h *Hub) Broadcast(ctx context.Context, room string, msg Message) error {
	return h.broadcast(ctx, room, msg, !msg.Transient)
}

func (h *Hub) broadcast(ctx context.Context, room string, msg Message, history bool) error {
	if !validRoom(room) {
		return fmt.Errorf("%w: %q", ErrInvalidRoom, room)
	}
	h.mu.RLock()
	closed, r := h.closed, h.rooms[room]
	h.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	h.published.Add(1)
	h.taps.send(room, &msg)
	if history {
		if opts, ok := h.historyOf(room); ok {
			return h.broadcastHistory(ctx, room, opts, msg)
		}
	}
	if r != nil {
		pm, err := msg.prepare()
		if err != nil {
			return fmt.Errorf("forge: broadcast: %w", err)
		}
		h.fanout(r, pm, msg.Event, msg.Except)
	}
	if h.broker == nil {
		return nil
	}
	return h.toBroker(ctx, roomTopic(room), kindRoom, "", &msg)
}

// BroadcastAll sends msg to every connection registered with the hub, on
// this node and, with a broker, on every other node, without waiting for
// any.
func (h *Hub) BroadcastAll(ctx context.Context, msg Message) error {
	pm, err := msg.prepare()
	if err != nil {
		return fmt.Errorf("forge: broadcast: %w", err)
	}
	h.mu.RLock()
	if h.closed {
		h.mu.RUnlock()
		return ErrClosed
	}
	var n counts
	for _, m := range h.members {
		n.offer(m, pm, msg.Event, msg.Except)
	}
	h.mu.RUnlock()
	h.published.Add(1)
	h.count(n)
	if h.broker == nil {
		return nil
	}
	return h.toBroker(ctx, allTopic, kindAll, "", &msg)
}

// Send sends msg to the connection id, without waiting. For a connection
// on this node it fails with ErrDropped when the connection's full queue
// refused the message. An id that is not registered here fails with
// ErrUnknownConnection without a broker; with one, the message goes to the
// other nodes, where the node holding the connection delivers it and the
// others drop it (so Send cannot tell whether a remote id exists). A
// message that the member's filter does not accept is skipped without
// error. msg.Except is ignored.
func (h *Hub) Send(id string, msg Message) error {
	h.mu.RLock()
	closed, m := h.closed, h.members[id]
	h.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if m == nil {
		if h.broker == nil {
			return fmt.Errorf("%w: %s", ErrUnknownConnection, id)
		}
		h.published.Add(1)
		msg.Except = nil
		return h.toBroker(context.Background(), allTopic, kindConn, id, &msg)
	}
	pm, err := msg.prepare()
	if err != nil {
		return fmt.Errorf("forge: send: %w", err)
	}
	h.published.Add(1)
	var n counts
	n.offer(m, pm, msg.Event, nil)
	h.count(n)
	if n.dropped > 0 {
		return fmt.Errorf("%w: %s", ErrDropped, id)
	}
	return nil
}

// counts tallies one fan-out, added to the hub's counters once.
type counts struct{ delivered, dropped, filtered uint64 }

func (n *counts) offer(m *member, pm *connection.PreparedMessage, event string, except []string) {
	if len(except) > 0 && slices.Contains(except, m.id) {
		return
	}
	if event != "" && m.filter != nil && !m.filter.Accepts(event) {
		n.filtered++
		return
	}
	if m.conn.Offer(pm) {
		n.delivered++
	} else {
		n.dropped++
	}
}

func (h *Hub) count(n counts) {
	if n.delivered > 0 {
		h.delivered.Add(n.delivered)
	}
	if n.dropped > 0 {
		h.dropped.Add(n.dropped)
	}
	if n.filtered > 0 {
		h.filtered.Add(n.filtered)
	}
}

// fanout offers pm to r's members. Holding r.mu for the whole loop is what
// orders the room: Offer never blocks, so the lock is held for one queue
// append per member.
func (h *Hub) fanout(r *room, pm *connection.PreparedMessage, event string, except []string) {
	var n counts
	r.mu.Lock()
	for _, m := range r.members {
		if len(r.catchingUp) > 0 {
			if _, catching := r.catchingUp[m]; catching {
				continue
			}
		}
		n.offer(m, pm, event, except)
	}
	r.mu.Unlock()
	h.count(n)
}

// toBroker publishes msg for the other nodes. A failure drops the message
// for them (counted in Status.BrokerDropped; an outage is logged once).
func (h *Hub) toBroker(ctx context.Context, topic string, kind byte, target string, msg *Message) error {
	data := encodeFrame(kind, h.node, target, msg)
	ep := h.brokerCall()
	if err := h.broker.Publish(ctx, topic, data); err != nil {
		h.brokerFailed(ctx, ep, "publish", err, true)
		return fmt.Errorf("forge: hub: publish: %w", err)
	}
	h.brokerOK(ep)
	return nil
}

// fromBrokerRoom delivers a room message from another node.
func (h *Hub) fromBrokerRoom(r *room, data []byte) {
	f, ok := h.decode(data)
	if !ok || f.node == h.node {
		return
	}
	pm, err := f.msg.prepare()
	if err != nil {
		return
	}
	h.remote.Add(1)
	h.taps.send(r.name, &f.msg)
	h.fanout(r, pm, f.msg.Event, f.msg.Except)
}

// fromBrokerAll delivers a message to everyone, or to one connection of
// this node, from another node.
func (h *Hub) fromBrokerAll(data []byte) {
	f, ok := h.decode(data)
	if !ok || f.node == h.node {
		return
	}
	var target *member
	if f.kind == kindConn {
		h.mu.RLock()
		target = h.members[f.target]
		h.mu.RUnlock()
		if target == nil {
			return // held by another node, or gone
		}
	}
	pm, err := f.msg.prepare()
	if err != nil {
		return
	}
	h.remote.Add(1)
	var n counts
	if target != nil {
		n.offer(target, pm, f.msg.Event, nil)
	} else {
		h.mu.RLock()
		for _, m := range h.members {
			n.offer(m, pm, f.msg.Event, f.msg.Except)
		}
		h.mu.RUnlock()
	}
	h.count(n)
}

func (h *Hub) decode(data []byte) (frame, bool) {
	f, err := decodeFrame(data)
	if err != nil {
		h.brokerErr.Add(1)
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "hub ignored a malformed broker message",
			slog.String("error", err.Error()))
		return frame{}, false
	}
	return f, true
}
