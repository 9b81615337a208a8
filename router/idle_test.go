package router_test

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

// TestIdleStack holds idle connections of a route whose handler reads and
// checks that each connection's goroutine waits on the 2 KiB of stack it
// started with (see connection.Conn's serve): the router's frames between
// the connection and the handler must leave the read path room. The
// clients are plain sockets that did a handshake, so that the stacks
// counted are the server's.
//
// It needs a build without the race detector (whose frames are larger)
// and GODEBUG=adaptivestackstart=0 (else the runtime starts goroutines
// with the average stack of those it last scanned); scripts/test.sh runs
// it so.
func TestIdleStack(t *testing.T) {
	if raceEnabled || !strings.Contains(os.Getenv("GODEBUG"), "adaptivestackstart=0") {
		t.Skip("needs a build without -race and GODEBUG=adaptivestackstart=0")
	}
	const n = 300
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	m.WebSocket("/ws/:room", func(ctx router.Context, conn connection.Connection) error {
		return testkit.Echo(conn)
	})
	addr := strings.TrimPrefix(startServer(t, m, &tracker), "ws://")

	before := settledStack()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/ws/lobby", nil)
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		req.Header.Set("Sec-WebSocket-Version", "13")
		if err := req.Write(c); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake answered %s", resp.Status)
		}
	}
	testkit.WaitFor(t, "every connection open", func() bool { return tracker.Stats().Open == n })
	time.Sleep(100 * time.Millisecond) // the handlers reach their Read
	per := (float64(settledStack()) - float64(before)) / n
	t.Logf("%.0f B of stack per idle connection", per)
	// 2 KiB, with room for the goroutines whose stack an allocation's
	// slow path grew; a grown stack is 4 KiB (see connection's
	// idleStackBudget).
	if per > 3584 {
		t.Errorf("%.0f B of stack per idle connection, want at most 3584: the connection's goroutine "+
			"grew past the 2 KiB it starts with", per)
	}
}

// settledStack collects garbage (freeing the stacks of goroutines that
// ended) and returns the bytes of goroutine stacks in use.
func settledStack() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.StackInuse
}
