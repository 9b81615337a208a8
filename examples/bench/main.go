// Command bench is the server that ../shared/bench measures forge with. It
// serves /echo (every message comes back), /room (every message goes to every
// member, sender included, encoded once and offered to each member without
// waiting) and GET /stats ({"goroutines":N,"dropped":D}).
//
//	go build -o /tmp/forge-bench ./examples/bench
//	/tmp/forge-bench -addr 127.0.0.1:19500
package main

import (
	"flag"
	"log"
	"log/slog"
	"os"
	"runtime"
	"sync"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/connection"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19500", "listen address")
	flag.Parse()
	if err := newApp(*addr).Run(); err != nil {
		log.Fatal(err)
	}
}

// room is the broadcast group of /room.
type room struct {
	mu      sync.RWMutex
	members map[forge.Connection]struct{} // guarded by mu
}

func (rm *room) join(c forge.Connection) {
	rm.mu.Lock()
	rm.members[c] = struct{}{}
	rm.mu.Unlock()
}

func (rm *room) leave(c forge.Connection) {
	rm.mu.Lock()
	delete(rm.members, c)
	rm.mu.Unlock()
}

func (rm *room) size() int {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return len(rm.members)
}

// broadcast offers pm to every member; Offer never waits, and a member
// whose queue is full is handled by its slow-consumer policy (counted).
func (rm *room) broadcast(pm *connection.PreparedMessage) {
	rm.mu.RLock()
	for c := range rm.members {
		c.Offer(pm)
	}
	rm.mu.RUnlock()
}

func newApp(addr string) *forge.App {
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
	rm := &room{members: make(map[forge.Connection]struct{})}
	r.WebSocket("/room", func(_ forge.Context, conn forge.Connection) error {
		rm.join(conn)
		defer rm.leave(conn)
		for {
			msg, err := conn.Read()
			if err != nil {
				return err
			}
			pm, err := connection.NewPreparedMessage(connection.TextMessage, msg)
			if err != nil {
				return err
			}
			rm.broadcast(pm)
		}
	})
	r.GET("/stats", func(ctx forge.Context) error {
		st := app.Stats()
		return ctx.JSON(200, map[string]any{
			"goroutines":     runtime.NumGoroutine(),
			"dropped":        st.Dropped + st.SlowConsumers,
			"slow_consumers": st.SlowConsumers,
			"open":           st.Open,
			"room_members":   rm.size(),
		})
	})
	return app
}
