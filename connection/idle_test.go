package connection

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/forgekit/forge/internal/testkit"
)

// Idle connections are measured with their clients in a child process (this
// test binary started again in client mode), so that the memory counted is
// the server's alone and each process stays within its descriptor limit.

// idleChildEnv, when set in the environment, makes the test binary a
// process of idle clients: see runIdleChild.
const idleChildEnv = "FORGE_CONNECTION_IDLE_CLIENTS"

type idleChildConfig struct {
	Addr string `json:"addr"`
	N    int    `json:"n"`
}

// runIdleChild opens N WebSocket connections to Addr over plain TCP (a
// handshake and nothing else), prints "ready", and then waits for its
// standard input to close. For each line "echo" it sends one message on
// every connection and prints "echoed K" with the number of connections
// that answered it.
func runIdleChild() int {
	var cfg idleChildConfig
	if err := json.Unmarshal([]byte(os.Getenv(idleChildEnv)), &cfg); err != nil {
		fmt.Println("fail config:", err)
		return 1
	}
	conns := make([]net.Conn, cfg.N)
	var (
		next    atomic.Int64
		dialErr atomic.Value
		wg      sync.WaitGroup
	)
	req := []byte("GET / HTTP/1.1\r\nHost: " + cfg.Addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	for range 32 {
		wg.Go(func() {
			buf := make([]byte, 1024)
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.N || dialErr.Load() != nil {
					return
				}
				nc, err := net.DialTimeout("tcp", cfg.Addr, time.Minute)
				if err == nil {
					conns[i] = nc
					err = handshake(nc, req, buf)
				}
				if err != nil {
					dialErr.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
	}()
	if err := dialErr.Load(); err != nil {
		fmt.Println("fail dial:", err)
		return 1
	}
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "echo" {
			fmt.Println("echoed", echoAll(conns))
		}
	}
	return 0
}

// handshake upgrades nc and reads the answer's head.
func handshake(nc net.Conn, req, buf []byte) error {
	nc.SetDeadline(time.Now().Add(time.Minute))
	defer nc.SetDeadline(time.Time{})
	if _, err := nc.Write(req); err != nil {
		return err
	}
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		if n == len(buf) {
			return fmt.Errorf("handshake answer longer than %d bytes", n)
		}
		k, err := nc.Read(buf[n:])
		if err != nil {
			return err
		}
		n += k
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101 ")) {
		return fmt.Errorf("handshake answered %q", buf[:min(n, 40)])
	}
	return nil
}

// echoAll sends one masked text frame on every connection and counts the
// connections that echo it whole.
func echoAll(conns []net.Conn) int {
	frame := clientFrame(opText, []byte("still there?"))
	var ok atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, nc := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			nc.SetDeadline(time.Now().Add(time.Minute))
			defer nc.SetDeadline(time.Time{})
			if _, err := nc.Write(frame); err != nil {
				return
			}
			want := 2 + len("still there?")
			buf := make([]byte, want)
			if _, err := io.ReadFull(nc, buf); err == nil && string(buf[2:]) == "still there?" {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return int(ok.Load())
}

// idleFootprint is what a set of idle connections costs the process that
// serves them, per connection.
type idleFootprint struct {
	heap, stack, total, goroutines float64
}

// measureIdle serves n idle connections with cfg and the handler h and
// returns their cost per connection: live heap and goroutine stacks after
// a collection, and goroutines. With echoes, every connection must then
// still echo a message.
func measureIdle(tb testing.TB, n int, cfg Config, h func(*Conn) error, echoes bool) idleFootprint {
	tb.Helper()
	tracker := &Tracker{}
	cfg.Tracker = tracker
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, &cfg, h)
	}))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		tracker.Shutdown(ctx)
		srv.Close()
	}()

	before, g0 := settledMem()
	// The clients' process; hangGuard bounds each wait on it below.
	c := testkit.StartChild(tb, idleChildEnv, idleChildConfig{Addr: srv.Listener.Addr().String(), N: n}, 5*hangGuard)
	defer c.Stop()
	c.Expect(tb, "ready", hangGuard)
	deadline := time.Now().Add(hangGuard)
	for tracker.Stats().Open < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d connections open", tracker.Stats().Open, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Past the first keepalive tick, which starts a pump for a handler
	// that is not reading.
	time.Sleep(2 * pumpGrace)
	after, g1 := settledMem()
	if path := os.Getenv("FORGE_IDLE_GOROUTINES"); path != "" {
		f, _ := os.Create(path)
		pprof.Lookup("goroutine").WriteTo(f, 2)
		f.Close()
	}
	if path := os.Getenv("FORGE_IDLE_HEAP_PROFILE"); path != "" {
		writeHeapProfile(tb, path)
	}
	if echoes {
		c.Send(tb, "echo")
		if got, want := c.Expect(tb, "echoed", hangGuard), "echoed "+strconv.Itoa(n); got != want {
			tb.Fatalf("client process said %q, want %q", got, want)
		}
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return idleFootprint{
		heap:       per(after.HeapInuse, before.HeapInuse),
		stack:      per(after.StackInuse, before.StackInuse),
		total:      per(after.HeapInuse+after.StackInuse, before.HeapInuse+before.StackInuse),
		goroutines: float64(g1-g0) / float64(n),
	}
}

// writeHeapProfile writes the heap profile of this moment to path, for
// go tool pprof -sample_index=inuse_space.
func writeHeapProfile(tb testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}

