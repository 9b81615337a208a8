package soak

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/internal/testkit"
)

// TestSoak holds the configured load for the configured time (see the
// package documentation) and fails on any lost, duplicated or reordered
// message, any failed connection, any Warn or Error log, RSS (under -race
// the live heap) or goroutines that grew after warm-up beyond a generous
// margin (flatness, not absolute figures), and connections, goroutines or
// live heap left over once the clients have gone. It asserts no timings;
// the rates it reached are in its summary.
func TestSoak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads RSS from /proc/self/status")
	}
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("soak: %v", cfg)

	var (
		logs   logCapture
		counts logCounts
	)
	logger := slog.New(countingHandler{
		warn:   slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}),
		counts: &counts,
	})
	srv := startServer(t, logger)
	csvPath := cfg.CSV
	if csvPath == "" {
		csvPath = filepath.Join(t.TempDir(), "soak.csv")
	}
	rec := newRecorder(t, srv, csvPath)
	runtime.GC() // so that the live heap is measured
	rec.take(t, "before", 0)

	// Bounds on every wait: dialing gets 2 minutes plus 20 ms a connection.
	connectWait := 2*time.Minute + time.Duration(cfg.Conns+cfg.Room)*20*time.Millisecond
	cc := clientConfig{
		URL: srv.url, Conns: cfg.Conns, Room: cfg.Room, Publishers: cfg.publishers(),
		RoomRate: cfg.RoomRate, Churn: cfg.Churn, Drain: cfg.Drain,
		Cap: connectWait + cfg.Duration + cfg.Drain + 2*time.Minute,
	}
	c := testkit.StartChild(t, childEnv, cc, cc.Cap+time.Minute)
	c.Expect(t, "ready", connectWait)
	testkit.WaitWithin(t, "every member to join the room", time.Minute, func() bool { return srv.rooms.Count("room") == cfg.Room })

	c.Send(t, "go")
	start := time.Now()
	rec.take(t, "steady", 0)
	for at := cfg.Interval; ; at += cfg.Interval {
		at = min(at, cfg.Duration)
		select {
		case l, ok := <-c.Lines:
			t.Fatalf("client process said %q (still open: %v) during the steady phase", l, ok)
		case <-time.After(time.Until(start.Add(at))):
		}
		rec.take(t, "steady", time.Since(start))
		if at == cfg.Duration {
			break
		}
	}
	if cfg.CSV != "" {
		writeHeapProfile(t, profilePath(cfg.CSV, "steady"))
	}
	c.Send(t, "stop")
	line := c.Expect(t, "result ", cc.Drain+2*time.Minute)
	var res clientResult
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "result ")), &res); err != nil {
		t.Fatalf("client result %q: %v", line, err)
	}
	c.Wait(t)

	// The clients have gone: every connection must end and its goroutines
	// with it.
	base := rec.samples[0].Goroutines
	settled := func() bool {
		return srv.app.Stats().Open == 0 && srv.rooms.Count("room") == 0 && runtime.NumGoroutine() <= base+afterSlack
	}
	deadline := time.Now().Add(30 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	runtime.GC() // so that the live heap is today's
	rec.take(t, "after", time.Since(start))
	if cfg.CSV == "" {
		b, err := os.ReadFile(csvPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("samples:\n%s", b)
	} else {
		writeHeapProfile(t, profilePath(cfg.CSV, "after"))
	}

	samples := rec.samples
	flat := checkFlat(samples, cfg.Warmup)
	nlogs, firstLogs := logs.lines()
	summary := summarize(cfg, res, samples, flat, nlogs, &counts, srv.leftBeforeJoin.Load())
	t.Logf("summary:\n%s", summary)
	if cfg.CSV != "" {
		txt := strings.TrimSuffix(cfg.CSV, filepath.Ext(cfg.CSV)) + ".txt"
		if err := os.WriteFile(txt, []byte(summary), 0o644); err != nil {
			t.Error(err)
		}
	}

	for _, tt := range []struct {
		name string
		t    totals
	}{{"echo", res.Echo}, {"room", res.Room}} {
		if tt.t.Lost != 0 || tt.t.Dup != 0 || tt.t.Reordered != 0 || tt.t.Foreign != 0 {
			t.Errorf("%s: %d lost, %d duplicated, %d reordered, %d foreign of %d due", tt.name, tt.t.Lost, tt.t.Dup, tt.t.Reordered, tt.t.Foreign, tt.t.Expected)
		}
	}
	if res.Errors.N != 0 {
		t.Errorf("steady connections failed: %v", res.Errors)
	}
	if res.Churn.Failed.N != 0 {
		t.Errorf("churning connections failed (of %d): %v", res.Churn.Started, res.Churn.Failed)
	}
	if n := srv.broadcastErrors.Load(); n != 0 {
		t.Errorf("%d broadcasts failed", n)
	}
	last := samples[len(samples)-1]
	// The hub's Dropped also counts what it offered to a churning member
	// that was closing already; the steady members' losses are counted
	// exactly above.
	if last.Slow != 0 || last.Dropped != 0 {
		t.Errorf("server closed %d slow consumers and dropped %d queued messages", last.Slow, last.Dropped)
	}
	if nlogs != 0 {
		t.Errorf("%d Warn or Error log lines; the first:\n%s", nlogs, strings.Join(firstLogs, "\n"))
	}
	for _, p := range flat.problems {
		t.Error(p)
	}
	if first := samples[0]; last.LiveKiB > first.LiveKiB+afterHeapSlackKiB {
		t.Errorf("the live heap after the clients left is %d KiB, %d before they came (slack %d)", last.LiveKiB, first.LiveKiB, afterHeapSlackKiB)
	}
	if !settled() {
		t.Errorf("after the clients left: %d connections open, %d room members, %d goroutines (%d before the clients came)",
			srv.app.Stats().Open, srv.rooms.Count("room"), runtime.NumGoroutine(), base)
	}
}

// afterSlack is how many more goroutines than before the clients came the
// server may have once they have gone.
const afterSlack = 20

// afterHeapSlackKiB is how much larger than before the clients came the
// live heap may be once they have gone: what outlives a connection, such
// as maps that grew to hold them all, and no more. 11,000 connections left
// 7.6 MiB in a trial.
const afterHeapSlackKiB = 16 << 10

// Flatness margins: after warm-up, the median of the last samples may
// exceed the median of the first by this factor plus this constant.
const (
	memFactor       = 1.25
	memSlackKiB     = 8 << 10
	goroutineFactor = 1.1
	goroutineSlack  = 50
)

// checkRSS says whether flatness compares RSS. The race runtime's own
// memory grows with every goroutine the program has ever created
// (golang/go#63276), and the server starts goroutines per connection and
// per burst of writes, so under -race its RSS climbs while its Go heap
// stays flat; there the live heap (what the last GC kept) stands in.
const checkRSS = !raceEnabled

// flatness compares the steady samples after warm-up: the first and last
// figures are medians, min and max over all of them.
type flatness struct {
	n                                 int // samples compared
	rssFirst, rssLast, rssMin, rssMax uint64
	liveFirst, liveLast               uint64
	goFirst, goLast, goMin, goMax     int
	problems                          []string
}

// checkFlat compares the median of the first three steady samples at or
// after warmup with the median of the last three (fewer when there are
// fewer than six).
func checkFlat(samples []sample, warmup time.Duration) flatness {
	var steady []sample
	for _, s := range samples {
		if s.Phase == "steady" && s.Elapsed >= warmup-time.Second {
			steady = append(steady, s)
		}
	}
	f := flatness{n: len(steady)}
	if len(steady) < 2 {
		f.problems = append(f.problems, fmt.Sprintf("only %d samples after the %v warm-up: run longer or sample more often", len(steady), warmup))
		return f
	}
	k := min(3, len(steady)/2)
	median := func(ss []sample, field func(sample) uint64) uint64 {
		v := make([]uint64, len(ss))
		for i, s := range ss {
			v[i] = field(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	first, last := steady[:k], steady[len(steady)-k:]
	rss := func(s sample) uint64 { return s.RSSKiB }
	live := func(s sample) uint64 { return s.LiveKiB }
	gs := func(s sample) uint64 { return uint64(s.Goroutines) }
	f.rssFirst, f.rssLast = median(first, rss), median(last, rss)
	f.liveFirst, f.liveLast = median(first, live), median(last, live)
	f.goFirst, f.goLast = int(median(first, gs)), int(median(last, gs))
	f.rssMin, f.rssMax, f.goMin, f.goMax = steady[0].RSSKiB, steady[0].RSSKiB, steady[0].Goroutines, steady[0].Goroutines
	for _, s := range steady {
		f.rssMin, f.rssMax = min(f.rssMin, s.RSSKiB), max(f.rssMax, s.RSSKiB)
		f.goMin, f.goMax = min(f.goMin, s.Goroutines), max(f.goMax, s.Goroutines)
	}
	name, from, to := "RSS", f.rssFirst, f.rssLast
	if !checkRSS {
		name, from, to = "live heap", f.liveFirst, f.liveLast
	}
	if lim := uint64(float64(from)*memFactor) + memSlackKiB; to > lim {
		f.problems = append(f.problems, fmt.Sprintf("%s grew after warm-up: %d KiB → %d KiB (limit %d)", name, from, to, lim))
	}
	if lim := int(float64(f.goFirst)*goroutineFactor) + goroutineSlack; f.goLast > lim {
		f.problems = append(f.problems, fmt.Sprintf("goroutines grew after warm-up: %d → %d (limit %d)", f.goFirst, f.goLast, lim))
	}
	return f
}

func summarize(cfg config, res clientResult, samples []sample, f flatness, nlogs int, counts *logCounts, leftBeforeJoin uint64) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	steadyS := res.SteadyS
	rate := func(n int64) float64 { return float64(n) / steadyS }
	p("soak: %v", cfg)
	p("clients: connected in %.1f s; steady %.1f s; drained in %.1f s", res.ConnectS, res.SteadyS, res.DrainS)
	p("echo: %d sent (%.1f msg/s), %d due, %d received, %d lost, %d duplicated, %d reordered, %d foreign; send lag at worst %.0f ms",
		res.Echo.Sent, rate(res.Echo.Sent), res.Echo.Expected, res.Echo.Received, res.Echo.Lost, res.Echo.Dup, res.Echo.Reordered, res.Echo.Foreign, res.Echo.MaxLagMS)
	p("room: %d published (%.1f msg/s), %d deliveries due, %d received, %d lost, %d duplicated, %d reordered, %d foreign; send lag at worst %.0f ms",
		res.Room.Sent, rate(res.Room.Sent), res.Room.Expected, res.Room.Received, res.Room.Lost, res.Room.Dup, res.Room.Reordered, res.Room.Foreign, res.Room.MaxLagMS)
	p("churn: %d connects/disconnects (%.1f/s), %d ok, %d failed, %d skipped; lag at worst %.0f ms",
		res.Churn.Started, rate(res.Churn.Started), res.Churn.OK, res.Churn.Failed.N, res.Churn.Skipped, res.Churn.MaxLagMS)
	if res.Churn.Failed.N > 0 {
		p("churn failures: %v", res.Churn.Failed)
	}
	if res.Errors.N > 0 {
		p("steady connection failures: %v", res.Errors)
	}
	first, last := samples[0], samples[len(samples)-1]
	p("server RSS after warm-up: %.1f → %.1f MiB (medians of the first and last samples; range %.1f-%.1f over %d samples)",
		mib(f.rssFirst), mib(f.rssLast), mib(f.rssMin), mib(f.rssMax), f.n)
	p("server live heap after warm-up: %.1f → %.1f MiB", mib(f.liveFirst), mib(f.liveLast))
	if !checkRSS {
		p("(under the race detector the live heap is compared, not RSS: see checkRSS)")
	}
	p("server goroutines after warm-up: %d → %d (range %d-%d)", f.goFirst, f.goLast, f.goMin, f.goMax)
	p("server before the clients: RSS %.1f MiB, live heap %.1f MiB, %d goroutines; after they left (and a GC): RSS %.1f MiB, live heap %.1f MiB, %d goroutines, %d connections open",
		mib(first.RSSKiB), mib(first.LiveKiB), first.Goroutines, mib(last.RSSKiB), mib(last.LiveKiB), last.Goroutines, last.Open)
	p("server counters: %d upgrades, %d echoed, %d room messages published, %d delivered, %d not offered (members closing), %d slow consumers, %d dropped by queues",
		last.Accepted, last.Echoed, last.Published, last.Delivered, last.HubDropped, last.Slow, last.Dropped)
	p("room clients that left between Register and Join: %d", leftBeforeJoin)
	p("Warn/Error log lines: %d", nlogs)
	p("server log records below Warn:%v", counts)
	if len(f.problems) == 0 {
		p("flat: yes")
	} else {
		p("flat: no: %s", strings.Join(f.problems, "; "))
	}
	return b.String()
}

func mib(kib uint64) float64 { return float64(kib) / 1024 }
