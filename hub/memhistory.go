package hub

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryHistory is a HistoryStore in this process: the default store of a
// hub without a broker. Its epochs are random, so a restarted process
// starts new ones and clients that come back are told to fetch the state
// anew. The zero value is not usable; call NewMemoryHistory.
type MemoryHistory struct {
	mu    sync.Mutex // guards rooms
	rooms map[string]*memoryStream
	now   func() time.Time
}

type memoryStream struct {
	epoch   string
	last    uint64 // offset of the last message appended
	entries []memoryEntry
	touched time.Time // of the last append; the stream expires TTL after it
	ttl     time.Duration
}

type memoryEntry struct {
	offset uint64
	at     time.Time
	data   []byte
}

var _ HistoryStore = (*MemoryHistory)(nil)

// NewMemoryHistory returns an empty store.
func NewMemoryHistory() *MemoryHistory {
	return &MemoryHistory{rooms: make(map[string]*memoryStream), now: time.Now}
}

func newEpoch() string { return rand.Text()[:12] }

// stream returns room's stream, starting a new epoch where it had none or
// it expired. Caller holds mu.
func (s *MemoryHistory) stream(room string, now time.Time) *memoryStream {
	st := s.rooms[room]
	if st != nil && st.ttl > 0 && now.Sub(st.touched) > st.ttl {
		st = nil // expired whole, as a Redis key would
	}
	if st == nil {
		st = &memoryStream{epoch: newEpoch(), touched: now}
		s.rooms[room] = st
	}
	return st
}

// Append implements HistoryStore.
func (s *MemoryHistory) Append(_ context.Context, room string, data []byte, opts HistoryOptions) (StreamPosition, error) {
	if opts.Size <= 0 {
		return StreamPosition{}, fmt.Errorf("forge: history: size %d", opts.Size)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(room, now)
	st.last++
	st.touched, st.ttl = now, opts.TTL
	st.entries = append(st.entries, memoryEntry{offset: st.last, at: now, data: slices.Clone(data)})
	if over := len(st.entries) - opts.Size; over > 0 {
		clear(st.entries[:over])
		st.entries = st.entries[over:]
	}
	return StreamPosition{Epoch: st.epoch, Offset: st.last}, nil
}

// Since implements HistoryStore.
func (s *MemoryHistory) Since(_ context.Context, room string, since StreamPosition, limit int) ([]HistoryEntry, StreamPosition, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(room, now)
	cur := StreamPosition{Epoch: st.epoch, Offset: st.last}
	if since.Epoch != st.epoch || since.Offset > st.last {
		return nil, cur, fmt.Errorf("%w: room %q is at %s/%d", ErrPositionLost, room, st.epoch, st.last)
	}
	// The oldest entry still kept, by count and by age.
	first := len(st.entries)
	for i, e := range st.entries {
		if st.ttl == 0 || now.Sub(e.at) <= st.ttl {
			first = i
			break
		}
	}
	kept := st.entries[first:]
	if since.Offset < st.last && (len(kept) == 0 || kept[0].offset > since.Offset+1) {
		return nil, cur, fmt.Errorf("%w: room %q keeps offsets from %d", ErrPositionLost, room, st.last-uint64(len(kept))+1)
	}
	var out []HistoryEntry
	for _, e := range kept {
		if e.offset <= since.Offset {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, HistoryEntry{Offset: e.offset, Data: e.data})
	}
	return out, cur, nil
}

// Position implements HistoryStore.
func (s *MemoryHistory) Position(_ context.Context, room string) (StreamPosition, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(room, now)
	return StreamPosition{Epoch: st.epoch, Offset: st.last}, nil
}
