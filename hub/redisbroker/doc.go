// Package redisbroker connects the hubs of several nodes through Redis. A
// [Broker] is a [hub.Broker] over Redis pub/sub, so that room broadcasts,
// messages to everyone and messages to one connection reach every node,
// and a [hub.PresenceStore] over Redis keys, so that [hub.Hub.Members]
// lists a room's members on every node.
//
// The application brings its own go-redis client, with the address, TLS,
// authentication, Sentinel or cluster settings it needs, and gives it to
// [New]; the Broker never closes it:
//
//	client := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	defer client.Close()
//	broker, err := redisbroker.New(client)
//	if err != nil {
//		return err
//	}
//	defer broker.Close() // before the client's Close
//	h, err := hub.New(hub.WithBroker(broker))
//
// Every node uses the same Redis (or cluster) and the same prefix
// ([WithPrefix]).
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
// presence methods fail at once, without waiting for the client's
// retries, so the hub counts and drops what other nodes would have
// received; local delivery goes on in the hub. Other calls are bounded by
// [WithTimeout] (2 s by default).
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
// # Keys and channels
//
// For the prefix "forge:":
//
//	forge:{pubsub}:<topic>   channel of a topic (the hub's "room.<name>" and "all")
//	forge:{pubsub}           channel always subscribed, never published to
//	forge:{nodes}:<node>     key of a live node, with the presence TTL
//	forge:members:<room>     hash of a room's members
//
// Topic and room names are used as they are, whatever they hold: channel
// names are literal for SUBSCRIBE (the Broker never uses PSUBSCRIBE
// patterns). The braces are cluster hash tags; the prefix may hold none.
// An ACL user for the Broker needs the keys and channels of the prefix
// (~forge:* &forge:*).
//
// # Redis versions and commands
//
// Redis 6.2 or later (for SET with GET), or 7.0 or later for a cluster
// (for sharded pub/sub); the tests run against Redis 7.0. The Broker sends PUBLISH, SUBSCRIBE, UNSUBSCRIBE and PING (SPUBLISH,
// SSUBSCRIBE and SUNSUBSCRIBE on a cluster), SET with PX and GET, MGET,
// HSET, HDEL, HGETALL, and a Lua script through EVALSHA.
package redisbroker
