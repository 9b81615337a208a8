// Command channels is a socket service in the command style: clients send
// {"channel": ..., "cmd": ..., "param": ...} messages, one handler switches
// on the command, and the service writes to one connection, a channel or
// everyone, from handlers and from REST routes alike. A connection to
// /socket?ch=NAME&user=ann is in channel NAME (a fresh one without ch).
//
//	go run ./examples/channels        # listens on :8080 (or $PORT)
//	websocat 'ws://localhost:8080/socket?ch=lobby&user=ann'
//	{"channel":"lobby","cmd":"chat","param":{"text":"hi"}}
//
// Status and listings:
//
//	GET  /status                              hub and dispatcher counters
//	GET  /connections                         every connection, with its channels
//	GET  /channels/{channel}/connections      the connections in a channel
//	POST /channels/{channel}/messages         {"text": ...} to a channel
//	POST /connections/{id}/messages           {"text": ...} to one connection
//	POST /messages                            {"text": ...} to everyone
package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
)

// Pong answers ping.
type Pong struct {
	Timestamp int64 `json:"timestamp" description:"Server time, in milliseconds since the Unix epoch."`
}

// Chat is a chat line as a channel hears it.
type Chat struct {
	User string `json:"user"`
	Text string `json:"text"`
	Time int64  `json:"time" description:"Milliseconds since the Unix epoch."`
}

// Notice is a message from the service itself (the REST routes).
type Notice struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"2000"`
}

// Status is what GET /status answers.
type Status struct {
	Hub    hub.Status   `json:"hub"`
	Events events.Stats `json:"events"`
}

// Handler handles every command of the socket.
type Handler struct{}

// On handles one command; cmd names it and param is its parameter, raw.
func (Handler) On(c *events.Context, cmd string, param []byte) error {
	switch cmd {
	case "ping":
		return c.Emit("pong", Pong{Timestamp: time.Now().UnixMilli()})
	case "chat":
		var msg struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(param, &msg); err != nil || msg.Text == "" {
			return events.NewError(events.CodeInvalidPayload, `chat needs {"text": "..."}`)
		}
		if !inChannel(c, c.Channel()) {
			return events.NewError("not_in_channel", "join "+c.Channel()+" first")
		}
		return c.Broadcast(c.Channel(), "chat", Chat{User: c.Route().Query("user"), Text: msg.Text, Time: time.Now().UnixMilli()})
	case "join-room":
		var data struct {
			Room string `json:"room"`
		}
		if err := json.Unmarshal(param, &data); err != nil || data.Room == "" {
			return events.NewError(events.CodeInvalidPayload, `join-room needs {"room": "..."}`)
		}
		return c.Join(data.Room)
	case "leave-room":
		var data struct {
			Room string `json:"room"`
		}
		if err := json.Unmarshal(param, &data); err != nil {
			return events.NewError(events.CodeInvalidPayload, `leave-room needs {"room": "..."}`)
		}
		return c.Leave(data.Room)
	default:
		c.Logger().Warn("unhandled websocket command", "cmd", cmd)
		return events.NewError(events.CodeUnknownEvent, "unhandled command "+cmd)
	}
}

func inChannel(c *events.Context, channel string) bool {
	for _, r := range c.Rooms() {
		if r == channel {
			return true
		}
	}
	return false
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp() *forge.App {
	app := forge.New(forge.WithAppName("channels"), forge.WithVersion("1.0.0"))
	r := app.Router()
	h, err := hub.New()
	if err != nil {
		panic(err)
	}
	d := events.New(events.WithHub(h), events.WithCommandEnvelope(),
		events.WithMeta(func(c *events.Context) map[string]string {
			return map[string]string{"user": c.Route().Query("user")}
		}),
		events.WithOnConnect(func(c *events.Context) error {
			ch := c.Route().Query("ch")
			if ch == "" {
				ch = "example-" + rand.Text()[:8]
			}
			return c.Join(ch)
		}))
	events.Emits[Pong](d, "pong", events.WithSummary("The answer to ping."))
	events.Emits[Chat](d, "chat", events.WithSummary("A chat line in a channel."))
	events.Emits[Notice](d, "notice", events.WithSummary("A message from the service."))
	events.OnAny(d, Handler{}.On,
		events.WithSummary("A command: ping, chat {text}, join-room {room} or leave-room {room}."))
	events.Route(r, "/socket", d, forge.WithSummary("Channels socket"), forge.WithTags("socket"))

	r.GET("/status", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, Status{Hub: h.Status(), Events: d.Stats()})
	}, forge.WithSummary("Service status"), forge.WithTags("socket"))
	r.GET("/connections", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, h.Connections())
	}, forge.WithSummary("Every connection"), forge.WithTags("socket"))
	r.GET("/channels/:channel/connections", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, h.ConnectionsIn(ctx.Param("channel")))
	}, forge.WithSummary("The connections in a channel"), forge.WithTags("socket"))

	// Writes from outside the socket: to a channel, a connection, everyone.
	notice := func(ctx forge.Context) (Notice, error) {
		var n Notice
		if err := ctx.Bind(&n); err != nil {
			return n, err
		}
		if n.Text == "" {
			return n, forge.NewHTTPError(http.StatusBadRequest, "text is required")
		}
		return n, nil
	}
	r.POST("/channels/:channel/messages", func(ctx forge.Context) error {
		n, err := notice(ctx)
		if err != nil {
			return err
		}
		if err := d.Broadcast(ctx.Context(), ctx.Param("channel"), "notice", n); err != nil {
			return err
		}
		return ctx.NoContent(http.StatusAccepted)
	}, forge.WithSummary("Write to a channel"), forge.WithTags("socket"))
	r.POST("/connections/:id/messages", func(ctx forge.Context) error {
		n, err := notice(ctx)
		if err != nil {
			return err
		}
		err = d.EmitTo(ctx.Param("id"), "notice", n)
		if errors.Is(err, hub.ErrUnknownConnection) {
			return forge.NewHTTPError(http.StatusNotFound, "no connection "+ctx.Param("id")+" on this node")
		}
		if err != nil {
			return err
		}
		return ctx.NoContent(http.StatusAccepted)
	}, forge.WithSummary("Write to one connection"), forge.WithTags("socket"))
	r.POST("/messages", func(ctx forge.Context) error {
		n, err := notice(ctx)
		if err != nil {
			return err
		}
		if err := d.BroadcastAll(ctx.Context(), "notice", n); err != nil {
			return err
		}
		return ctx.NoContent(http.StatusAccepted)
	}, forge.WithSummary("Write to everyone"), forge.WithTags("socket"))
	return app
}
