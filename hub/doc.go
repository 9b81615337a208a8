// Package hub keeps track of a node's WebSocket connections and the rooms
// they are in, and delivers messages to a room, to one connection or to
// everyone, without ever waiting for a slow member.
//
// # Mistakes and errors
//
// Setup follows forge's one rule. A mistake in the program panics with a
// "forge: " message: an option value no program should pass panics where
// the option is built (WithBroker(nil), WithNodeID(""), WithHistory with
// a size of 0), and options that cannot work together panic in [New]
// (WithHistoryStore beside a broker, WithHistory with a broker that keeps
// no history). What depends on the world outside is an error: New returns
// the broker's when it cannot subscribe, and the hub's methods return
// theirs. An option meant for a member cannot be given to the hub, nor
// the other way round: [Option] and [MemberOption] are different types.
//
// # Rooms
//
// A connection is registered with [Hub.Register], optionally with metadata
// (such as its user) and a [Filter]; it is unregistered, leaving all its
// rooms, as soon as it ends. [Hub.Join] and [Hub.Leave] change its rooms; a
// room exists while it has members. [Hub.Connections],
// [Hub.ConnectionsIn], [Hub.Rooms], [Hub.Count] and [Hub.Status] describe
// the hub, for status pages and admin tools.
//
// Joins and leaves can be observed with [WithPresenceHook], and announced to
// the room's other members with [WithPresence] as {"event": ...,
// "payload": [Presence]} messages.
//
// # Delivery
//
// [Hub.Broadcast] encodes a [Message] once and offers it to every member of
// a room; [Hub.BroadcastAll] to every connection; [Hub.Send] to one. Offering
// never waits: a member whose outbound queue is full gets its route's
// slow-consumer policy (closed with 1013 by default, or a dropped message),
// and the drop is counted in [Status] and in the connection Tracker's
// stats, so one stalled client never stalls a room. A room's members receive
// its messages in one order, the order of publication on this node.
//
// A message may carry an event label ([Message.Event]); members registered
// with a [Filter] receive only the labels it accepts. The events package
// uses this for subscriptions: the filter costs one call per member and no
// extra encoding.
//
// # History and recovery
//
// [WithHistory] keeps the recent messages of the rooms whose names match a
// pattern, bounded by count and age, in a [HistoryStore]: the broker when
// it is one (Redis Streams, NATS JetStream, the [MemoryBroker]), or
// [MemoryHistory] in a hub without a broker. Every message of such a room
// gets a position: the history's epoch and an offset that grows by one per
// message. Messages of those rooms must be JSON objects; the hub adds a
// member "position": {"room", "epoch", "offset"} to each.
//
// A client that loses its connection comes back with the last position it
// saw; [Hub.JoinFrom] joins it to the room and first sends it what it
// missed, then the live messages, with no gap and nothing twice: every
// node delivers a room's messages in offset order (an early one waits for
// those before it, which are read from the store if they do not come), and
// the replay ends exactly where the live messages begin. When the history
// no longer reaches back to the position, or the epoch changed (a store
// that lost its data), the result says so and the client must fetch the
// room's state anew. [Hub.Position] tells a client where a room is without
// joining it. Presence messages are not part of the history.
//
// # Nodes
//
// Without a broker, the hub is local to its process. [WithBroker] connects
// hubs on several nodes through a [Broker]: Redis pub/sub
// (hub/redisbroker), NATS (hub/natsbroker), or the in-process
// [MemoryBroker]. Room broadcasts, presence messages, messages to everyone
// and [Hub.Send] to a connection on another node then reach their members
// on every node. A node subscribes to a room's broker topic when the room
// gets its first member there and unsubscribes when its last one leaves,
// so a node hears only the rooms it holds. The listings ([Hub.Rooms],
// [Hub.Connections], [Status]) stay local; [Hub.Members] lists a room's
// members on every node when the broker is also a [PresenceStore] (Redis
// and NATS are). Package hub/brokertest holds the conformance suite every
// Broker must pass.
//
// The delivery guarantees across nodes are those of pub/sub:
//
//   - At most once. Nothing is stored or redelivered: a message is lost to
//     a node that is not subscribed when it is published.
//   - Ordered per publisher and room: the messages one node broadcasts to
//     a room reach every member on every node in that order. Messages from
//     two nodes may interleave differently for members on different nodes.
//   - Local members never wait for the broker: they receive a broadcast
//     before it is handed to the broker, whatever the broker does.
//
// While the broker is unreachable, local delivery goes on. A message for
// other nodes that the broker does not take is dropped and counted in
// [Status].BrokerDropped; the call returns the broker's error;
// [Status].BrokerDown is set; and the hub logs the outage once when it
// begins (level Error) and once when it ends (level Warn, with the number
// dropped), never per message. The broker clients reconnect and
// resubscribe by themselves, so cross-node delivery resumes without a
// restart; memberships written to a PresenceStore during the outage are
// kept and written once it is back, and a store that lost its data gets
// every membership again at the next keep-alive.
//
// Presence in a store expires: each node refreshes its record every third
// of the store's TTL (30 s by default), so the members of a node that dies
// leave [Hub.Members] within the TTL. A hub that is closed removes its
// members at once.
package hub
