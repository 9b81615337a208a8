package natsbroker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgekit/forge/hub"
)

// epochMarkerTTL bounds how long the marker that Position writes for a room
// without messages keeps the epoch it announced: a room that gets no
// message for that long leaves no trace, and its first message starts
// another epoch.
const epochMarkerTTL = 24 * time.Hour

// maxAppendTries bounds the rounds an Append may lose to other appenders
// of the same room before it gives up.
const maxAppendTries = 100

// seekProbes bounds the reads that look for where a Since starts.
const seekProbes = 8

// historyStream returns the history stream, made sure of once; again
// makes sure of it anew, after it was found missing.
func (b *Broker) historyStream(ctx context.Context, again bool) (jetstream.Stream, error) {
	b.mu.Lock()
	s := b.history
	b.mu.Unlock()
	if s != nil && !again {
		return s, nil
	}
	s, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        b.cfg.stream,
		Description: "forge hub history: the recent messages of rooms, one subject per room",
		Subjects:    []string{b.cfg.prefix + "history.>"},
		Storage:     b.cfg.storage,
		AllowDirect: true, // Since and Append read with direct gets
		AllowMsgTTL: true, // age limits per message
		AllowRollup: true, // the first message of an epoch clears the room
	})
	if err != nil {
		return nil, fmt.Errorf("history stream: %w", err)
	}
	b.mu.Lock()
	b.history = s
	b.mu.Unlock()
	return s, nil
}