// settledMem collects garbage until the live heap stops shrinking and
// returns the memory statistics and the goroutine count.
func settledMem() (runtime.MemStats, int) {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m, runtime.NumGoroutine()
}

// idleEcho is the handler of the idle benchmarks: an echo loop, as in
// examples/bench, blocked in Read while the peer is idle.
func idleEcho(c *Conn) error {
	return testkit.Echo(c)
}

// idleBenchConns is how many idle connections BenchmarkIdle opens; the
// environment variable FORGE_IDLE_CONNS changes it.
func idleBenchConns() int {
	if n, err := strconv.Atoi(os.Getenv("FORGE_IDLE_CONNS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// BenchmarkIdle measures what an idle connection costs the server with the
// default settings: bytes of live heap and of goroutine stack, and
// goroutines, per connection, with a handler that reads (an echo loop) and
// one that only waits for the connection's end, and an echo that hands its
// reads to Listen. Run it once:
//
//	go test -run '^$' -bench Idle -benchtime 1x ./connection
//
// FORGE_IDLE_CONNS sets the number of connections (default 5,000);
// FORGE_IDLE_HEAP_PROFILE=path writes a heap profile while they are idle
// (add -memprofilerate 1 for every object), FORGE_IDLE_GOROUTINES=path
// the stacks of every goroutine.
func BenchmarkIdle(b *testing.B) {
	handlers := []struct {
		name   string
		h      func(*Conn) error
		echoes bool
	}{
		{"reading", idleEcho, true},
		{"waiting", func(c *Conn) error { <-c.Context().Done(); return nil }, false},
		{"listening", listenEcho, true},
	}
	for _, tc := range handlers {
		b.Run(tc.name, func(b *testing.B) {
			var f idleFootprint
			for b.Loop() {
				f = measureIdle(b, idleBenchConns(), Config{}, tc.h, tc.echoes)
			}
			b.ReportMetric(f.heap, "heap-B/conn")
			b.ReportMetric(f.stack, "stack-B/conn")
			b.ReportMetric(f.total, "B/conn")
			b.ReportMetric(f.goroutines, "goroutines/conn")
		})
	}
}

// TestIdleFootprint holds idle connections with the default settings and
// checks what each costs the server: one goroutine, memory within a budget
// that a read buffer held while idle (4 KiB) would break, and a goroutine
// still on the 2 KiB of stack it started with, for a handler that reads
// and for one that waits. The stack is checked where stackChecked says.
func TestIdleFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process of 500 clients")
	}
	for _, tc := range []struct {
		name   string
		h      func(*Conn) error
		echoes bool
	}{
		{"reading", idleEcho, true},
		{"waiting", func(c *Conn) error { <-c.Context().Done(); return nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := measureIdle(t, 500, Config{}, tc.h, tc.echoes)
			t.Logf("per idle connection: %.0f B of heap, %.0f B of stack, %.3f goroutines", f.heap, f.stack, f.goroutines)
			if f.goroutines < 0.99 || f.goroutines > 1.01 {
				t.Errorf("%.3f goroutines per idle connection, want 1", f.goroutines)
			}
			if f.heap > idleHeapBudget {
				t.Errorf("%.0f B of heap per idle connection, want at most %d", f.heap, idleHeapBudget)
			}
			if stackChecked(t) && f.stack > idleStackBudget {
				t.Errorf("%.0f B of stack per idle connection, want at most %d: the connection's goroutine "+
					"grew past the 2 KiB it starts with (see Conn.serve)", f.stack, idleStackBudget)
			}
		})
	}
}

// idleHeapBudget is the heap an idle connection may take in
// TestIdleFootprint, in bytes.
const idleHeapBudget = 4608

// stackChecked reports whether goroutine stacks can be held to a budget in
// this test binary: built without the race detector, whose frames are
// larger, and run with GODEBUG=adaptivestackstart=0, without which the
// runtime starts new goroutines with the average stack of those it last
// scanned (the test's own HTTP goroutines, several KiB) instead of 2 KiB.
// scripts/test.sh runs the idle tests so once besides the -race run.
func stackChecked(t *testing.T) bool {
	if raceEnabled || !strings.Contains(os.Getenv("GODEBUG"), "adaptivestackstart=0") {
		t.Log("stack not checked: needs a build without -race and GODEBUG=adaptivestackstart=0")
		return false
	}
	return true
}

// idleStackBudget is the goroutine stack an idle connection may take in
// TestIdleFootprint and TestIdleStack (router), in bytes: 2 KiB, with room
// for the goroutines whose stack an allocation's slow path grew (a grown
// stack is 4 KiB; 15-25% of them grow, and every one when the connection
// is set up in its goroutine: 4,129-4,391 B per connection then).
const idleStackBudget = 3584

// TestConnSizes keeps the two structures every connection holds within
// their allocation size classes: a field that pushes one past its class
// costs each connection the next class's bytes.
func TestConnSizes(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are kept for 64-bit platforms")
	}
	for _, s := range []struct {
		name       string
		size, most uintptr
	}{
		{"Conn", unsafe.Sizeof(Conn{}), 512},
		{"socketConn", unsafe.Sizeof(socketConn{}), 256},
	} {
		if s.size > s.most {
			t.Errorf("%s is %d bytes, over its size class of %d", s.name, s.size, s.most)
		}
	}
}
