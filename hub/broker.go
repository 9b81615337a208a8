package hub

import (
	"context"
	"encoding/binary"
	"errors"
	"time"
)

// Broker carries messages between the nodes of a cluster: a publish on one
// node reaches the subscribers of its topic on every node. The hub uses one
// topic per room and one for messages to everyone, subscribes to a room's
// topic while the room has members on the node, and recognizes its own
// messages by the node id it puts in them.
//
// The semantics are those of Redis and NATS pub/sub, which brokers wrap:
//
//   - At most once. A message published while a subscriber is disconnected
//     is lost to it; nothing is stored or redelivered.
//   - Ordered per publisher and topic: the messages one publisher publishes
//     to one topic, one after the other, reach each subscriber in that
//     order, none lost while both stay connected.
//   - Every subscription of the topic gets the message, those on the
//     publishing node (and broker) included; a node may hold several
//     subscriptions of one topic, and ending one leaves the others.
//
// Topic strings are opaque and may hold any bytes; a broker maps them to
// its own channel or subject names. The hub runs its tests against any
// broker with the suite in package hub/brokertest.
type Broker interface {
	// Publish sends data to every subscription of topic. It may return
	// before the message reached anyone; an error means the message was not
	// accepted. The broker does not keep data after Publish returns.
	Publish(ctx context.Context, topic string, data []byte) error
	// Subscribe calls fn for every message published to topic from now on,
	// until unsubscribe is called. Calls of one subscription never overlap
	// and come in publish order per publisher; fn may keep data but
	// must not modify it (subscriptions may share it). fn must not block for long, nor call unsubscribe itself. Once
	// unsubscribe returns, fn is not called again.
	Subscribe(ctx context.Context, topic string, fn func(data []byte)) (unsubscribe func() error, err error)
	// Close ends every subscription made through this broker and releases
	// its resources. Later calls fail with an error wrapping
	// ErrBrokerClosed; closing twice returns nil.
	Close() error
}

// PresenceStore is implemented by brokers that also keep the cluster's room
// membership, so that [Hub.Members] lists the members of a room on every
// node. The hub writes its own node's members and keeps them alive; a node
// that stops calling KeepAlive (it died, or lost the store) disappears from
// the listings once the store's TTL has passed.
//
// UpdatePresence is idempotent: the hub applies its changes in order, and
// after a failure it applies them again.
type PresenceStore interface {
	// KeepAlive marks node alive for the store's TTL, which it returns;
	// the hub calls it again after a third of that. known is false when
	// the store had no live record of node: on the first call, after the
	// TTL lapsed, or after the store lost its data. The hub then writes all
	// of its memberships again.
	KeepAlive(ctx context.Context, node string) (ttl time.Duration, known bool, err error)
	// UpdatePresence records changes; changes to one member in one room
	// come in order, never two in one call. An error means that some may
	// not have been recorded.
	UpdatePresence(ctx context.Context, changes []PresenceChange) error
	// Members lists the members of room on the nodes alive now, in no
	// particular order.
	Members(ctx context.Context, room string) ([]Member, error)
}

// PresenceChange is one member entering (Present) or leaving a room, as a
// PresenceStore records it. Meta is set only when Present.
type PresenceChange struct {
	Room    string
	Member  Member
	Present bool
}

// Member is a member of a room on some node of the cluster.
type Member struct {
	Node string            `json:"node"`
	ID   string            `json:"id"`
	Meta map[string]string `json:"meta,omitempty"`
}

// ErrBrokerClosed is wrapped by the errors of a Broker's methods after its
// Close.
var ErrBrokerClosed = errors.New("forge: broker closed")

// Topics the hub publishes to. Messages to everyone and messages to one
// connection share allTopic: a node that does not hold the connection
// drops the message after reading its header, as Socket.IO's adapters do
// for a socket's own room.
const allTopic = "all"

func roomTopic(room string) string { return "room." + room }

// Frame kinds.
const (
	kindRoom byte = 1
	kindAll  byte = 2
	kindConn byte = 3 // to one connection, named by frame.target
)

const frameVersion = 1

// frame is a hub message as it travels through the broker.
type frame struct {
	kind   byte
	node   string
	target string // the connection id of a kindConn frame
	msg    Message
}

// encodeFrame lays out a message for the broker: version, kind, flags,
// then the node id, the target connection (kindConn only), the event label
// and the excepted ids as length-prefixed strings, then the payload.
func encodeFrame(kind byte, node, target string, msg *Message) []byte {
	n := 3 + 4*binary.MaxVarintLen64 + len(node) + len(target) + len(msg.Event) + len(msg.Data)
	for _, id := range msg.Except {
		n += binary.MaxVarintLen64 + len(id)
	}
	b := make([]byte, 0, n)
	var flags byte
	if msg.Binary {
		flags |= 1
	}
	b = append(b, frameVersion, kind, flags)
	b = appendString(b, node)
	if kind == kindConn {
		b = appendString(b, target)
	}
	b = appendString(b, msg.Event)
	b = binary.AppendUvarint(b, uint64(len(msg.Except)))
	for _, id := range msg.Except {
		b = appendString(b, id)
	}
	return append(b, msg.Data...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadFrame = errors.New("forge: hub: malformed broker message")

// decodeFrame parses what encodeFrame wrote. The payload aliases data.
func decodeFrame(data []byte) (frame, error) {
	var f frame
	if len(data) < 3 || data[0] != frameVersion || data[1] < kindRoom || data[1] > kindConn || data[2]&^1 != 0 {
		return f, errBadFrame
	}
	f.kind = data[1]
	f.msg.Binary = data[2]&1 != 0
	rest := data[3:]
	var ok bool
	if f.node, rest, ok = readString(rest); !ok {
		return f, errBadFrame
	}
	if f.kind == kindConn {
		if f.target, rest, ok = readString(rest); !ok {
			return f, errBadFrame
		}
	}
	if f.msg.Event, rest, ok = readString(rest); !ok {
		return f, errBadFrame
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)) {
		return f, errBadFrame
	}
	rest = rest[k:]
	if n > 0 {
		f.msg.Except = make([]string, 0, n)
		for range n {
			var id string
			if id, rest, ok = readString(rest); !ok {
				return f, errBadFrame
			}
			f.msg.Except = append(f.msg.Except, id)
		}
	}
	f.msg.Data = rest
	return f, nil
}

func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	b = b[k:]
	return string(b[:n]), b[n:], true
}
