// Package redisbroker connects the hubs of several nodes through Redis. A
// [Broker] is a [hub.Broker] over Redis pub/sub, so that room broadcasts,
// messages to everyone and messages to one connection reach every node; a
// [hub.PresenceStore] over Redis keys, so that [hub.Hub.Members] lists a
// room's members on every node; and a [hub.HistoryStore] over Redis
// streams, so that rooms with history ([hub.WithHistory]) number their
// messages alike on every node and a client that comes back to any node
// gets what it missed.
//
// The application brings its own go-redis client, with the address, TLS,
// authentication, Sentinel or cluster settings it needs, and gives it to
// [New]; the Broker never closes it:
//
//	client := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	defer client.Close()
//	broker := redisbroker.New(client)
//	defer broker.Close() // before the client's Close
//	h, err := hub.New(hub.WithBroker(broker), hub.WithHistory("*", 100, time.Hour))
//
// Every node uses the same Redis (or cluster) and the same prefix
// ([WithPrefix]).
//
// As everywhere in forge, a mistake in the program panics with a "forge: "
// message (a nil client, a prefix with a brace), and what depends on the
// world is an error: Redis being unreachable is not one for New, which
// connects in the background, but the Broker's calls return theirs.
//
// # Delivery
//
// A Broker publishes with PUBLISH and holds one pub/sub connection,
// whatever the number of topics: it subscribes a topic's channel when the
// first subscription of the topic begins and unsubscribes it when the last
// one ends, and one goroutine reads the connection and calls the
// subscriptions of each message's topic, one message at a time.
// Subscribe returns once Redis confirmed the subscription. The guarantees
// are those of Redis pub/sub:
//
//   - At most once. Redis stores nothing: a message published while a
//     node's connection is down, or before its subscription, is lost to
//     that node.
//   - Ordered per publisher and topic: the messages a node publishes to a
//     topic one after the other reach every subscription in that order.
//     Messages of different publishers may interleave differently on
//     different nodes.
//
// With a *redis.ClusterClient the Broker uses sharded pub/sub (SPUBLISH,
// SSUBSCRIBE), whose messages do not cross the cluster bus, and puts all
// its channels in one hash slot, so that one connection to one shard holds
// them all: that shard carries the pub/sub traffic of the prefix.
//
// # Outages
//
// go-redis reconnects the pub/sub connection by itself and subscribes
// every channel of the Broker again; the Broker retries, at most a second
// apart, while Redis is unreachable, and logs the outage once when it
// begins and once when it ends ([WithLogger]). Messages from other nodes
// are lost meanwhile. While the connection is down, Publish and the
// presence and history methods fail at once, without waiting for the
// client's retries, so the hub counts and drops what other nodes would
// have received; local delivery goes on in the hub. Other calls are
// bounded by [WithTimeout] (2 s by default).
//
// A connection that stops answering without being closed, as when the
// Redis host vanishes or the network is cut, would go unnoticed by TCP for
// many minutes. The Broker pings Redis after 3 s of silence on the
// connection, and replaces a connection that gives no reply for another
// 3 s with a new one, subscribed to the same channels.
//
// # Presence
//
// [Broker.KeepAlive] sets the node's key to expire after the presence TTL
// ([WithPresenceTTL], 30 s by default), and the hub refreshes it every
// third of the TTL: a node that dies leaves the listings within the TTL.
// A room's members are a hash of connection id to {"node", "meta"};
// [Broker.Members] reads it, checks which of its nodes have a key, and
// deletes the entries of those that have none. An entry of a dead node
// stays in Redis until its room is listed. A Redis that restarts empty
// has no node keys: each hub then writes all its memberships again.
//
// # History
//
// A room's history is two keys: a hash with its epoch, the offset of its
// last message (seq), and the size, age limit and time of its last
// Append; and a stream of its messages, each under the id "<offset>-0"
// with the message and its append time. Append, Since and Position are a
// Lua script each, so a room's history changes and is read atomically:
//
//   - Append creates the hash if it is missing, in a new random epoch
//     (deleting any stream left of an older one), increments seq, and adds
//     the message under seq with XADD MAXLEN ~ size. Offsets thus grow by
//     exactly one per message, whichever node appends and however many
//     append at once. The append time is Redis's clock (TIME), never
//     earlier than the last one, so that messages are in age order too.
//     Both keys then expire after the age limit (PEXPIRE; PERSIST without
//     one): a room idle for that long loses its history whole, and its
//     next message starts a new epoch at offset 1.
//   - Since refuses a position of another epoch or beyond seq, then reads
//     the stream by offset with XRANGE. MAXLEN ~ trims in whole stream
//     nodes (stream-node-max-entries, 100 by default), and messages are
//     not trimmed by age, so the stream may hold more than the history
//     keeps (at most size messages and one node): Since counts as gone
//     every message before the last size and every message older than
//     the age limit by Redis's clock. A position whose next message is
//     gone is lost ([hub.ErrPositionLost]).
//   - Position returns the epoch and seq. A room without history gets a
//     new epoch there and then, so that its first Append continues it;
//     such an empty epoch lasts a day unless a message comes.
//
// A Redis that restarts empty, or evicts the keys, has lost the
// histories: rooms start new epochs, and clients that come back with an
// old position are told to fetch the room's state anew. The hub publishes
// each message, with its position, through Publish after Append.
//
// # Keys and channels
//
// For the prefix "forge:":
//
//	forge:{pubsub}:<topic>        channel of a topic (the hub's "room.<name>" and "all")
//	forge:{pubsub}                channel always subscribed, never published to
//	forge:{nodes}:<node>          key of a live node, with the presence TTL
//	forge:members:<room>          hash of a room's members
//	forge:{history:<room>}        stream of a room's history
//	forge:{history:<room>}:meta   hash of the history's epoch, seq and limits
//
// Topic and room names are used as they are, whatever they hold: channel
// names are literal for SUBSCRIBE (the Broker never uses PSUBSCRIBE
// patterns). The braces are cluster hash tags; the prefix may hold none. A
// room's two history keys share the slot of "history:<room>", and rooms
// spread over the cluster. An ACL user for the Broker needs the keys and channels of the prefix
// (~forge:* &forge:*).
//
// # Redis versions and commands
//
// Redis 6.2 or later (for SET with GET), or 7.0 or later for a cluster
// (for sharded pub/sub); the tests run against Redis 7.0. The Broker
// sends PUBLISH, SUBSCRIBE, UNSUBSCRIBE and PING (SPUBLISH, SSUBSCRIBE and
// SUNSUBSCRIBE on a cluster), SET with PX and GET, MGET, HSET, HDEL,
// HGETALL, and Lua scripts through EVALSHA (EVAL the first time), which
// call HGET, HDEL, HMGET, HSET, HINCRBY, DEL, XADD, XRANGE, PEXPIRE,
// PERSIST and TIME.
package redisbroker
