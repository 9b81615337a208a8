package redisbroker

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/historytest"
	"github.com/forgekit/forge/internal/redistest"
	"github.com/forgekit/forge/internal/testkit"
)

// stores returns a newStore function for historytest.Run: each call is
// one node's Broker, with its own client of addr.
func stores(addr string, cluster bool) func(t *testing.T) hub.HistoryStore {
	return func(t *testing.T) hub.HistoryStore { return newNode(t, addr, cluster) }
}

func TestHistoryConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	historytest.Run(t, stores(srv.Addr(), false))
}

func TestHistoryConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	historytest.Run(t, stores(srv.Addr(), true))
}

// TestRecovery runs historytest.RunRecovery over two nodes.
func TestRecovery(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	historytest.RunRecovery(t, nodes(srv.Addr(), false))
}

// TestHistoryLostWithServer: a Redis that restarts empty has lost every
// history; the room gets a new epoch and an old position is lost.
func TestHistoryLostWithServer(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newNode(t, srv.Addr(), false)
	t.Cleanup(func() { _ = b.Close() })
	opts := hub.HistoryOptions{Size: 10, TTL: time.Minute}
	var before hub.StreamPosition
	for range 3 {
		var err error
		if before, err = b.Append(ctxT(t), "room", []byte(`{}`), opts); err != nil {
			t.Fatal(err)
		}
	}

	srv.Stop(t)
	testkit.WaitFor(t, "the broker to notice the outage", func() bool { return b.down.Load() != nil })
	if _, err := b.Position(ctxT(t), "room"); err == nil {
		t.Fatal("Position succeeded while Redis was down")
	}
	srv.Start(t)
	var after hub.StreamPosition
	testkit.WaitFor(t, "Position to succeed again", func() bool {
		var err error
		after, err = b.Position(ctxT(t), "room")
		return err == nil
	})
	if after.Epoch == before.Epoch || after.Offset != 0 {
		t.Fatalf("Position after the restart = %+v, before %+v; want a new epoch at offset 0", after, before)
	}
	if got, _, err := b.Since(ctxT(t), "room", before, 0); !errors.Is(err, hub.ErrPositionLost) {
		t.Fatalf("Since(%+v) after the restart = %d entries, %v; want ErrPositionLost", before, len(got), err)
	}
	if got, _, err := b.Since(ctxT(t), "room", hub.StreamPosition{Epoch: before.Epoch}, 0); !errors.Is(err, hub.ErrPositionLost) {
		t.Fatalf("Since(the old epoch's start) after the restart = %d entries, %v; want ErrPositionLost", len(got), err)
	}
	pos, err := b.Append(ctxT(t), "room", []byte(`{}`), opts)
	if err != nil || pos != (hub.StreamPosition{Epoch: after.Epoch, Offset: 1}) {
		t.Fatalf("Append after the restart = %+v, %v; want offset 1 of %q", pos, err, after.Epoch)
	}
}

