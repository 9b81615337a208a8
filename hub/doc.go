// Package hub keeps track of a node's WebSocket connections and the rooms
// they are in, and delivers messages to a room, to one connection or to
// everyone, without ever waiting for a slow member.
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
// # Nodes
//
// Without a broker, the hub is local to its process. [WithBroker] connects
// hubs on several nodes through a [Broker] (Redis or NATS pub/sub, or the
// in-process [MemoryBroker]): room broadcasts, presence and messages to
// everyone reach the members on every node, at most once, in order per
// publisher. [Hub.Send] and the listings stay local to the node. Package
// hub/brokertest holds the conformance suite every Broker must pass.
package hub
