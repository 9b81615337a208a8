package soak

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
)

// server is the app under test, as examples/bench builds it: /echo sends
// every message back, /room broadcasts every message to the one room's
// members, sender included.
type server struct {
	app   *forge.App
	rooms *hub.Hub
	url   string // ws://127.0.0.1:PORT

	echoed          atomic.Uint64
	broadcastErrors atomic.Uint64
	leftBeforeJoin  atomic.Uint64 // room clients gone before Join: see the /room handler
}

func startServer(t *testing.T, logger *slog.Logger) *server {
	t.Helper()
	rooms, err := hub.New(hub.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: this one after forgetest's shutdown.
	t.Cleanup(func() {
		if err := rooms.Close(); err != nil {
			t.Errorf("close hub: %v", err)
		}
	})
	s := &server{rooms: rooms}
	s.app = forge.New(forge.WithAppName("soak"), forge.WithLogger(logger))
	r := s.app.Router()
	r.WebSocket("/echo", func(_ forge.Context, conn forge.Connection) error {
		for {
			msg, err := conn.Read()
			if err != nil {
				return err
			}
			if err := conn.Write(msg); err != nil {
				return err
			}
			s.echoed.Add(1)
		}
	})
	// The same echo through Connection.Listen: half the echo connections
	// and a third of the churn park between their messages.
	r.WebSocket("/listen", func(_ forge.Context, conn forge.Connection) error {
		return conn.Listen(func(_ forge.MessageType, msg []byte) error {
			if err := conn.Write(msg); err != nil {
				return err
			}
			s.echoed.Add(1)
			return nil
		})
	})
	r.WebSocket("/room", func(ctx forge.Context, conn forge.Connection) error {
		if err := rooms.Register(conn); err != nil {
			return err
		}
		if err := rooms.Join(ctx.Context(), conn.ID(), "room"); err != nil {
			if errors.Is(err, hub.ErrUnknownConnection) && conn.Context().Err() != nil {
				// The client left between Register and Join (a churning
				// member on a stalled machine), and the hub has forgotten
				// it: the end of a connection, not a server fault.
				s.leftBeforeJoin.Add(1)
				return nil
			}
			return err
		}
		for {
			msg, err := conn.Read()
			if err != nil {
				return err
			}
			// Read returns a fresh slice, which the hub may keep.
			if err := rooms.Broadcast(ctx.Context(), "room", hub.Message{Data: msg}); err != nil {
				s.broadcastErrors.Add(1)
			}
		}
	})
	s.url = forgetest.Start(t, s.app).WebSocketURL("")
	return s
}

// sample is one row of the CSV: the server process's figures at one time.
type sample struct {
	Phase      string        // before (no clients yet), steady, after (the clients have left)
	Elapsed    time.Duration // since the steady phase began
	RSSKiB     uint64        // VmRSS of /proc/self/status
	Goroutines int
	HeapKiB    uint64 // runtime.MemStats.HeapInuse
	LiveKiB    uint64 // the heap that the last GC found live (/gc/heap/live:bytes)
	GCs        uint32
	Open       int    // WebSocket connections open
	Accepted   uint64 // upgrades since start
	Echoed     uint64
	Published  uint64 // hub Status
	Delivered  uint64
	HubDropped uint64
	Slow       uint64 // connections closed as slow consumers
	Dropped    uint64 // messages dropped by a queue policy
}

var csvHeader = "phase,elapsed_s,rss_kib,goroutines,heap_inuse_kib,heap_live_kib,gc_cycles,open_conns,accepted,echoed,room_published,room_delivered,hub_dropped,slow_consumers,queue_dropped"

func (s sample) csv() string {
	return fmt.Sprintf("%s,%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d",
		s.Phase, s.Elapsed.Seconds(), s.RSSKiB, s.Goroutines, s.HeapKiB, s.LiveKiB, s.GCs, s.Open, s.Accepted,
		s.Echoed, s.Published, s.Delivered, s.HubDropped, s.Slow, s.Dropped)
}

func (s *server) sample(t *testing.T, phase string, elapsed time.Duration) sample {
	t.Helper()
	rss, err := readRSS()
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	st, hs := s.app.Stats(), s.rooms.Status()
	return sample{
		Phase: phase, Elapsed: elapsed, RSSKiB: rss, Goroutines: runtime.NumGoroutine(),
		HeapKiB: ms.HeapInuse >> 10, LiveKiB: live[0].Value.Uint64() >> 10, GCs: ms.NumGC, Open: st.Open, Accepted: st.Accepted,
		Echoed: s.echoed.Load(), Published: hs.Published, Delivered: hs.Delivered,
		HubDropped: hs.Dropped, Slow: st.SlowConsumers, Dropped: st.Dropped,
	}
}

// recorder keeps the samples and appends each to the CSV as it is taken,
// so that a run cut short leaves its figures.
type recorder struct {
	srv     *server
	f       *os.File
	samples []sample
}

func newRecorder(t *testing.T, srv *server, path string) *recorder {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := fmt.Fprintln(f, csvHeader); err != nil {
		t.Fatal(err)
	}
	return &recorder{srv: srv, f: f}
}

// take samples the server and records the sample.
func (r *recorder) take(t *testing.T, phase string, elapsed time.Duration) {
	t.Helper()
	s := r.srv.sample(t, phase, elapsed)
	r.samples = append(r.samples, s)
	if _, err := fmt.Fprintln(r.f, s.csv()); err != nil {
		t.Fatal(err)
	}
}

// profilePath names a heap profile beside the CSV at csvPath.
func profilePath(csvPath, phase string) string {
	return strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + "-" + phase + ".heap.pprof"
}

// writeHeapProfile writes the heap profile, after a collection, to path:
// when the live heap grows, it tells a leak from a working set.
func writeHeapProfile(t *testing.T, path string) {
	t.Helper()
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}

// readRSS returns this process's resident set size in KiB.
func readRSS() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}