// TestHistoryKeys: a room's two keys, and their expiry: an empty epoch
// lasts emptyHistoryTTL, a history its age limit after its last message,
// or for ever without one; a history that expired starts a new epoch.
func TestHistoryKeys(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newNode(t, srv.Addr(), false)
	t.Cleanup(func() { _ = b.Close() })
	pttl := func(key string) time.Duration {
		t.Helper()
		d, err := b.client.PTTL(ctxT(t), key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	meta, stream := b.historyKeys("lobby")
	if meta != "forge:{history:lobby}:meta" || stream != "forge:{history:lobby}" {
		t.Fatalf("keys %q and %q", meta, stream)
	}
	empty, err := b.Position(ctxT(t), "lobby")
	if err != nil {
		t.Fatal(err)
	}
	if d := pttl(meta); d <= emptyHistoryTTL-time.Minute || d > emptyHistoryTTL {
		t.Fatalf("PTTL of an empty history's meta = %v, want %v", d, emptyHistoryTTL)
	}

	pos, err := b.Append(ctxT(t), "lobby", []byte("m"), hub.HistoryOptions{Size: 10, TTL: time.Minute})
	if err != nil || pos != (hub.StreamPosition{Epoch: empty.Epoch, Offset: 1}) {
		t.Fatalf("Append = %+v, %v", pos, err)
	}
	for _, key := range []string{meta, stream} {
		if d := pttl(key); d <= 50*time.Second || d > time.Minute {
			t.Fatalf("PTTL of %q = %v, want the history's minute", key, d)
		}
	}
	if _, err := b.Append(ctxT(t), "lobby", []byte("m"), hub.HistoryOptions{Size: 10}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{meta, stream} {
		if d := pttl(key); d != -1 {
			t.Fatalf("PTTL of %q without an age limit = %v, want none (-1)", key, d)
		}
	}

	// A history that expired whole.
	short := hub.HistoryOptions{Size: 10, TTL: 50 * time.Millisecond}
	old, err := b.Append(ctxT(t), "lobby", []byte("m"), short)
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the history to expire", func() bool { return pttl(meta) == -2 && pttl(stream) == -2 })
	pos, err = b.Append(ctxT(t), "lobby", []byte("m"), short)
	if err != nil || pos.Epoch == old.Epoch || pos.Offset != 1 {
		t.Fatalf("Append after the history expired = %+v, %v; want offset 1 of a new epoch", pos, err)
	}
}

// TestHistoryAgeOnRead: in a room that keeps getting messages, so that its
// keys never expire, the messages older than the age limit are gone all
// the same, though the stream (trimmed by count only) still holds them;
// and a hole in the stream, which only an Append that failed halfway
// could leave, ends what Since returns.
func TestHistoryAgeOnRead(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newNode(t, srv.Addr(), false)
	t.Cleanup(func() { _ = b.Close() })
	// The last entries must still be younger than ttl when they are read,
	// a moment after they were written: ttl leaves room for a loaded box.
	const ttl = time.Second
	opts := hub.HistoryOptions{Size: 100, TTL: ttl}
	first, err := b.Append(ctxT(t), "busy", []byte("old"), opts)
	if err != nil {
		t.Fatal(err)
	}
	var last hub.StreamPosition
	for deadline := time.Now().Add(3 * ttl / 2); time.Now().Before(deadline); time.Sleep(ttl / 20) {
		if last, err = b.Append(ctxT(t), "busy", []byte("new"), opts); err != nil {
			t.Fatal(err)
		}
	}
	if last.Epoch != first.Epoch {
		t.Fatalf("the history expired whole: epoch %q, then %q", first.Epoch, last.Epoch)
	}
	_, stream := b.historyKeys("busy")
	if n, err := b.client.XLen(ctxT(t), stream).Result(); err != nil || n != int64(last.Offset) {
		t.Fatalf("XLEN = %d, %v; want all %d entries still in the stream", n, err, last.Offset)
	}
	if got, _, err := b.Since(ctxT(t), "busy", hub.StreamPosition{Epoch: first.Epoch}, 0); !errors.Is(err, hub.ErrPositionLost) {
		t.Fatalf("Since(before the expired message) = %d entries, %v; want ErrPositionLost", len(got), err)
	}
	recent := hub.StreamPosition{Epoch: last.Epoch, Offset: last.Offset - 3}
	got, cur, err := b.Since(ctxT(t), "busy", recent, 0)
	if err != nil || len(got) != 3 || got[0].Offset != recent.Offset+1 || cur != last {
		t.Fatalf("Since(%+v) = %+v, %+v, %v; want the last 3 entries", recent, got, cur, err)
	}

	// A hole: Since stops before it, and reading on finds the position lost.
	if err := b.client.XDel(ctxT(t), stream, formatID(last.Offset-1)).Err(); err != nil {
		t.Fatal(err)
	}
	got, _, err = b.Since(ctxT(t), "busy", recent, 0)
	if err != nil || len(got) != 1 || got[0].Offset != recent.Offset+1 {
		t.Fatalf("Since(%+v) before a hole = %+v, %v; want the one entry before it", recent, got, err)
	}
	if _, _, err := b.Since(ctxT(t), "busy", hub.StreamPosition{Epoch: last.Epoch, Offset: got[0].Offset}, 0); !errors.Is(err, hub.ErrPositionLost) {
		t.Fatalf("Since(just before a hole): %v, want ErrPositionLost", err)
	}
}

func formatID(offset uint64) string { return strconv.FormatUint(offset, 10) + "-0" }
