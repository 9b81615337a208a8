package redisbroker

// Names of keys and channels, for the prefix P ("forge:" by default):
//
//	P{pubsub}:<topic>   the channel of a topic
//	P{pubsub}           the anchor channel, always subscribed, never published to
//	P{nodes}:<node>     a live node, expiring after the presence TTL
//	Pmembers:<room>     a room's members: a hash of connection id to entry
//
// A topic or room name is used as it is, whatever bytes it holds: channel
// and key names are binary-safe, and SUBSCRIBE takes a name literally
// (only PSUBSCRIBE reads patterns, and the Broker never uses it). The
// fixed text before the name keeps the four kinds apart, and the anchor
// apart from every topic's channel.
//
// The braces are Redis Cluster hash tags: every channel hashes to the slot
// of "pubsub", so that one connection to one shard can hold all of a
// Broker's sharded subscriptions, and every node key to the slot of
// "nodes", so that one MGET reads them all. A room's hash is one key; its
// slot is the room name's, and rooms spread over the cluster. The prefix
// may not hold braces, which would move the hash tags.

func (b *Broker) setNames(prefix string) {
	b.anchor = prefix + "{pubsub}"
	b.chanPrefix = b.anchor + ":"
	b.nodePrefix = prefix + "{nodes}:"
	b.roomPrefix = prefix + "members:"
}

// channel returns the Redis channel of a topic.
func (b *Broker) channel(topic string) string { return b.chanPrefix + topic }
