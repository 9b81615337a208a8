// Command bench is the server that bench/run-suite.sh,
// scripts/bench-compare.sh and scripts/bench-cluster.sh measure forge with.
// It serves /echo (every message comes back), /listen (the same echo
// through Connection.Listen, which holds no goroutine per idle
// connection), /events (an event route echoing the event "echo"), /room
// (a hub room: every message goes to every member, sender included,
// encoded once and offered to each member without waiting) and GET /stats ({"goroutines":N,
// "dropped":D, ..., "hub":{...}}, the last the hub's Status).
//
//	go build -o /tmp/forge-bench ./examples/bench
//	/tmp/forge-bench -addr 127.0.0.1:19500
//
// With -broker, several processes are nodes of one cluster: a message sent
// to /room on any node reaches the room's members on every node.
//
//	/tmp/forge-bench -addr 127.0.0.1:19501 -broker redis://127.0.0.1:6379
//	/tmp/forge-bench -addr 127.0.0.1:19502 -broker nats://127.0.0.1:4222
//
// The NATS broker needs JetStream; ./examples/bench/natsd runs such a
// server for the benchmark.
//
// With -history N the room keeps its last N messages (none older than an
// hour), in the broker with one, else in this process
// (hub.WithHistory): every message sent to /room must then be a JSON
// object, and each member receives it with a "position" member inserted
// first. A message that is not an object is not delivered; /stats counts
// it in broadcast_errors.
//
//	/tmp/forge-bench -addr 127.0.0.1:19503 -history 100 -broker nats://127.0.0.1:4222
//
// With -pprof ADDR, net/http/pprof answers on a second loopback listener,
// so that a run under the load generator can be profiled without the
// profiler's routes in the measured server:
//
//	/tmp/forge-bench -addr 127.0.0.1:19500 -pprof 127.0.0.1:19599 &
//	go tool pprof -seconds 20 http://127.0.0.1:19599/debug/pprof/profile
//	go tool pprof -sample_index=inuse_space http://127.0.0.1:19599/debug/pprof/heap
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/examples/internal/brokerurl"
	"github.com/forgekit/forge/hub"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19500", "listen address")
	brokerURL := flag.String("broker", "", "share /room with other nodes: redis://host:port or nats://host:port; empty: no broker")
	history := flag.Int("history", 0, "keep the room's last N messages (its messages must then be JSON objects); 0: no history")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this loopback address; empty: off")
	flag.Parse()
	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr); err != nil {
			log.Fatal(err)
		}
	}
	if err := run(*addr, *brokerURL, *history); err != nil {
		log.Fatal(err)
	}
}

func run(addr, brokerURL string, history int) error {
	var opts []hub.Option
	var counters benchCounters
	if history > 0 {
		opts = append(opts, hub.WithHistory("*", history, time.Hour))
	}
	if brokerURL != "" {
		b, closeClient, err := brokerurl.Dial(brokerURL, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				counters.slowConsumer.Add(1)
			}
		}))
		if err != nil {
			return err
		}
		defer closeClient()
		defer b.Close() // before the client's Close
		opts = append(opts, hub.WithBroker(b))
	}
	app, rooms, err := newApp(addr, &counters, opts...)
	if err != nil {
		return err
	}
	defer rooms.Close() // before the broker's Close
	return app.Run()
}

// servePprof serves net/http/pprof on addr until the process exits. The
// address must be a loopback one: profiles show the process's memory.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-pprof: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-pprof %s: want a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go http.Serve(ln, mux) // ends with the process
	return nil
}

// benchCounters counts what no Status shows. NATS drops a subscription's
// messages when they arrive faster than the hub takes them and says so
// only to the connection's error handler; the hub refuses a message that
// is not a JSON object for a room with history and says so only to the
// caller of Broadcast.
type benchCounters struct {
	slowConsumer   atomic.Uint64
	broadcastError atomic.Uint64
}

func newApp(addr string, counters *benchCounters, opts ...hub.Option) (*forge.App, *hub.Hub, error) {
	// /room is one hub room: a message is encoded once and offered to every
	// member without waiting; a member whose queue is full gets the
	// route's slow-consumer policy, counted.
	rooms, err := hub.New(opts...)
	if err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app := forge.New(forge.WithAppName("forge-bench"), forge.WithAddr(addr), forge.WithLogger(logger))
	r := app.Router()
	r.WebSocket("/echo", func(_ forge.Context, conn forge.Connection) error {
		for {
			msg, err := conn.Read()
			if err != nil {
				return err
			}
			if err := conn.Write(msg); err != nil {
				return err
			}
		}
	})
	// The same echo with its reads handed to Listen: an idle connection
	// then holds no goroutine (see Connection.Listen).
	r.WebSocket("/listen", func(_ forge.Context, conn forge.Connection) error {
		return conn.Listen(func(_ forge.MessageType, msg []byte) error {
			return conn.Write(msg)
		})
	})
	// An event route with the default options: {"event":"echo",
	// "payload":...} comes back as the event "echo" with the same payload.
	// Its connections listen, as every event route's do unless it has
	// events.WithDedicatedReader.
	d := events.New(events.WithLogger(logger))
	events.On(d, "echo", func(c *events.Context, p json.RawMessage) error { return c.Emit("echo", p) })
	events.Emits[json.RawMessage](d, "echo")
	events.Route(r, "/events", d)
	r.WebSocket("/room", func(ctx forge.Context, conn forge.Connection) error {
		if err := rooms.Register(conn); err != nil {
			return err
		}
		if err := rooms.Join(ctx.Context(), conn.ID(), "room"); err != nil {
			return err
		}
		for {
			msg, err := conn.Read()
			if err != nil {
				return err
			}
			// Read returns a fresh slice, which the hub may keep. A broker
			// error is counted in the hub's Status too, shown by /stats.
			if err := rooms.Broadcast(ctx.Context(), "room", hub.Message{Data: msg}); err != nil {
				counters.broadcastError.Add(1)
			}
		}
	})
	r.GET("/stats", func(ctx forge.Context) error {
		st := app.Stats()
		out := map[string]any{
			"goroutines":     runtime.NumGoroutine(),
			"dropped":        st.Dropped + st.SlowConsumers,
			"slow_consumers": st.SlowConsumers,
			"open":           st.Open,
			"room_members":   rooms.Count("room"),
			// hub: published, delivered, dropped, remote (received from
			// other nodes), broker_errors, broker_dropped, broker_down.
			"hub":                rooms.Status(),
			"nats_slow_consumer": counters.slowConsumer.Load(),
			"broadcast_errors":   counters.broadcastError.Load(),
		}
		if ctx.Request().URL.Query().Has("mem") {
			// ?mem: the runtime's memory statistics, read while the world
			// is stopped; not for every call.
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			out["mem"] = map[string]uint64{
				"heap_inuse": m.HeapInuse, "heap_idle": m.HeapIdle, "heap_released": m.HeapReleased,
				"heap_alloc": m.HeapAlloc, "stack_inuse": m.StackInuse, "sys": m.Sys,
				"next_gc": m.NextGC, "num_gc": uint64(m.NumGC),
			}
		}
		return ctx.JSON(200, out)
	})
	return app, rooms, nil
}
