// Command info answers each WebSocket connection with what the server knows
// about it, then closes it normally.
//
//	go run ./examples/info            # listens on :8080 (or $PORT)
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
	app := forge.New(forge.WithAppName("info"))
	r := app.Router()
	r.WebSocket("/ws/info", func(ctx forge.Context, conn forge.Connection) error {
		info := map[string]string{
			"connectionId": conn.ID(),         // "ws_" + 26 random characters
			"remoteAddr":   conn.RemoteAddr(), // the client's address
			"localAddr":    conn.LocalAddr(),  // the server's address
			"subprotocol":  conn.Subprotocol(),
		}
		return conn.WriteJSON(info)
	}, forge.WithSubprotocols("info.v1"))
	return app
}
