// Command clientdemo is a page and two WebSocket routes that use every
// part of forge's browser client (package client, served at /forge.js):
//
//   - /ws/demo speaks the events envelope, with the subprotocol demo.v1
//     (browsers need one the server answers with next to the token's
//     "bearer.<token>" entry, which is never echoed), and requires a token (POST
//     /token hands out demo tokens that expire after ?ttl= seconds, and the
//     route closes with 4401 when they do): echo answers with what it is
//     sent, whoami with the token's subject, fail with an error event, ask
//     sends the client a confirm request and answers with the reply, kick
//     closes the connection with 1008 (or 1003), and join, leave and say
//     use rooms that keep their last 100 messages, so a client that
//     reconnects with ?recover= misses nothing. POST /news pushes a news
//     event to every connection.
//   - /ws/commands speaks the {"channel", "cmd", "param"} envelope of
//     command services: join-room, and chat to the channel.
//
// GET / is a page that shows the client's lifecycle as it happens; GET
// /seed.html is a chat page on /ws/commands.
//
//	go run ./examples/clientdemo      # listens on :8080 (or $PORT)
package main

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
)

// demoSecret signs the demo tokens. A real app reads its key from its
// configuration and never from source.
var demoSecret = []byte("forge clientdemo secret: replace me in real apps!")

//go:embed web
var web embed.FS

// Echo is what echo takes and answers.
type Echo struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"200"`
}

// Who answers whoami.
type Who struct {
	Subject string `json:"subject" required:"true"`
}

// Question is what ask sends on, as the server's confirm request.
type Question struct {
	Text string `json:"text" required:"true" minLength:"1"`
}

// Answer is the client's reply to confirm.
type Answer struct {
	Yes bool `json:"yes" required:"true"`
}

// Kick asks the server to close the connection: with 1008 (policy
// violation), or 1003 (unsupported data) when As is "unsupported".
type Kick struct {
	Reason string `json:"reason" maxLength:"100"`
	As     string `json:"as,omitempty" enum:"policy,unsupported"`
}

// RoomRequest names a room.
type RoomRequest struct {
	Room string `json:"room" required:"true" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$"`
}

// Say is a line for a room the connection is in.
type Say struct {
	Room string `json:"room" required:"true"`
	Text string `json:"text" required:"true" minLength:"1" maxLength:"1000"`
}

// Said is a line as the room hears it.
type Said struct {
	Room string `json:"room" required:"true"`
	User string `json:"user" required:"true"`
	Text string `json:"text" required:"true"`
}