// countingHandler sends the records at Warn and above to warn and counts
// the others by message, with their close code, error or reason (ports
// taken out): why connections ended, for the summary.
type countingHandler struct {
	warn   slog.Handler
	counts *logCounts
}

var _ slog.Handler = countingHandler{}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		return h.warn.Handle(ctx, r)
	}
	key := r.Message
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "code", "error", "reason":
			// Ports (5 digits) go; close codes and addresses stay.
			key += " " + a.Key + "=" + kindOf(a.Value.String(), 5)
		}
		return true
	})
	h.counts.add(key)
	return nil
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{warn: h.warn.WithAttrs(as), counts: h.counts}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{warn: h.warn.WithGroup(name), counts: h.counts}
}

// logCounts counts records by key; past maxKinds keys, the rest count as
// "other".
type logCounts struct {
	mu sync.Mutex // guards n
	n  map[string]int64
}

func (c *logCounts) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = make(map[string]int64)
	}
	if _, ok := c.n[key]; !ok && len(c.n) >= maxKinds {
		key = "other"
	}
	c.n[key]++
}

// String lists the counts, largest first.
func (c *logCounts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.n))
	for k := range c.n {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(c.n[b], c.n[a]), cmp.Compare(a, b)) })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %d× %s", c.n[k], k)
	}
	return b.String()
}

// logCapture receives the app's and the hub's log output at Warn and
// above; any line fails the test.
type logCapture struct {
	mu    sync.Mutex // guards n and first
	n     int
	first []string // the first 10 lines
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for line := range bytes.Lines(p) {
		c.n++
		if len(c.first) < 10 {
			c.first = append(c.first, strings.TrimSpace(string(line)))
		}
	}
	return len(p), nil
}

func (c *logCapture) lines() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, append([]string(nil), c.first...)
}
