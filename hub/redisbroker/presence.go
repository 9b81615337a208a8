package redisbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/hub"
)

// entry is a member as its room's hash stores it, under its connection id.
type entry struct {
	Node string            `json:"node"`
	Meta map[string]string `json:"meta,omitempty"`
	// Write is unique to each write of the entry. Members deletes an entry
	// of a dead node only if it still holds the Write it read: a node that
	// came back after its TTL lapsed writes its memberships again, and
	// those must not be deleted on the strength of an older read.
	Write string `json:"w"`
}

// dropDead deletes fields of KEYS[1] given as (field, value) pairs in ARGV,
// each only if it still has that value.
var dropDead = redis.NewScript(`
local n = 0
for i = 1, #ARGV, 2 do
	if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
		n = n + redis.call('HDEL', KEYS[1], ARGV[i])
	end
end
return n
`)

// KeepAlive implements hub.PresenceStore with SET key 1 PX ttl GET on the
// node's key, whose old value says whether the node was known.
func (b *Broker) KeepAlive(ctx context.Context, node string) (time.Duration, bool, error) {
	if err := b.ready("keep alive"); err != nil {
		return 0, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	err := b.client.SetArgs(ctx, b.nodePrefix+node, "1", redis.SetArgs{TTL: b.ttl, Get: true}).Err()
	switch {
	case err == nil:
		b.reached()
		return b.ttl, true, nil
	case errors.Is(err, redis.Nil):
		b.reached()
		return b.ttl, false, nil
	}
	return 0, false, fmt.Errorf("forge: redisbroker: keep alive: %w", err)
}

// UpdatePresence implements hub.PresenceStore: one pipeline of HSET and
// HDEL on the rooms' hashes.
func (b *Broker) UpdatePresence(ctx context.Context, changes []hub.PresenceChange) error {
	if err := b.ready("update presence"); err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	_, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range changes {
			key := b.roomPrefix + c.Room
			if !c.Present {
				p.HDel(ctx, key, c.Member.ID)
				continue
			}
			v, err := json.Marshal(entry{Node: c.Member.Node, Meta: c.Member.Meta, Write: b.writeID()})
			if err != nil {
				return err
			}
			p.HSet(ctx, key, c.Member.ID, v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forge: redisbroker: update presence: %w", err)
	}
	b.reached()
	return nil
}

func (b *Broker) writeID() string {
	return b.writer + strconv.FormatUint(b.writes.Add(1), 36)
}

// Members implements hub.PresenceStore: HGETALL of the room's hash, MGET
// of the keys of the nodes found there, then the entries of dead nodes
// deleted, by a script that keeps any rewritten since.
func (b *Broker) Members(ctx context.Context, room string) ([]hub.Member, error) {
	if err := b.ready("members"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	key := b.roomPrefix + room
	fields, err := b.client.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("forge: redisbroker: members: %w", err)
	}
	b.reached()
	type found struct {
		id, raw string
		e       entry
	}
	all := make([]found, 0, len(fields))
	nodes := make(map[string]int) // node -> index in keys
	var keys []string
	for id, raw := range fields {
		var e entry
		if json.Unmarshal([]byte(raw), &e) != nil || e.Node == "" {
			continue // not written by a Broker
		}
		if _, ok := nodes[e.Node]; !ok {
			nodes[e.Node] = len(keys)
			keys = append(keys, b.nodePrefix+e.Node)
		}
		all = append(all, found{id, raw, e})
	}
	out := make([]hub.Member, 0, len(all))
	if len(all) == 0 {
		return out, nil
	}
	alive, err := b.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("forge: redisbroker: members: %w", err)
	}
	var dead []any
	for _, f := range all {
		if alive[nodes[f.e.Node]] == nil {
			dead = append(dead, f.id, f.raw)
			continue
		}
		out = append(out, hub.Member{Node: f.e.Node, ID: f.id, Meta: f.e.Meta})
	}
	if len(dead) > 0 {
		// The listing is right either way; a failed cleanup is retried by
		// the next Members of the room.
		if err := dropDead.Run(ctx, b.client, []string{key}, dead...).Err(); err != nil {
			b.log.LogAttrs(ctx, slog.LevelDebug, "redisbroker could not drop the members of dead nodes",
				slog.String("room", room), slog.String("error", err.Error()))
		}
	}
	return out, nil
}
