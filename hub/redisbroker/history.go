package redisbroker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/hub"
)

// emptyHistoryTTL is how long the epoch of a room without messages lasts,
// made by Position or Since: long enough for clients to come back to it,
// short enough that rooms only ever looked at leave no key behind. An
// Append gives the room the age limit of its history instead.
const emptyHistoryTTL = 24 * time.Hour

// historyMeta reads a room's meta hash (KEYS[1]) into epoch, seq, size,
// ttl and last (the time of the last Append), and Redis's clock into now.
// A missing meta is first created in the epoch ARGV[1], with no messages,
// for ARGV[2] ms. It means a history that expired or was lost: the room's
// stream (KEYS[2]) goes with it, so that the stream never holds offsets
// beyond seq.
const historyMeta = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'size', 'ttl', 't')
if not m[1] then
	m = {ARGV[1], 0, false, false, false}
	redis.call('DEL', KEYS[2])
	redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 0)
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local epoch, seq = m[1], tonumber(m[2])
local size, ttl, last = tonumber(m[3]) or 0, tonumber(m[4]) or 0, tonumber(m[5]) or 0
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
`

// appendScript adds ARGV[3] to a room's history of at most ARGV[4]
// messages, none older than ARGV[5] ms (0: no age limit), and returns
// {epoch, offset}. The offset is the meta's seq, one more than the last;
// the entry's stream id is "<offset>-0", its fields the data (d) and the
// append time in ms (t), which never goes back within a history, so that
// entries are in age order as in offset order. Both keys expire together
// when the history outlives its age limit with no new message.
var appendScript = redis.NewScript(historyMeta + `
local at = math.max(now, last)
seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'size', ARGV[4], 'ttl', ARGV[5], 't', string.format('%d', at))
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], string.format('%d-0', seq),
	'd', ARGV[3], 't', string.format('%d', at))
if tonumber(ARGV[5]) > 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[5])
	redis.call('PEXPIRE', KEYS[2], ARGV[5])
else
	redis.call('PERSIST', KEYS[1])
	redis.call('PERSIST', KEYS[2])
end
return {epoch, seq}
`)

// sinceScript returns {epoch, seq, why, id, data, id, data...}: the
// entries after offset ARGV[4] of epoch ARGV[3], at most ARGV[5] (0:
// all), or none and why the position is lost. The stream may hold more
// than the last size entries (MAXLEN ~ trims in whole nodes) and entries
// older than the age limit (trimmed by count only): those count as gone.
var sinceScript = redis.NewScript(historyMeta + `
local pos = tonumber(ARGV[4])
if ARGV[3] ~= epoch then return {epoch, seq, 'epoch'} end
if pos > seq then return {epoch, seq, 'future'} end
if pos == seq then return {epoch, seq, ''} end
if size > 0 and pos < seq - size then return {epoch, seq, 'trimmed'} end
local args = {'XRANGE', KEYS[2], string.format('%d', pos + 1), '+'}
if tonumber(ARGV[5]) > 0 then
	args[5], args[6] = 'COUNT', ARGV[5]
end
local es = redis.call(unpack(args))
if #es == 0 or es[1][1] ~= string.format('%d-0', pos + 1) then
	return {epoch, seq, 'trimmed'}
end
if ttl > 0 and now - tonumber(es[1][2][4]) > ttl then
	return {epoch, seq, 'expired'}
