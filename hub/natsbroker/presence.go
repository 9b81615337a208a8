package natsbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgekit/forge/hub"
)

// markerTTL is how long the members bucket keeps the marker of a purged
// key: the shortest the server allows. Without it every member that ever
// left would keep a marker in the bucket.
const markerTTL = time.Second

// setup creates the presence buckets, or updates their settings, and
// returns them. They live in memory: presence is rebuilt by the hubs
// (KeepAlive reports their node unknown to a server that lost it), so it
// need not cost a disk write per join.
func (b *Broker) setup(ctx context.Context) error {
	nodes, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      b.cfg.bucket + "_nodes",
		Description: "forge hub presence: the live nodes, each expiring after the TTL",
		TTL:         b.cfg.ttl,
		Storage:     jetstream.MemoryStorage,
	})
	if err != nil {
		return fmt.Errorf("forge: natsbroker: presence bucket: %w", err)
	}
	members, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         b.cfg.bucket + "_members",
		Description:    "forge hub presence: room members, keyed by room and connection",
		Storage:        jetstream.MemoryStorage,
		LimitMarkerTTL: markerTTL, // lets purge markers expire
	})
	if err != nil {
		return fmt.Errorf("forge: natsbroker: presence bucket: %w", err)
	}
	if b.nodes == nil { // New; later calls re-create the same buckets
		b.nodes, b.members = nodes, members
	}
	return nil
}

// missing reports whether err means that a bucket does not exist (any
// more): the server restarted without the memory store, or someone
// deleted it.
func missing(err error) bool {
	return errors.Is(err, jetstream.ErrBucketNotFound) ||
		errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, nats.ErrStreamNotFound) || // from a watcher, made by nats.go's older API
		errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrNoResponders)
}

// presence runs op on the buckets, and once more after re-creating them
// if they are missing. It refuses to run while disconnected, as Publish
// does, so that nats.go does not buffer a write to send it late.
func (b *Broker) presence(ctx context.Context, name string, op func(ctx context.Context) error) error {
	if b.isClosed() {
		return fmt.Errorf("forge: natsbroker: %s: %w", name, hub.ErrBrokerClosed)
	}
	if err := b.connected(name); err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	err := op(ctx)
	if err != nil && missing(err) {
		if err := b.setup(ctx); err != nil {
			return fmt.Errorf("forge: natsbroker: %s: %w", name, err)
		}
		err = op(ctx)
	}
	if err != nil {
		return fmt.Errorf("forge: natsbroker: %s: %w", name, err)
	}
	return nil
}

// KeepAlive implements hub.PresenceStore. It writes node's record in the
// nodes bucket, which expires after the presence TTL. The record is
// updated only if it is still the revision this broker wrote last, so that
// a record that expired (or a bucket that the server lost) reads as
// unknown: the hub then writes its memberships again, also those that a
// Members call meanwhile took for a dead node's and removed.
func (b *Broker) KeepAlive(ctx context.Context, node string) (time.Duration, bool, error) {
	key := token(node)
	if len(key) > maxSubject {
		return 0, false, errTooLong("node", len(key))
	}
	var known bool
	err := b.presence(ctx, "keep alive", func(ctx context.Context) error {
		b.mu.Lock()
		rev, ok := b.revs[key]
		b.mu.Unlock()
		var err error
		if ok {
			rev, err = b.nodes.Update(ctx, key, nil, rev)
			if err == nil {
				known = true
				b.setRev(key, rev)
				return nil
			}
			if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				return err
			}
		}
		rev, err = b.nodes.Create(ctx, key, nil)
		switch {
		case err == nil:
			known = false
		case errors.Is(err, jetstream.ErrKeyExists):
			// Kept alive through another handle (or a broker before
			// this one, with the same node id): it is known.
			known = true
			if rev, err = b.nodes.Put(ctx, key, nil); err != nil {
				return err
			}
		default:
			return err
		}
		b.setRev(key, rev)
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return b.cfg.ttl, known, nil
}

func (b *Broker) setRev(key string, rev uint64) {
	b.mu.Lock()
	b.revs[key] = rev
	b.mu.Unlock()
}

// memberKey is the key of id's membership in room.
func memberKey(room, id string) (string, error) {
	k := token(room) + "." + token(id)
	if len(k) > maxSubject {
		return "", errTooLong("room or connection id", len(k))
	}
	return k, nil
}

// UpdatePresence implements hub.PresenceStore: a member present in a room
// is a key of the members bucket holding the member as JSON; one that left
// is purged. It writes the changes one by one and stops at the first
// error.
func (b *Broker) UpdatePresence(ctx context.Context, changes []hub.PresenceChange) error {
	return b.presence(ctx, "update presence", func(ctx context.Context) error {
		for _, c := range changes {
			key, err := memberKey(c.Room, c.Member.ID)
			if err != nil {
				return err
			}
			if !c.Present {
				if err := b.members.Purge(ctx, key, jetstream.PurgeTTL(markerTTL)); err != nil {
					return err
				}
				continue
			}
			value, err := json.Marshal(c.Member)
			if err != nil {
				return err
			}
			if _, err := b.members.Put(ctx, key, value); err != nil {
				return err
			}
		}
		return nil
	})
}

// Members implements hub.PresenceStore. It reads the room's keys from the
// members bucket with one watcher, and keeps those whose node has a record
// in the nodes bucket; the others belong to nodes that died, and it
// removes them.
func (b *Broker) Members(ctx context.Context, room string) ([]hub.Member, error) {
	filter := token(room) + ".*" // every id
	if len(filter) > maxSubject {
		return nil, errTooLong("room", len(filter))
	}
	var out []hub.Member
	err := b.presence(ctx, "members", func(ctx context.Context) error {
		entries, err := b.read(ctx, filter)
		if err != nil {
			return err
		}
		alive := make(map[string]bool)
		out = make([]hub.Member, 0, len(entries))
		for _, e := range entries {
			var m hub.Member
			if err := json.Unmarshal(e.Value(), &m); err != nil {
				continue // not written by a broker; leave it alone
			}
			ok, seen := alive[m.Node]
			if !seen {
				_, err := b.nodes.Get(ctx, token(m.Node))
				switch {
				case err == nil:
					ok = true
				case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
				default:
					return err
				}
				alive[m.Node] = ok
			}
			if ok {
				out = append(out, m)
				continue
			}
			// Only this revision: if the node came back and wrote the
			// membership again, the new one stays. Another caller may
			// have removed it first; either way it is gone.
			_ = b.members.Purge(ctx, e.Key(), jetstream.PurgeTTL(markerTTL), jetstream.LastRevision(e.Revision()))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// read returns the current entries of the members bucket that match
// filter.
func (b *Broker) read(ctx context.Context, filter string) ([]jetstream.KeyValueEntry, error) {
	w, err := b.members.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer func() {
		_ = w.Stop() // only fails if the subscription is gone already
		for range w.Updates() {
			// Unblock the watcher's callback until it closes the channel,
			// which ends nats.go's goroutine for it.
		}
	}()
	var entries []jetstream.KeyValueEntry
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("watcher ended early")
			}
			if e == nil {
				return entries, nil // the current values are all there
			}
			entries = append(entries, e)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
