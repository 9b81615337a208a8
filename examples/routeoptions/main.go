// Command routeoptions shows the options a WebSocket route takes: a name,
// summary and tags for the documents, message types, route middleware that
// guards the handshake, and per-route connection settings.
//
//	go run ./examples/routeoptions    # listens on :8080 (or $PORT)
//	websocat -H 'X-API-Key: demo-key' ws://localhost:8080/ws/protected
package main

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/forgekit/forge"
)

// Request is what clients send on /ws/protected.
type Request struct {
	Query string `json:"query"`
}

// Response is what the server answers.
type Response struct {
	User   string `json:"user"`
	Answer string `json:"answer"`
}

type userKey struct{}

// authMiddleware refuses the handshake (401, before any upgrade) without the
// demo API key, and stores the caller's name in the request context, where
// the WebSocket handler finds it.
func authMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "demo-key" {
			w.Header().Set("WWW-Authenticate", `APIKey header="X-API-Key"`)
			http.Error(w, "missing or wrong API key", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, "demo-user")))
	})
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp() *forge.App {
	app := forge.New(forge.WithAppName("routeoptions"))
	r := app.Router()
	r.WebSocket("/ws/protected", func(ctx forge.Context, conn forge.Connection) error {
		user, _ := ctx.Context().Value(userKey{}).(string)
		for {
			var req Request
			if err := conn.ReadJSON(&req); err != nil {
				return err
			}
			if err := conn.WriteJSON(Response{User: user, Answer: "you asked: " + req.Query}); err != nil {
				return err
			}
		}
	},
		forge.WithName("protectedWS"),
		forge.WithSummary("Protected WebSocket"),
		forge.WithDescription("Answers queries from callers that present the demo API key."),
		forge.WithTags("streaming", "auth"),
		forge.WithMiddleware(authMiddleware),
		forge.WithWebSocketMessages(&Request{}, &Response{}),
		forge.WithReadLimit(4<<10),
		forge.WithKeepalive(15*time.Second, 10*time.Second),
		forge.WithOrigins("localhost:*", "127.0.0.1:*"),
	)
	return app
}
