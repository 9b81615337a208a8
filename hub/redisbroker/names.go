package redisbroker

// Names of keys and channels, for the prefix P ("forge:" by default):
//
//	P{pubsub}:<topic>        the channel of a topic
//	P{pubsub}                the anchor channel, always subscribed, never published to
//	P{nodes}:<node>          a live node, expiring after the presence TTL
//	Pmembers:<room>          a room's members: a hash of connection id to entry
//	P{history:<room>}        a room's history: a stream of its messages by offset
//	P{history:<room>}:meta   the history's epoch, last offset and limits: a hash
//
// A topic or room name is used as it is, whatever bytes it holds: channel
// and key names are binary-safe, and SUBSCRIBE takes a name literally
// (only PSUBSCRIBE reads patterns, and the Broker never uses it). The
// fixed text before the name keeps the kinds apart, and the anchor apart
// from every topic's channel. A room's two history keys end in "}" and
// "}:meta": no name makes one the other's.
//
// The braces are Redis Cluster hash tags: every channel hashes to the slot
// of "pubsub", so that one connection to one shard can hold all of a
// Broker's sharded subscriptions, and every node key to the slot of
// "nodes", so that one MGET reads them all. A room's hash is one key; its
// slot is the room name's, and rooms spread over the cluster. A room's
// two history keys share the slot of "history:<room>", as the history's
// scripts need (see historyKeys). The prefix may not hold braces, which
// would move the hash tags.

func (b *Broker) setNames(prefix string) {
	b.anchor = prefix + "{pubsub}"
	b.chanPrefix = b.anchor + ":"
	b.nodePrefix = prefix + "{nodes}:"
	b.roomPrefix = prefix + "members:"
	b.historyPrefix = prefix + "{history:"
}

// channel returns the Redis channel of a topic.
func (b *Broker) channel(topic string) string { return b.chanPrefix + topic }

// historyKeys returns the keys of room's history: its meta hash and its
// stream. The hash tag holds "history:" and the room name (up to its
// first '}'), so that both keys share a slot, the tag is never empty
// whatever the name, and rooms spread over the cluster.
func (b *Broker) historyKeys(room string) (meta, stream string) {
	stream = b.historyPrefix + room + "}"
	return stream + ":meta", stream
}
