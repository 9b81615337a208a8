// Command bench is the server that bench/run-suite.sh and
// scripts/bench-compare.sh measure forge with, beside its peers. It
// serves /echo (every message comes back), /room (a hub room: every message
// goes to every member, sender included, encoded once and offered to each
// member without waiting) and GET /stats ({"goroutines":N,"dropped":D}).
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

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/hub"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19500", "listen address")
	flag.Parse()
	if err := newApp(*addr).Run(); err != nil {
		log.Fatal(err)
	}
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
	// /room is one hub room: a message is encoded once and offered to every
	// member without waiting; a member whose queue is full gets the
	// route's slow-consumer policy, counted.
	rooms, err := hub.New()
	if err != nil {
		panic(err) // no broker: New cannot fail
	}
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
			// Read returns a fresh slice, which the hub may keep.
			rooms.Broadcast(ctx.Context(), "room", hub.Message{Data: msg})
		}
	})
	r.GET("/stats", func(ctx forge.Context) error {
		st := app.Stats()
		return ctx.JSON(200, map[string]any{
			"goroutines":     runtime.NumGoroutine(),
			"dropped":        st.Dropped + st.SlowConsumers,
			"slow_consumers": st.SlowConsumers,
			"open":           st.Open,
			"room_members":   rooms.Count("room"),
		})
	})
	return app
}