end
local out = {epoch, seq, ''}
for _, e in ipairs(es) do
	out[#out + 1] = e[1]
	out[#out + 1] = e[2][2]
end
return out
`)

// positionScript returns {epoch, seq}.
var positionScript = redis.NewScript(historyMeta + `
return {epoch, seq}
`)

// lostReasons explain the whys of sinceScript.
var lostReasons = map[string]string{
	"epoch":   "of another epoch",
	"future":  "beyond the last message",
	"trimmed": "before the oldest message kept",
	"expired": "before messages older than the age limit",
}

// Append implements hub.HistoryStore with one script: the room's offset
// grows by one in Redis, whichever node appends, and the message goes to
// the room's stream under that offset.
func (b *Broker) Append(ctx context.Context, room string, data []byte, opts hub.HistoryOptions) (hub.StreamPosition, error) {
	if opts.Size <= 0 || opts.TTL < 0 {
		return hub.StreamPosition{}, fmt.Errorf("forge: redisbroker: append: history of %d messages for %v: want a positive size and a ttl >= 0", opts.Size, opts.TTL)
	}
	reply, err := b.runHistory(ctx, "append", appendScript, room, data, opts.Size, ceilMillis(opts.TTL))
	if err != nil {
		return hub.StreamPosition{}, err
	}
	pos, err := parsePosition(reply)
	if err != nil {
		return hub.StreamPosition{}, fmt.Errorf("forge: redisbroker: append: %w", err)
	}
	return pos, nil
}

// Since implements hub.HistoryStore. Entries are read from the room's
// stream by offset; those beyond the size or the age limit of the last
// Append count as gone, even if Redis still holds them.
func (b *Broker) Since(ctx context.Context, room string, since hub.StreamPosition, limit int) ([]hub.HistoryEntry, hub.StreamPosition, error) {
	reply, err := b.runHistory(ctx, "since", sinceScript, room, since.Epoch, since.Offset, max(limit, 0))
	if err != nil {
		return nil, hub.StreamPosition{}, err
	}
	cur, err := parsePosition(reply)
	if err != nil || len(reply) < 3 || len(reply)%2 == 0 {
		return nil, hub.StreamPosition{}, fmt.Errorf("forge: redisbroker: since: unexpected reply %v", reply)
	}
	if why, _ := reply[2].(string); why != "" {
		return nil, cur, fmt.Errorf("forge: redisbroker: since: position %s/%d in room %q is %s (the room is at %s/%d): %w",
			since.Epoch, since.Offset, room, lostReasons[why], cur.Epoch, cur.Offset, hub.ErrPositionLost)
	}
	entries := make([]hub.HistoryEntry, 0, (len(reply)-3)/2)
	for i := 3; i < len(reply); i += 2 {
		id, _ := reply[i].(string)
		data, _ := reply[i+1].(string)
		off, err := strconv.ParseUint(strings.TrimSuffix(id, "-0"), 10, 64)
		if err != nil {
			return nil, cur, fmt.Errorf("forge: redisbroker: since: entry id %q: %w", id, err)
		}
		if off != since.Offset+1+uint64(len(entries)) {
			// A hole (an Append that failed halfway): stop before it, so
			// that reading on from here finds the position lost.
			break
		}
		entries = append(entries, hub.HistoryEntry{Offset: off, Data: []byte(data)})
	}
	return entries, cur, nil
}

// Position implements hub.HistoryStore. A room without history gets a
// new epoch, kept in Redis so that its first Append continues it.
func (b *Broker) Position(ctx context.Context, room string) (hub.StreamPosition, error) {
	reply, err := b.runHistory(ctx, "position", positionScript, room)
	if err != nil {
		return hub.StreamPosition{}, err
	}
	pos, err := parsePosition(reply)
	if err != nil {
		return hub.StreamPosition{}, fmt.Errorf("forge: redisbroker: position: %w", err)
	}
	return pos, nil
}

// runHistory runs a history script on room's keys, with a new epoch and
// emptyHistoryTTL for a room without history, then args. It fails at
// once while the pub/sub connection is down, else within the Broker's
// timeout.
func (b *Broker) runHistory(ctx context.Context, op string, s *redis.Script, room string, args ...any) ([]any, error) {
	if err := b.ready(op); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	meta, stream := b.historyKeys(room)
	all := append([]any{rand.Text()[:12], emptyHistoryTTL.Milliseconds()}, args...)
	reply, err := s.Run(ctx, b.client, []string{meta, stream}, all...).Slice()
	if err != nil {
		return nil, fmt.Errorf("forge: redisbroker: %s: %w", op, err)
	}
	b.reached()
	return reply, nil
}

// parsePosition reads {epoch, seq} at the start of a script's reply.
func parsePosition(reply []any) (hub.StreamPosition, error) {
	if len(reply) >= 2 {
		epoch, ok1 := reply[0].(string)
		seq, ok2 := reply[1].(int64)
		if ok1 && ok2 && epoch != "" && seq >= 0 {
			return hub.StreamPosition{Epoch: epoch, Offset: uint64(seq)}, nil
		}
	}
	return hub.StreamPosition{}, errors.New("unexpected reply from redis")
}

// ceilMillis returns d in whole milliseconds, rounded up so that a
// positive age limit stays one.
func ceilMillis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
