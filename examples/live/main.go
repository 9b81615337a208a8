// Command live pushes a heartbeat every few seconds from a goroutine tied to
// the connection's context, while the handler reads: the context ends when
// the connection does, so the goroutine never outlives it.
//
//	go run ./examples/live            # listens on :8080 (or $PORT)
package main

import (
	"log"
	"sync"
	"time"

	"github.com/forgekit/forge"
)

func main() {
	if err := newApp(5 * time.Second).Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp(every time.Duration) *forge.App {
	app := forge.New(forge.WithAppName("live"))
	r := app.Router()
	r.WebSocket("/ws/live", func(ctx forge.Context, conn forge.Connection) error {
		defer conn.Close()
		var wg sync.WaitGroup
		defer wg.Wait() // the sender is gone before the handler returns
		wg.Go(func() {
			ticker := time.NewTicker(every)
			defer ticker.Stop()
			for {
				select {
				case <-conn.Context().Done():
					return
				case t := <-ticker.C:
					conn.WriteJSON(map[string]string{
						"type": "heartbeat",
						"time": t.Format(time.RFC3339),
					})
				}
			}
		})
		for {
			if _, err := conn.Read(); err != nil {
				return nil // connection closed
			}
		}
	})
	return app
}
