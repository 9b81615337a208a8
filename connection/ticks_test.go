package connection

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/forgekit/forge/internal/testkit"
	"github.com/gorilla/websocket"
)

func TestTickDue(t *testing.T) {
	for _, tc := range []struct {
		at, d, pongWait time.Duration
		want            int64
	}{
		{20 * time.Millisecond, 20 * time.Millisecond, time.Second, 2},
		{21 * time.Millisecond, 20 * time.Millisecond, time.Second, 3},
		{29 * time.Millisecond, 20 * time.Millisecond, time.Second, 3},
		{30*time.Second + time.Millisecond, 30 * time.Second, 10 * time.Second, 3010},
		// A short PongWait keeps long delays on a finer grid.
		{30*time.Second + time.Millisecond, 30 * time.Second, 80 * time.Millisecond, 3002},
		{30*time.Second + time.Millisecond, 30 * time.Second, 20 * time.Millisecond, 3001},
	} {
		due := tickDue(tc.at, tc.d, tc.pongWait)
		if due != tc.want {
			t.Errorf("tickDue(%v, %v, %v) = %d, want %d", tc.at, tc.d, tc.pongWait, due, tc.want)
		}
		if time.Duration(due)*tickFine < tc.at {
			t.Errorf("tickDue(%v, %v, %v) = %d: before it is due", tc.at, tc.d, tc.pongWait, due)
		}
	}
}

// TestTickBuckets: ticks due together share a bucket; cancelling them in
// any order keeps every entry's index right, and the last one out stops
// the bucket's timer and leaves the table empty. The ticks are an hour
// away, so none fires.
func TestTickBuckets(t *testing.T) {
	tr := &Tracker{}
	cfg := &Config{Tracker: tr}
	conns := make([]*Conn, 200)
	for i := range conns {
		conns[i] = &Conn{cfg: cfg}
		conns[i].gmu.Lock()
		conns[i].scheduleTick(time.Hour, false)
		conns[i].gmu.Unlock()
	}
	check := func(live []*Conn) {
		t.Helper()
		tr.ticks.mu.Lock()
		defer tr.ticks.mu.Unlock()
		n := 0
		for _, b := range tr.ticks.buckets {
			for i, e := range b.entries {
				if e.c.tickAt != b || int(e.c.tickIdx) != i {
					t.Fatalf("entry %d of bucket %d: conn says bucket %p index %d", i, b.due, e.c.tickAt, e.c.tickIdx)
				}
			}
			n += len(b.entries)
		}
		if n != len(live) {
			t.Fatalf("%d entries in the table, %d ticks scheduled", n, len(live))
		}
		// Scheduled within a few milliseconds, an hour ahead: the 200 ticks
		// fall in one or two buckets of the coarse grid.
		if len(live) > 0 && len(tr.ticks.buckets) > 2 {
			t.Fatalf("%d ticks in %d buckets", len(live), len(tr.ticks.buckets))
		}
	}
	check(conns)
	// Moving a tick takes it out of its bucket.
	conns[7].gmu.Lock()
	conns[7].scheduleTick(2*time.Hour, false)
	conns[7].gmu.Unlock()
	conns[7].cancelTick()
	conns = append(conns[:7], conns[8:]...)
	rand.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
	for len(conns) > 0 {
		conns[0].cancelTick()
		conns = conns[1:]
		check(conns)
	}
	if len(tr.ticks.buckets) != 0 {
		t.Fatalf("%d buckets left in an empty table", len(tr.ticks.buckets))
	}
}

// TestTicksShareTimers: the connections of a Tracker wait for their ticks
// in shared buckets, not a timer each, and the table empties as they end.
func TestTicksShareTimers(t *testing.T) {
	t.Parallel()
	const n = 40
	s := newServer(t, Config{}, echo)
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = dial(t, s, nil)
	}
	ticks := &s.tracker.ticks
	buckets := func() (b, entries int) {
		ticks.mu.Lock()
		defer ticks.mu.Unlock()
		for _, bk := range ticks.buckets {
			entries += len(bk.entries)
		}
		return len(ticks.buckets), entries
	}
	// Past their first ticks, every connection waits for its first ping.
	testkit.WaitFor(t, "every connection's tick scheduled", func() bool { _, e := buckets(); return e == n })
	if b, _ := buckets(); b > n/4 {
		t.Errorf("%d connections' ticks wait in %d buckets", n, b)
	}
	for _, ws := range conns {
		ws.Close()
	}
	testkit.WaitFor(t, "the tick table empty", func() bool { b, e := buckets(); return b == 0 && e == 0 })
}

// TestTicksUntrackedInBubbles: connections served without a Tracker, in
// two synctest bubbles at once, each keep their keepalive on the timers of
// their own bubble. The bubbles' clocks start at the same instant, so ticks
// kept in one table for every untracked connection would fall in the same
// bucket, and one bubble's timer would run the other's connection.
func TestTicksUntrackedInBubbles(t *testing.T) {
	t.Parallel()
	// Made outside the bubbles: waiting on them does not move a bubble's
	// clock, so both connections schedule their first tick before either
	// bubble's timers fire.
	here := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv, cli := net.Pipe()
				cfg := Config{PingInterval: 20 * time.Millisecond, PongWait: 40 * time.Millisecond,
					Logger: slog.New(slog.DiscardHandler)}
				ended := make(chan struct{})
				go func() {
					br := bufio.NewReader(srv)
					r, err := http.ReadRequest(br)
					if err != nil {
						srv.Close()
						close(ended)
						return
					}
					Serve(&pipeResponse{conn: srv, br: br, header: http.Header{}}, r, &cfg, func(c *Conn) error {
						defer close(ended)
						<-c.Context().Done()
						return nil
					})
				}()
				d := websocket.Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) { return cli, nil }}
				ws, _, err := d.Dial("ws://pipe/", nil)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				close(here[i])
				<-here[1-i]
				var pings atomic.Int32
				ws.SetPingHandler(func(string) error {
					pings.Add(1)
					go ws.WriteControl(websocket.PongMessage, nil, time.Time{})
					return nil
				})
				go ws.ReadMessage() // answers pings until the connection ends
				time.Sleep(200 * time.Millisecond)
				if n := pings.Load(); n < 8 {
					t.Errorf("%d pings in 200 ms with a 20 ms interval, want keepalive running on the bubble's clock", n)
				}
				ws.Close()
				<-ended
			})
		})
	}
}
