package hub

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

// Rooms of 10,000 members need 10,000 client sockets besides the server's
// 10,000, more than one process may open here (RLIMIT_NOFILE): the clients
// run in a child process, this test binary started again in client mode.

// childEnv, when set in the environment, makes the test binary a client
// process: see runChild.
const childEnv = "FORGE_HUB_TEST_CLIENTS"

// childWait bounds each wait for the clients' process to report.
const childWait = 2 * time.Minute

type childConfig struct {
	URL   string `json:"url"`
	N     int    `json:"n"`     // connections to open
	Batch int    `json:"batch"` // report each time every connection got this many more messages
}

// runChild opens N connections, prints "ready", then reads every message
// on each until one that starts with "end". Messages start with their
// sequence number (%08d), which must count up from 0 on every connection.
// Each time all connections have received another Batch messages it prints
// "batch K". At the end it prints "ok total=T" or "fail ...".
func runChild() int {
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &cfg); err != nil {
		fmt.Println("fail config:", err)
		return 1
	}
	conns := make([]*websocket.Conn, cfg.N)
	var (
		next    atomic.Int64
		dialErr atomic.Value
		wg      sync.WaitGroup
	)
	d := websocket.Dialer{HandshakeTimeout: time.Minute, ReadBufferSize: 512, WriteBufferSize: 512}
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.N || dialErr.Load() != nil {
					return
				}
				c, _, err := d.Dial(cfg.URL, nil)
				if err != nil {
					dialErr.Store(err)
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if err := dialErr.Load(); err != nil {
		fmt.Println("fail dial:", err)
		return 1
	}
	fmt.Println("ready")

	var (
		total, failures atomic.Int64
		mu              sync.Mutex
		batches         = map[int]int{}
	)
	for _, c := range conns {
		wg.Go(func() {
			defer c.Close()
			var buf [256]byte
			want := 0
			for {
				_, r, err := c.NextReader()
				if err != nil {
					failures.Add(1)
					fmt.Println("fail read:", err)
					return
				}
				n, _ := io.ReadFull(r, buf[:])
				msg := buf[:n]
				if strings.HasPrefix(string(msg), "end") {
					break
				}
				seq := -1
				if n >= 8 {
					seq = 0
					for _, c := range msg[:8] {
						if c < '0' || c > '9' {
							seq = -1
							break
						}
						seq = seq*10 + int(c-'0')
					}
				}
				if seq != want {
					if failures.Add(1) == 1 {
						fmt.Printf("fail order: got %.20q, want %d\n", msg, want)
					}
					return
				}
				want++
				if cfg.Batch > 0 && want%cfg.Batch == 0 {
					k := want / cfg.Batch
					mu.Lock()
					batches[k]++
					if batches[k] == cfg.N {
						delete(batches, k)
						fmt.Println("batch", k)
					}
					mu.Unlock()
				}
			}
			total.Add(int64(want))
		})
	}
	wg.Wait()
	if failures.Load() > 0 {
		fmt.Println("fail", failures.Load(), "connections")
		return 1
	}
	fmt.Printf("ok total=%d\n", total.Load())
	return 0
}

// bigRoom serves /ws: every connection joins room "big" and reads.
func bigRoom(tb testing.TB, h *Hub) *forgetest.Server {
	tb.Helper()
	app := testmux.New(tb, router.WithKeepalive(-1, 0))
	app.Mux.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		if err := h.Register(conn); err != nil {
			return err
		}
		if err := h.Join(ctx.Context(), conn.ID(), "big"); err != nil {
			return err
		}
		for {
			if _, err := conn.Read(); err != nil {
				return nil
			}
		}
	})
	return forgetest.Start(tb, app)
}

func seqMessage(seq int, size int) Message {
	b := fmt.Appendf(make([]byte, 0, size), "%08d", seq)
	for len(b) < size {
		b = append(b, '.')
	}
	return Message{Data: b}
}

// TestTenThousandMembers broadcasts to one room of 10,000 members over
// loopback: every member receives every message, in order.
func TestTenThousandMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 20,000 sockets")
	}
	const members, msgs = 10000, 20
	h := newHub(t)
	srv := bigRoom(t, h)
	c := testkit.StartChild(t, childEnv, childConfig{URL: srv.WebSocketURL("/ws"), N: members}, 5*time.Minute)
	c.Expect(t, "ready", childWait)
	testkit.WaitFor(t, "every member to join", func() bool { return h.Count("big") == members })
	for i := range msgs {
		testkit.Must(t, h.Broadcast(bg, "big", seqMessage(i, 64)))
	}
	testkit.Must(t, h.Broadcast(bg, "big", text("end")))
	if got, want := c.Expect(t, "ok", childWait), fmt.Sprintf("ok total=%d", members*msgs); got != want {
		t.Fatalf("clients said %q, want %q", got, want)
	}
	if st := h.Status(); st.Delivered != members*(msgs+1) || st.Dropped != 0 {
		t.Fatalf("Status() = %+v", st)
	}
}

// BenchmarkBroadcast broadcasts 64-byte messages to a room of 1,000 and of
// 10,000 members whose clients (a child process) read and check every
// message. One op is one broadcast; the per-delivery metrics divide by the
// members. ns/delivery is wall time, which includes waiting for the
// clients, who share the machine's cores; server-cpu-ns/delivery is the
// CPU time of this process only (user and system, the writers' socket
// writes included), and allocs/delivery its allocations. At most two batches of 32
// messages are in flight, so queues stay short and nothing is dropped.
func BenchmarkBroadcast(b *testing.B) {
	for _, members := range []int{1000, 10000} {
		b.Run(fmt.Sprint(members), func(b *testing.B) {
			const batch = 32
			h := newHub(b)
			srv := bigRoom(b, h)
			c := testkit.StartChild(b, childEnv, childConfig{URL: srv.WebSocketURL("/ws"), N: members, Batch: batch}, 5*time.Minute)
			c.Expect(b, "ready", childWait)
			testkit.WaitFor(b, "every member to join", func() bool { return h.Count("big") == members })

			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpuBefore := processCPU()
			seq := 0
			for b.Loop() {
				if err := h.Broadcast(bg, "big", seqMessage(seq, 64)); err != nil {
					b.Fatal(err)
				}
				seq++
				if seq%batch == 0 && seq >= 2*batch {
					c.Expect(b, fmt.Sprint("batch ", seq/batch-1), childWait)
				}
			}
			elapsed := b.Elapsed()
			cpu := processCPU() - cpuBefore
			runtime.ReadMemStats(&after)
			deliveries := float64(seq) * float64(members)
			b.ReportMetric(float64(elapsed.Nanoseconds())/deliveries, "ns/delivery")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/deliveries, "server-cpu-ns/delivery")
			}
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/deliveries, "allocs/delivery")
			b.StopTimer()
			if err := h.Broadcast(bg, "big", text("end")); err != nil {
				b.Fatal(err)
			}
			for {
				if l := c.Expect(b, "", childWait); strings.HasPrefix(l, "ok") {
					if want := fmt.Sprintf("ok total=%d", seq*members); l != want {
						b.Fatalf("clients said %q, want %q", l, want)
					}
					break
				} else if !strings.HasPrefix(l, "batch") {
					b.Fatalf("clients said %q", l)
				}
			}
			if st := h.Status(); st.Dropped != 0 {
				b.Fatalf("Status() = %+v", st)
			}
		})
	}
}
