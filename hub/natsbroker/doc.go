// Package natsbroker connects the hubs of several nodes through NATS: it
// is a [hub.Broker] over core NATS pub/sub and a [hub.PresenceStore] over
// two JetStream key-value buckets.
//
// The connection is yours, with its URLs, credentials and TLS; the broker
// only uses it, and never closes it:
//
//	nc, err := nats.Connect(url,
//		nats.MaxReconnects(-1),            // survive server restarts
//		nats.UserCredentials("node.creds"), // whatever your servers need
//	)
//	if err != nil {
//		return err
//	}
//	defer nc.Close()
//	b, err := natsbroker.New(nc)
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//	h, err := hub.New(hub.WithBroker(b))
//
// # Subjects
//
// A topic is published on one subject: the prefix ("forge." unless
// [WithSubjectPrefix] says otherwise) followed by the topic as a single
// token. Topics are opaque strings, while NATS subjects forbid white space
// and give '.', '*' and '>' a meaning, so the token is escaped: letters,
// digits, '-' and '_' stay as they are, every other byte becomes '=' and
// two hex digits, and the empty topic becomes "=". The hub's room "chat 1"
// is published on "forge.room=2Echat=201". No two topics share a subject
// and no topic makes a wildcard. A topic whose subject would be longer
// than 2 KiB is refused, since the server closes a connection whose
// protocol line exceeds its max_control_line (4 KiB by default).
//
// # Delivery
//
// The guarantees are those of NATS core, and of the hub:
//
//   - At most once: nothing is stored, and a node that is not subscribed,
//     or not connected, when a message is published never gets it.
//   - Ordered per publisher and topic: every Subscribe has a NATS
//     subscription of its own, whose messages nats.go hands over in order,
//     one at a time, from one goroutine.
//   - Subscribe returns once the server has the subscription, so a message
//     published after it returns is not missed. Once its unsubscribe
//     function returns, its function is not called again.
//   - A subscriber slower than its messages loses the excess when nats.go's
//     pending limits fill up (a slow consumer, in NATS terms).
//
// # Outages
//
// nats.go reconnects by itself and sends the subscriptions again; give the
// connection [nats.MaxReconnects](-1) so that it never gives up (the
// default stops after 60 attempts, 2 s apart, and then closes it). While it
// is disconnected nats.go would buffer publishes and send them after the
// reconnect; the hub's promise is instead that a message for other nodes
// is dropped and counted while the broker is unreachable. So Publish,
// KeepAlive, UpdatePresence and Members fail with an error wrapping
// [ErrDisconnected] unless the connection is up, and a Subscribe made
// meanwhile returns at once and takes effect with the reconnect. A publish
// that races with the disconnect may still be buffered by nats.go and
// delivered after the reconnect; [nats.ReconnectBufSize](-1) makes nats.go
// refuse it instead.
//
// # Presence
//
// Presence needs JetStream, NATS Server 2.11 or later (for the per-message
// TTL of purge markers), and the permissions to manage and use two KV
// buckets, "forge_presence_nodes" and "forge_presence_members" unless
// [WithPresenceBucket] says otherwise. New creates them, in memory:
//
//   - nodes holds one key per live node. Its max age is the presence TTL
//     (30 s unless [WithPresenceTTL] says otherwise), and the hub refreshes
//     its node every third of it, so the members of a node that dies leave
//     [hub.Hub.Members] within the TTL.
//   - members holds one key per member and room, the escaped room and
//     connection id, with the member's node and metadata as JSON. Members
//     reads a room's keys with one watcher and drops, and deletes, those
//     whose node has no key in nodes.
//
// After a restart of the server the buckets are gone, or have lost their
// keys: the broker creates them again, and KeepAlive reports the node
// unknown, so the hub writes all its memberships again.
//
// The alternative, asking every node for its members over request and
// reply and gathering the answers, needs no JetStream, but every listing
// would wait a timeout for an unknown number of nodes, and a slow or
// partitioned node would silently go missing from it. A bucket answers a
// listing in one round trip, consistently, and the server's max age
// expires dead nodes without comparing clocks. The cost is a write to the
// server per join and leave, which the hub makes in the background.
//
// All the nodes of a cluster use the same prefix, TTL and buckets; a
// server shared by several clusters needs different ones per cluster.
package natsbroker