// News is pushed to every connection by POST /news.
type News struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"1000"`
}

// Chat is a chat line of /ws/commands.
type Chat struct {
	User string `json:"user"`
	Text string `json:"text"`
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
	jwtp, err := auth.JWT(auth.JWTConfig{HMACSecret: demoSecret, Issuer: "forge-clientdemo"})
	if err != nil {
		return nil, err
	}
	app := forge.New(forge.WithAppName("clientdemo"), forge.WithVersion("1.0.0"), forge.WithAuthProvider("jwt", jwtp))
	r := app.Router()
	rooms, err := hub.New(hub.WithHistory("*", 100, time.Hour))
	if err != nil {
		return nil, err
	}

	d := events.New(events.WithHub(rooms))
	confirm := events.Requests[Question, Answer](d, "confirm", events.WithSummary("Asks the client to confirm; the client answers with {yes}."))
	events.Emits[Said](d, "said", events.WithSummary("A line said in a room you are in."))
	events.Emits[News](d, "news", events.WithSummary("News for every connection."))
	events.OnRequest(d, "echo", func(_ *events.Context, e Echo) (Echo, error) { return e, nil },
		events.WithSummary("Answers with what it is sent."))
	events.OnRequest(d, "whoami", func(c *events.Context, _ struct{}) (Who, error) {
		p, _ := forge.PrincipalFrom(c.Context())
		return Who{Subject: p.Subject}, nil
	}, events.WithSummary("The subject of the connection's token."))
	events.OnRequest(d, "fail", func(*events.Context, struct{}) (struct{}, error) {
		return struct{}{}, events.NewError("nope", "fail always fails")
	}, events.WithSummary("Always answered with an error event."))
	events.OnRequest(d, "ask", func(c *events.Context, q Question) (Answer, error) {
		return confirm.Do(c.Context(), c, q)
	}, events.WithSummary("Sends the client a confirm request and answers with its reply."))
	events.On(d, "kick", func(_ *events.Context, k Kick) error {
		code := forge.ClosePolicyViolation
		if k.As == "unsupported" {
			code = connection.CloseUnsupportedData
		}
		return &forge.CloseError{Code: code, Reason: k.Reason}
	}, events.WithSummary("Closes the connection with the reason given: 1008, or 1003 when as is unsupported."))
	events.OnRequest(d, "join", func(c *events.Context, req RoomRequest) (struct{}, error) {
		return struct{}{}, c.Join(req.Room)
	}, events.WithSummary("Join a room."))
	events.OnRequest(d, "leave", func(c *events.Context, req RoomRequest) (struct{}, error) {
		return struct{}{}, c.Leave(req.Room)
	}, events.WithSummary("Leave a room."))
	events.OnRequest(d, "say", func(c *events.Context, s Say) (struct{}, error) {
		p, _ := forge.PrincipalFrom(c.Context())
		return struct{}{}, c.Broadcast(s.Room, "said", Said{Room: s.Room, User: p.Subject, Text: s.Text})
	}, events.WithSummary("Say something in a room you are in."))
	events.Route(r, "/ws/demo", d, forge.WithSummary("Everything the client does"),
		forge.WithAuth("jwt"), forge.WithAuthExpiry(), forge.WithSubprotocols("demo.v1"))

	cmds, err := hub.New()
	if err != nil {
		return nil, err
	}
	cd := events.New(events.WithHub(cmds), events.WithCommandEnvelope())
	events.Emits[Chat](cd, "chat", events.WithSummary("A chat line in a channel."))
	events.OnRequest(cd, "join-room", func(c *events.Context, req RoomRequest) (struct{}, error) {
		return struct{}{}, c.Join(req.Room)
	}, events.WithSummary("Join a channel."))
	events.On(cd, "chat", func(c *events.Context, e Echo) error {
		return c.Broadcast(c.Channel(), "chat", Chat{User: c.Route().Query("user"), Text: e.Text})
	}, events.WithSummary("Say something in the message's channel."))
	events.Route(r, "/ws/commands", cd, forge.WithSummary("Command-style chat"))

	r.POST("/token", func(ctx forge.Context) error {
		user := ctx.Query("user")
		if user == "" {
			return forge.NewHTTPError(http.StatusBadRequest, "user is required")
		}
		ttl := 3600
		if s := ctx.Query("ttl"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 86400 {
				return forge.NewHTTPError(http.StatusBadRequest, "ttl is 1 to 86400 seconds")
			}
			ttl = n
		}
		tok, err := issue(user, time.Duration(ttl)*time.Second)
		if err != nil {
			return err
		}
		return ctx.JSON(http.StatusOK, map[string]string{"token": tok})
	}, forge.WithSummary("Get a demo token"))
	r.POST("/news", func(ctx forge.Context) error {
		var n News
		if err := json.NewDecoder(ctx.Request().Body).Decode(&n); err != nil || n.Text == "" {
			return forge.NewHTTPError(http.StatusBadRequest, `send {"text": "..."}`)
		}
		if err := d.BroadcastAll(ctx.Context(), "news", n); err != nil {
			return err
		}
		return ctx.NoContent(http.StatusNoContent)
	}, forge.WithSummary("Push news to every connection"))

	r.Mount("/forge.js", forge.ClientHandler())
	pages, err := fs.Sub(web, "web")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(pages)
	r.GET("/", func(ctx forge.Context) error {
		files.ServeHTTP(ctx.ResponseWriter(), ctx.Request())
		return nil
	}, forge.WithSummary("The demo page"))
	r.GET("/seed.html", func(ctx forge.Context) error {
		files.ServeHTTP(ctx.ResponseWriter(), ctx.Request())
		return nil
	}, forge.WithSummary("A chat page on /ws/commands"))
	return app, nil
}

// issue signs a demo token for user, valid for ttl.
func issue(user string, ttl time.Duration) (string, error) {
	if user == "" {
		return "", errors.New("no user")
	}
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user,
		"iss": "forge-clientdemo",
		"iat": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}).SignedString(demoSecret)
}