// historyCall runs op on the history stream, and once more after making
// sure of the stream if it is missing. Like presence calls, it refuses to
// run while disconnected, so that nats.go does not buffer a write to send
// it late.
func (b *Broker) historyCall(ctx context.Context, name string, op func(ctx context.Context, s jetstream.Stream) error) error {
	if b.isClosed() {
		return fmt.Errorf("forge: natsbroker: %s: %w", name, hub.ErrBrokerClosed)
	}
	if err := b.connected(name); err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	s, err := b.historyStream(ctx, false)
	if err == nil {
		err = op(ctx, s)
		if err != nil && missing(err) {
			if s, err = b.historyStream(ctx, true); err == nil {
				err = op(ctx, s)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("forge: natsbroker: %s: %w", name, err)
	}
	return nil
}

// historySubject returns the subject of room's history.
func (b *Broker) historySubject(room string) (string, error) {
	s := withToken(b.cfg.prefix+"history.", room)
	if len(s) > maxSubject {
		return "", errTooLong("room", len(s))
	}
	return s, nil
}

// last returns the last message of subj, nil if it has none.
func (b *Broker) last(ctx context.Context, subj string) (*record, error) {
	return b.getOne(ctx, directGet{LastFor: subj})
}

// Append implements hub.HistoryStore. It reads the room's last message
// and publishes data with the next offset, on the condition that the
// room's last message is still that one; when another node appended
// first, it reads again and retries.
func (b *Broker) Append(ctx context.Context, room string, data []byte, opts hub.HistoryOptions) (hub.StreamPosition, error) {
	if opts.Size <= 0 || opts.TTL < 0 {
		return hub.StreamPosition{}, fmt.Errorf("forge: natsbroker: history of %d messages for %v: want a positive size and a ttl >= 0", opts.Size, opts.TTL)
	}
	subj, err := b.historySubject(room)
	if err != nil {
		return hub.StreamPosition{}, err
	}
	var pos hub.StreamPosition
	err = b.historyCall(ctx, "append to history", func(ctx context.Context, s jetstream.Stream) error {
		for try := 1; ; try++ {
			last, err := b.last(ctx, subj)
			if err != nil {
				return err
			}
			next := record{epoch: newEpoch(), off: 1, size: uint64(opts.Size), ttl: opts.TTL, data: data}
			var after uint64 // stream sequence of the room's last message, 0 for none
			if last != nil {
				next.epoch, next.off, after = last.epoch, last.off+1, last.seq
				next.mark = last.mark
				if last.off%markEvery == 0 && last.off > 0 {
					next.mark = last.seq
				}
			}
			err = b.publishRecord(ctx, subj, next, after)
			if err == nil {
				pos = hub.StreamPosition{Epoch: next.epoch, Offset: next.off}
				b.trim(ctx, s, subj, next)
				return nil
			}
			if !lostRace(err) {
				return err
			}
			if try == maxAppendTries {
				return fmt.Errorf("room %q: lost %d races to other appenders in a row: %w", room, try, err)
			}
			if err := pause(ctx, try); err != nil {
				return err
			}
		}
	})
	return pos, err
}

// publishRecord stores r on subj if the subject's last message is the one
// at stream sequence after (none for 0). The first message of an epoch
// rolls the subject up, removing the marker, if any, in the same step.
func (b *Broker) publishRecord(ctx context.Context, subj string, r record, after uint64) error {
	m := nats.NewMsg(subj)
	m.Data = r.data
	h := m.Header
	h.Set(jetstream.ExpectedStreamHeader, b.cfg.stream)
	h.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(after, 10))
	h.Set(hdrEpoch, r.epoch)
	h.Set(hdrOffset, strconv.FormatUint(r.off, 10))
	switch {
	case r.off == 0:
		h.Set(jetstream.MsgTTLHeader, natsTTL(epochMarkerTTL))
	case r.off == 1:
		h.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	}
	if r.off > 0 {
		h.Set(hdrSize, strconv.FormatUint(r.size, 10))
	}
	if r.mark > 0 {
		h.Set(hdrMark, strconv.FormatUint(r.mark, 10))
	}
	if r.ttl > 0 {
		h.Set(hdrTTL, r.ttl.String())
		h.Set(jetstream.MsgTTLHeader, natsTTL(r.ttl))
	}
	_, err := b.js.PublishMsg(ctx, m)
	return err
}

// natsTTL formats d for the Nats-TTL header, which counts whole seconds,
// one at least: rounded up, so that the server never drops a message
// before the history's age limit; Since hides it from then on.
func natsTTL(d time.Duration) string {
	secs := max((d+time.Second-1)/time.Second, 1)
	return strconv.FormatInt(int64(secs), 10) + "s"
}

// lostRace reports whether a publish failed because the room's last
// message was no longer the one it expected.
func lostRace(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// pause waits a little, longer the more races an Append lost, so that
// appenders that keep colliding spread out.
func pause(ctx context.Context, try int) error {
	if try < 2 {
		return nil
	}
	d := time.Duration(mrand.Int64N(int64(min(try, 20)) * int64(100*time.Microsecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trim removes the room's messages beyond its size, every so often: Since
// never returns them anyway, so the stream may hold a quarter of the size
// more (16 messages at least) between trims, which saves a request per
// append. A trim that fails is made up for by the next one.
func (b *Broker) trim(ctx context.Context, s jetstream.Stream, subj string, r record) {
	every := max(r.size/4, 16)
	if r.off <= r.size || r.off%every != 0 {
		return
	}
	_ = s.Purge(ctx, jetstream.WithPurgeSubject(subj), jetstream.WithPurgeKeep(r.size))
}

func newEpoch() string { return rand.Text()[:12] }

// Position implements hub.HistoryStore. For a room without messages, it
// writes a marker that keeps a new epoch for the room's first message,
// for a day at most.
func (b *Broker) Position(ctx context.Context, room string) (hub.StreamPosition, error) {
	subj, err := b.historySubject(room)
	if err != nil {
		return hub.StreamPosition{}, err
	}
	var pos hub.StreamPosition
	err = b.historyCall(ctx, "read history position", func(ctx context.Context, _ jetstream.Stream) error {
		pos, err = b.position(ctx, subj)
		return err
	})
	return pos, err
}

// position is Position on subj.
func (b *Broker) position(ctx context.Context, subj string) (hub.StreamPosition, error) {
	for try := 1; ; try++ {
		last, err := b.last(ctx, subj)
		if err != nil {
			return hub.StreamPosition{}, err
		}
		if last != nil {
			return hub.StreamPosition{Epoch: last.epoch, Offset: last.off}, nil
		}
		marker := record{epoch: newEpoch()}
		err = b.publishRecord(ctx, subj, marker, 0)
		if err == nil {
			return hub.StreamPosition{Epoch: marker.epoch}, nil
		}
		if !lostRace(err) || try == maxAppendTries {
			return hub.StreamPosition{}, err
		}
	}
}

// Since implements hub.HistoryStore. The room's last message gives its
// epoch, size and age limit, and where to start reading: see "History" in
// the package documentation. The entries run to the room's newest message
// when Since reads it (limit permitting), which may be newer than the
// last message read first; the position returned is that of the newest.
func (b *Broker) Since(ctx context.Context, room string, since hub.StreamPosition, limit int) ([]hub.HistoryEntry, hub.StreamPosition, error) {
	subj, err := b.historySubject(room)
	if err != nil {
		return nil, hub.StreamPosition{}, err
	}
	var (
		out []hub.HistoryEntry
		cur hub.StreamPosition
	)
	err = b.historyCall(ctx, "read history", func(ctx context.Context, _ jetstream.Stream) error {
		out, cur, err = b.since(ctx, room, subj, since, limit)
		return err
	})
	return out, cur, err
}

// since is Since on subj.
func (b *Broker) since(ctx context.Context, room, subj string, since hub.StreamPosition, limit int) ([]hub.HistoryEntry, hub.StreamPosition, error) {
	last, err := b.last(ctx, subj)
	if err != nil {
		return nil, hub.StreamPosition{}, err
	}
	if last == nil {
		cur, err := b.position(ctx, subj)
		if err != nil {
			return nil, cur, err
		}
		return nil, cur, lost(room, cur)
	}
	cur := hub.StreamPosition{Epoch: last.epoch, Offset: last.off}
	if since.Epoch != last.epoch || since.Offset > last.off {
		return nil, cur, lost(room, cur)
	}
	if since.Offset == last.off {
		return nil, cur, nil
	}
	from := since.Offset + 1
	if last.off > last.size && from <= last.off-last.size {
		return nil, cur, fmt.Errorf("%w: room %q keeps offsets from %d", hub.ErrPositionLost, room, last.off-last.size+1)
	}
	recs := []record{*last}
	if from < last.off {
		if recs, err = b.readFrom(ctx, subj, from, last, limit); err != nil {
			return nil, cur, err
		}
	}
	if len(recs) == 0 || recs[0].off != from || last.ttl > 0 && time.Since(recs[0].at) > last.ttl {
		return nil, cur, fmt.Errorf("%w: room %q no longer keeps offset %d", hub.ErrPositionLost, room, from)
	}
	cur.Offset = max(cur.Offset, recs[len(recs)-1].off)
	out := make([]hub.HistoryEntry, len(recs))
	for i, r := range recs {
		out[i] = hub.HistoryEntry{Offset: r.off, Data: r.data}
	}
	return out, cur, nil
}

func lost(room string, cur hub.StreamPosition) error {
	return fmt.Errorf("%w: room %q is at %s/%d", hub.ErrPositionLost, room, cur.Epoch, cur.Offset)
}

// markEvery spaces the checkpoints of a room: every message carries the
// stream sequence of the room's latest message before it whose offset is a
// multiple of markEvery, which tells Since where to start reading.
const markEvery = 32

// checkpoint returns the offset and stream sequence of r's checkpoint,
// false if it has none.
func checkpoint(r *record) (point, bool) {
	if r.mark == 0 {
		return point{}, false
	}
	return point{(r.off - 1) / markEvery * markEvery, r.mark}, true
}

// readFrom returns the messages of subj from offset from on, of last's
// epoch, at most limit of them (0: all). It reads from the checkpoint of
// last if that is at or before from (a reader that is not far behind),
// else from a place that seek finds.
func (b *Broker) readFrom(ctx context.Context, subj string, from uint64, last *record, limit int) ([]record, error) {
	var start uint64 // 0: from the room's first message
	if cp, ok := checkpoint(last); ok {
		if cp.off <= from {
			start = cp.seq
		} else {
			p, ok, err := b.seek(ctx, subj, from, last.epoch, cp)
			if err != nil || !ok {
				return nil, err
			}
			start = p.seq
		}
	}
	n := last.off - from + 1 + markEvery
	if limit > 0 {
		n = min(n, uint64(limit)+markEvery)
	}
	recs, late, err := b.scan(ctx, subj, start, from, last.epoch, limit, int(min(n, maxBatch)))
	if late != nil {
		return nil, err // from is gone
	}
	return recs, err
}

// scan reads the messages of subj in batches of n from stream sequence
// seq on, and returns those of epoch from offset from on, in order and
// without a gap, at most limit of them (0: all). If the first message at
// or after offset from is after it, scan returns that message as late.
func (b *Broker) scan(ctx context.Context, subj string, seq, from uint64, epoch string, limit, n int) (out []record, late *record, err error) {
	for {
		batch, more, err := b.getBatch(ctx, directGet{Seq: seq, NextFor: subj, Batch: n, MaxBytes: maxBatchBytes})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range batch {
			seq = r.seq + 1
			switch {
			case r.epoch != epoch:
				return out, nil, nil // another life of the room began
			case r.off < from:
				continue
			case r.off != from+uint64(len(out)) && len(out) == 0:
				return nil, &r, nil
			case r.off != from+uint64(len(out)):
				return out, nil, nil // a gap: the hub reads on from here
			}
			out = append(out, r)
			if len(out) == limit {
				return out, nil, nil
			}
		}
		if len(batch) == 0 || !more {
			return out, nil, nil
		}
		n = maxBatch
	}
}

// point is a message of a room: its offset and stream sequence.
type point struct{ off, seq uint64 }

// seek returns a message of subj at offset from or before it, close to
// it, to read on from, given a message hi after it: the stream interleaves
// the messages of all rooms, so the sequence of an offset is unknown, but
// it grows with the offset, by one at least. seek interpolates between the
// room's first message and hi and reads the message there: its checkpoint
// may do, or else it narrows the interval down. It returns the first
// message if that is at or after from, and false if the room has none
// left.
func (b *Broker) seek(ctx context.Context, subj string, from uint64, epoch string, hi point) (point, bool, error) {
	first, err := b.getOne(ctx, directGet{NextFor: subj})
	if err != nil || first == nil {
		return point{}, false, err
	}
	lo := point{first.off, first.seq}
	if first.epoch != epoch || lo.off >= from || hi.off <= from {
		return lo, true, nil
	}
	for range seekProbes {
		if hi.off-lo.off <= markEvery {
			break
		}
		// Each offset has a sequence of its own: from lies within these.
		least, most := lo.seq+(from-lo.off), hi.seq-(hi.off-from)
		if least > most {
			break // not one room's contiguous messages: read on
		}
		est := lo.seq + uint64(float64(from-lo.off)/float64(hi.off-lo.off)*float64(hi.seq-lo.seq))
		est = min(max(est, least), most)
		p, err := b.getOne(ctx, directGet{Seq: est, NextFor: subj})
		if err != nil {
			return point{}, false, err
		}
		if p == nil || p.epoch != epoch || p.off <= lo.off {
			break // the room changed meanwhile: read on from lo
		}
		switch at := (point{p.off, p.seq}); {
		case at.off == from:
			return at, true, nil
		case at.off < from:
			lo = at
		case at.off >= hi.off:
			// No message of the room from est to hi: the offsets before
			// p are before est.
			hi = point{min(at.off-1, hi.off), est - 1}
		default:
			hi = at
			if cp, ok := checkpoint(p); ok && cp.off > lo.off {
				if cp.off <= from {
					return cp, true, nil
				}
				hi = cp
			}
		}
	}
	return lo, true, nil
}
