// Package natsbroker connects the hubs of several nodes through NATS: it
// is a [hub.Broker] over core NATS pub/sub, a [hub.PresenceStore] over two
// JetStream key-value buckets, and a [hub.HistoryStore] over a JetStream
// stream, so that hub.WithHistory works across nodes.
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
// As everywhere in forge, a mistake in the program panics with a "forge: "
// message (a nil connection, a subject prefix or bucket name that NATS
// cannot use), and what depends on the world is an error: New returns the
// server's answer to its setup of the presence buckets.
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
// KeepAlive, UpdatePresence, Members and the history calls fail with an
// error wrapping [ErrDisconnected] unless the connection is up, and a
// Subscribe made meanwhile returns at once and takes effect with the
// reconnect. A publish that races with the disconnect may still be
// buffered by nats.go and delivered after the reconnect;
// [nats.ReconnectBufSize](-1) makes nats.go refuse it instead.
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
//
// # History
//
// The rooms' history lives in one JetStream stream, "forge_history" unless
// [WithHistoryStream] says otherwise, on file unless it says memory. The
// broker creates it, or updates its settings, on its first history call,
// and again if it goes missing. It needs NATS Server 2.11 or later (for
// per-message TTLs and batched direct gets). Each room has a subject of its
// own, the prefix, "history." and the escaped room
// ("forge.history.chat=201"), which no broker topic uses and nobody
// subscribes to; every message carries its place in headers: Forge-Epoch,
// Forge-Offset, Forge-Size and Forge-TTL (the room's limits when it was
// appended) and Forge-Mark (see below). A room's messages are thus
// contiguous offsets of one epoch.
//
// Append reads the room's last message (a direct get) and publishes the
// next offset with Nats-Expected-Last-Subject-Sequence set to that
// message's stream sequence: the server stores it only if the room's last
// message is still that one. When another node appended first, the publish
// is refused, reaches nobody, and Append reads again and retries. So
// offsets grow by exactly one whichever node appends, at the cost of two
// round trips per message, more under contention for one room. A room
// without messages starts a new random epoch at offset 1. Position writes a
// marker, offset 0 of a new epoch, for a room without messages, so that the
// epoch it reports is the one the first message continues; the marker
// expires after a day. The first message of every epoch carries
// Nats-Rollup, which removes whatever the subject held (the marker) in the
// same step.
//
// Sizes and ages differ per room, but a stream has one MaxMsgsPerSubject
// and MaxAge, so the limits live in the messages instead. Since counts only
// the last Size offsets as kept, and messages older than the TTL (by the
// server's time stamp and this node's clock) as gone; Append purges a
// room's surplus every quarter of its size (every 16 messages for smaller
// rooms), so the stream holds little more than the sizes. Each message has
// a Nats-TTL of the room's TTL, rounded up to whole seconds, after which
// the server drops it; a room whose messages all expired has no subject
// left, and its next message starts a new epoch, as a room of a hub without
// a broker does.
//
// Since reads the room's last message, then the messages after the position
// in batches of direct gets. The stream interleaves the rooms, so the
// sequence of an offset is not known: each message carries in Forge-Mark
// the stream sequence of the room's latest message before it whose offset
// is a multiple of 32, from which a reader up to 32 messages behind reads
// on (two round trips in all); a reader further behind interpolates between
// the room's first message and such a checkpoint and narrows down with a
// few single reads. The broker gives the stream one replica: any replica
// of a replicated stream may answer a direct get, and one that lags would
// make a recovery fail now and then.
//
// The alternatives fared worse: a stream per room has sequences that are
// offsets, but streams are heavy server objects, a few thousand per server
// rather than a room per user; a JetStream counter for the offsets needs a
// second write, and a node that dies between the two leaves a hole that
// every reader then reports as lost history.
package natsbroker
