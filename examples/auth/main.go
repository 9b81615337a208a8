// Command auth protects REST and WebSocket routes with a JWT provider and an
// API key provider. POST /login hands out demo tokens; GET / is a page that
// connects to the WebSocket route from a browser, passing the token as a
// Sec-WebSocket-Protocol entry "bearer.<token>" (browsers cannot set
// Authorization on a WebSocket). The API key travels the same way, as
// "apikey.<key>", which is how the /docs console sends it.
//
//	go run ./examples/auth            # listens on :8080 (or $PORT)
//	curl -s -XPOST localhost:8080/login -H 'Content-Type: application/json' -d '{"user":"ann"}'
//	curl -H 'X-API-Key: demo-key' localhost:8080/me
//	websocat -H 'X-API-Key: demo-key' --protocol notes.v1 ws://localhost:8080/ws/notes
package main

import (
	_ "embed"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
)

// demoSecret signs the demo tokens. A real app reads its key from its
// configuration and never from source.
var demoSecret = []byte("forge demo secret: replace me in real apps!")

//go:embed index.html
var page []byte

// Note is what clients and server exchange on /ws/notes.
type Note struct {
	Text string `json:"text"`
	By   string `json:"by,omitempty"`
}

type loginRequest struct {
	User string `json:"user"`
}

func main() {
	app, err := newApp()
	if err != nil {
		log.Fatal(err)
	}
	if err := app.Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp() (*forge.App, error) {
	jwtp, err := auth.JWT(auth.JWTConfig{HMACSecret: demoSecret, Issuer: "forge-auth-example"})
	if err != nil {
		return nil, err
	}
	keys := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{
		"demo-key": {Subject: "demo-robot", Scopes: []string{"notes"}},
	})
	app := forge.New(
		forge.WithAppName("auth-example"),
		forge.WithAuthProvider("jwt", jwtp),
		forge.WithAuthProvider("apikey", keys),
	)
	r := app.Router()

	r.GET("/", func(ctx forge.Context) error {
		w := ctx.ResponseWriter()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := w.Write(page)
		return err
	}, forge.WithSummary("Demo page"))

	r.POST("/login", func(ctx forge.Context) error {
		var in loginRequest
		if err := ctx.Bind(&in); err != nil {
			return err
		}
		if in.User == "" {
			return forge.NewHTTPError(http.StatusBadRequest, "user is required")
		}
		tok, err := issue(in.User, time.Hour)
		if err != nil {
			return err
		}
		return ctx.JSON(http.StatusOK, map[string]string{"token": tok})
	}, forge.WithSummary("Get a demo token"))

	r.GET("/me", func(ctx forge.Context) error {
		p, _ := forge.PrincipalFrom(ctx.Context())
		return ctx.JSON(http.StatusOK, map[string]any{"subject": p.Subject, "scopes": p.Scopes, "provider": p.Provider})
	}, forge.WithSummary("Who am I"), forge.WithAuth("jwt", "apikey"))

	r.WebSocket("/ws/notes", func(ctx forge.Context, conn forge.Connection) error {
		p, _ := forge.PrincipalFrom(conn.Context())
		for {
			var n Note
			if err := conn.ReadJSON(&n); err != nil {
				return err
			}
			n.By = p.Subject
			if err := conn.WriteJSON(n); err != nil {
				return err
			}
		}
	},
		forge.WithSummary("Notes, signed by the caller"),
		forge.WithAuth("jwt", "apikey"),
		forge.WithScopes("notes"),
		forge.WithSubprotocols("notes.v1"),
		forge.WithWebSocketMessages(&Note{}, &Note{}),
	)
	return app, nil
}

// issue signs a demo token for user, valid for ttl.
func issue(user string, ttl time.Duration) (string, error) {
	if user == "" {
		return "", errors.New("no user")
	}
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub":   user,
		"iss":   "forge-auth-example",
		"iat":   now.Unix(),
		"exp":   now.Add(ttl).Unix(),
		"scope": "notes",
	}).SignedString(demoSecret)
}
