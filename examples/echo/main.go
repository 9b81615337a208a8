// Command echo sends every WebSocket message back to its sender: the
// smallest forge WebSocket route.
//
//	go run ./examples/echo            # listens on :8080 (or $PORT)
package main

import (
	"log"

	"github.com/forgekit/forge"
)

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp() *forge.App {
	app := forge.New(forge.WithAppName("echo"))
	r := app.Router()
	r.WebSocket("/ws/echo", func(ctx forge.Context, conn forge.Connection) error {
		defer conn.Close()
		for {
			msg, err := conn.Read()
			if err != nil {
				return err // the connection closed, or failed
			}
			if err := conn.Write(msg); err != nil {
				return err
			}
		}
	})
	return app
}
