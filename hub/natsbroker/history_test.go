package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/historytest"
	"github.com/forgekit/forge/hub/natsbroker"
	"github.com/forgekit/forge/hub/natsbroker/natstest"
)

// newStore returns a function that connects a new broker to srv as a
// history store, as another node would.
func newStore(srv *natstest.Server, opts ...natsbroker.Option) func(t *testing.T) hub.HistoryStore {
	return func(t *testing.T) hub.HistoryStore {
		t.Helper()
		return newBroker(srv, opts...)(t).(*natsbroker.Broker)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		storage jetstream.StorageType
	}{
		{"File", jetstream.FileStorage},
		{"Memory", jetstream.MemoryStorage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := natstest.Start(t)
			historytest.Run(t, newStore(srv, natsbroker.WithHistoryStream("", tt.storage)))
		})
	}
}

// TestHistoryRecovery runs historytest.RunRecovery over two nodes.
func TestHistoryRecovery(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	historytest.RunRecovery(t, newBroker(srv, natsbroker.WithHistoryStream("recovery", jetstream.MemoryStorage)))
}

// TestHistoryInterleaved: Since finds its place in a stream where rooms'
// messages alternate irregularly, from every position.
func TestHistoryInterleaved(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	st := newStore(srv, natsbroker.WithHistoryStream("", jetstream.MemoryStorage))(t)
	ctx := context.Background()
	opts := hub.HistoryOptions{Size: 1000}
	rng := rand.New(rand.NewPCG(1, 2))
	var last hub.StreamPosition
	const n = 100 // three checkpoints
	for i := 1; i <= n; i++ {
		for range rng.IntN(6) { // other rooms, several of them at times
			if _, err := st.Append(ctx, "noise "+strconv.Itoa(rng.IntN(3)), []byte("x"), opts); err != nil {
				t.Fatal(err)
			}
		}
		pos, err := st.Append(ctx, "room", []byte(strconv.Itoa(i)), opts)
		if err != nil {
			t.Fatal(err)
		}
		last = pos
	}
	for from := range uint64(n) {
		for _, limit := range []int{0, 5} {
			got, cur, err := st.Since(ctx, "room", hub.StreamPosition{Epoch: last.Epoch, Offset: from}, limit)
			if err != nil {
				t.Fatalf("Since(%d, %d): %v", from, limit, err)
			}
			want := n - int(from)
			if limit > 0 {
				want = min(want, limit)
			}
			if cur != last || len(got) != want {
				t.Fatalf("Since(%d, %d) = %d entries at %+v, want %d at %+v", from, limit, len(got), cur, want, last)
			}
			for i, e := range got {
				if off := from + 1 + uint64(i); e.Offset != off || string(e.Data) != strconv.FormatUint(off, 10) {
					t.Fatalf("Since(%d, %d): entry %d is %d:%q", from, limit, i, e.Offset, e.Data)
				}
			}
		}
	}
}

// TestHistoryTrims: the stream keeps about a room's size of messages, not
// every message ever appended.
func TestHistoryTrims(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	st := newStore(srv, natsbroker.WithHistoryStream("trims", jetstream.MemoryStorage))(t)
	ctx := context.Background()
	for i := range 200 {
		if _, err := st.Append(ctx, "room", []byte(strconv.Itoa(i)), hub.HistoryOptions{Size: 5}); err != nil {
			t.Fatal(err)
		}
	}
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, "trims")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Msgs; n < 5 || n > 5+16 {
		t.Fatalf("the stream holds %d messages of a room of size 5 after 200 appends", n)
	}
}

// TestHistoryOutage: while the server is down, history calls fail at
// once; after it restarts, a file stream continues the room's epoch and a
// memory stream, which the restart lost, starts a new one.
func TestHistoryOutage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		storage jetstream.StorageType
		kept    bool
	}{
		{"File", jetstream.FileStorage, true},
		{"Memory", jetstream.MemoryStorage, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := natstest.Start(t)
			nc := srv.Connect(t)
			b, err := natsbroker.New(nc, natsbroker.WithHistoryStream("", tt.storage))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			ctx := context.Background()
			opts := hub.HistoryOptions{Size: 10, TTL: time.Minute}
			var before hub.StreamPosition
			for i := range 2 {
				if before, err = b.Append(ctx, "room", []byte(strconv.Itoa(i)), opts); err != nil {
					t.Fatal(err)
				}
			}

			srv.Stop(t)
			waitStatus(t, nc, nats.RECONNECTING)
			start := time.Now()
			if _, err := b.Append(ctx, "room", []byte("lost"), opts); !errors.Is(err, natsbroker.ErrDisconnected) {
				t.Errorf("Append: %v, want ErrDisconnected", err)
			}
			if _, _, err := b.Since(ctx, "room", before, 0); !errors.Is(err, natsbroker.ErrDisconnected) {
				t.Errorf("Since: %v, want ErrDisconnected", err)
			}
			if _, err := b.Position(ctx, "room"); !errors.Is(err, natsbroker.ErrDisconnected) {
				t.Errorf("Position: %v, want ErrDisconnected", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("the calls took %v while the server was down", d)
			}

			srv.Start(t)
			waitStatus(t, nc, nats.CONNECTED)
			// JetStream may take a moment to load its streams.
			var pos hub.StreamPosition
			deadline := time.Now().Add(historytest.Timeout)
			for pos, err = b.Append(ctx, "room", []byte("after"), opts); err != nil; pos, err = b.Append(ctx, "room", []byte("after"), opts) {
				if time.Now().After(deadline) {
					t.Fatalf("Append after the restart: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			got, _, err := b.Since(ctx, "room", before, 0)
			if tt.kept {
				if pos != (hub.StreamPosition{Epoch: before.Epoch, Offset: 3}) || err != nil || len(got) != 1 || string(got[0].Data) != "after" {
					t.Fatalf("after the restart: Append at %+v, Since(%+v) = %d entries, %v; want the epoch continued", pos, before, len(got), err)
				}
				return
			}
			if pos.Epoch == before.Epoch || pos.Offset != 1 || !errors.Is(err, hub.ErrPositionLost) {
				t.Fatalf("after the restart: Append at %+v, Since(%+v): %v; want a new epoch and the old position lost", pos, before, err)
			}
		})
	}
}

// TestHistoryClosed: history calls after Close fail with ErrBrokerClosed.
func TestHistoryClosed(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	b := newBroker(srv)(t).(*natsbroker.Broker)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(context.Background(), "room", []byte("x"), hub.HistoryOptions{Size: 1}); !errors.Is(err, hub.ErrBrokerClosed) {
		t.Fatalf("Append after Close: %v, want ErrBrokerClosed", err)
	}
}

// TestHistoryPrefixes: clusters with different prefixes and streams keep
// their histories apart on one server.
func TestHistoryPrefixes(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	var positions []hub.StreamPosition
	for _, c := range []string{"a", "b"} {
		st := newStore(srv, natsbroker.WithSubjectPrefix(c+"."), natsbroker.WithHistoryStream(c, jetstream.MemoryStorage))(t)
		for i := range 2 {
			pos, err := st.Append(ctx, "room", fmt.Appendf(nil, "%s%d", c, i), hub.HistoryOptions{Size: 10})
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				positions = append(positions, pos)
			}
		}
	}
	if positions[0].Offset != 2 || positions[1].Offset != 2 || positions[0].Epoch == positions[1].Epoch {
		t.Fatalf("positions %+v: want two histories of two messages", positions)
	}
}
