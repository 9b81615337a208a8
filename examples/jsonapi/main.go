// Command jsonapi exchanges JSON messages: each client message is answered
// with a typed server message. A message that is not valid JSON gets an error
// message back and the connection stays open.
//
//	go run ./examples/jsonapi         # listens on :8080 (or $PORT)
package main

import (
	"errors"
	"log"
	"strings"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/connection"
)

// ClientMessage is what clients send.
type ClientMessage struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

// ServerMessage is what the server answers.
type ServerMessage struct {
	Type      string `json:"type"`
	Data      any    `json:"data"`
	Timestamp int64  `json:"timestamp"`
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}

// processMessage is the application's logic: here it upper-cases text
// payloads and echoes anything else.
func processMessage(msg ClientMessage) any {
	if s, ok := msg.Payload.(string); ok {
		return strings.ToUpper(s)
	}
	return msg.Payload
}

func newApp() *forge.App {
	app := forge.New(forge.WithAppName("jsonapi"))
	r := app.Router()
	r.WebSocket("/ws/api", func(ctx forge.Context, conn forge.Connection) error {
		defer conn.Close()
		for {
			var msg ClientMessage
			err := conn.ReadJSON(&msg)
			var bad *connection.DecodeError
			switch {
			case errors.As(err, &bad):
				// Not JSON, or not this shape: say so and carry on.
				if err := conn.WriteJSON(ServerMessage{Type: "error", Data: bad.Error(), Timestamp: time.Now().Unix()}); err != nil {
					return err
				}
				continue
			case err != nil:
				return err
			}
			response := ServerMessage{
				Type:      "response",
				Data:      processMessage(msg),
				Timestamp: time.Now().Unix(),
			}
			if err := conn.WriteJSON(response); err != nil {
				return err
			}
		}
	}, forge.WithWebSocketMessages(&ClientMessage{}, &ServerMessage{}))
	return app
}
