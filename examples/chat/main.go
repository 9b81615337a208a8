// Command chat is a multi-room chat server built on forge's hub (rooms,
// presence, broadcast that never waits for a slow member) and events
// (typed, validated events with acknowledgements). It is the chat of
// examples/seedchat without a hand-written room: a connection to
// /ws/chat/{room}?user=NAME is in that room; it can join and leave others,
// say something (acknowledged with the message's time), and show that it
// is typing; the room's members are told who comes and goes.
//
//	go run ./examples/chat            # listens on :8080 (or $PORT)
//	websocat 'ws://localhost:8080/ws/chat/lobby?user=ann'
//	{"event":"message","id":"1","payload":{"text":"hello"}}
//
// GET /rooms lists the rooms and GET /rooms/{room}/members who is in one.
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
)

// SendMessage is what a client says.
type SendMessage struct {
	Room string `json:"room,omitempty" description:"A room the connection is in; the room of the URL when empty."`
	Text string `json:"text" required:"true" minLength:"1" maxLength:"1000"`
}

// Sent acknowledges a message.
type Sent struct {
	Room string `json:"room"`
	Time string `json:"time" format:"date-time"`
}

// ChatMessage is what the other members of the room receive.
type ChatMessage struct {
	Room string `json:"room"`
	User string `json:"user"`
	Text string `json:"text"`
	Time string `json:"time" format:"date-time"`
}

// Typing says whether a client is typing, in a room it is in.
type Typing struct {
	Room   string `json:"room,omitempty" description:"The room of the URL when empty."`
	Typing bool   `json:"typing"`
}

// TypingNotice tells a room's members who is typing.
type TypingNotice struct {
	Room   string `json:"room"`
	User   string `json:"user"`
	Typing bool   `json:"typing"`
}

// RoomRequest names a room to join or leave.
type RoomRequest struct {
	Room string `json:"room" required:"true" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$"`
}

// RoomState answers a join: who is in the room now.
type RoomState struct {
	Room  string   `json:"room"`
	Users []string `json:"users"`
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp() *forge.App {
	app := forge.New(forge.WithAppName("chat"), forge.WithVersion("1.0.0"))
	r := app.Router()
	rooms, err := hub.New(hub.WithPresence("presence"))
	if err != nil {
		panic(err) // no broker: New cannot fail
	}

	d := events.New(
		events.WithHub(rooms),
		events.WithMeta(func(c *events.Context) map[string]string { return map[string]string{"user": user(c)} }),
		events.WithOnConnect(func(c *events.Context) error { return c.Join(c.Param("room")) }),
	)
	events.Emits[ChatMessage](d, "message", events.WithSummary("Someone said something in a room you are in."))
	events.Emits[TypingNotice](d, "typing", events.WithSummary("Someone started or stopped typing."))

	events.OnRequest(d, "message", func(c *events.Context, m SendMessage) (Sent, error) {
		room, err := roomOf(c, m.Room)
		if err != nil {
			return Sent{}, err
		}
		now := time.Now().UTC().Format(time.RFC3339Nano)
		msg := ChatMessage{Room: room, User: user(c), Text: m.Text, Time: now}
		if err := c.Broadcast(room, "message", msg, c.ConnID()); err != nil {
			return Sent{}, err
		}
		return Sent{Room: room, Time: now}, nil
	}, events.WithSummary("Say something in a room."), events.WithMiddleware(events.RateLimit(20, 40)))

	events.On(d, "typing", func(c *events.Context, t Typing) error {
		room, err := roomOf(c, t.Room)
		if err != nil {
			return err
		}
		return c.Broadcast(room, "typing", TypingNotice{Room: room, User: user(c), Typing: t.Typing}, c.ConnID())
	}, events.WithSummary("Start or stop typing."), events.WithMiddleware(events.RateLimit(10, 20)))

	events.OnRequest(d, "join", func(c *events.Context, req RoomRequest) (RoomState, error) {
		if err := c.Join(req.Room); err != nil {
			return RoomState{}, err
		}
		state := RoomState{Room: req.Room, Users: []string{}}
		for _, m := range rooms.ConnectionsIn(req.Room) {
			state.Users = append(state.Users, m.Meta["user"])
		}
		return state, nil
	}, events.WithSummary("Join another room."))

	events.On(d, "leave", func(c *events.Context, req RoomRequest) error {
		return c.Leave(req.Room)
	}, events.WithSummary("Leave a room."))

	events.Route(r, "/ws/chat/:room", d, forge.WithSummary("Chat room"), forge.WithTags("chat"))

	r.GET("/rooms", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, rooms.Rooms())
	}, forge.WithSummary("List the rooms and how many are in each"), forge.WithTags("chat"))
	r.GET("/rooms/:room/members", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, rooms.ConnectionsIn(ctx.Param("room")))
	}, forge.WithSummary("List the members of a room"), forge.WithTags("chat"))
	return app
}

// roomOf returns the room a message is for: the one named, which the
// connection must be in, or the room of its URL.
func roomOf(c *events.Context, room string) (string, error) {
	if room == "" {
		room = c.Param("room")
	}
	for _, r := range c.Rooms() {
		if r == room {
			return room, nil
		}
	}
	return "", events.NewError("not_in_room", "join "+room+" first")
}

// user is the connection's user name, from ?user=.
func user(c *events.Context) string {
	if u := c.Query("user"); u != "" {
		return u
	}
	return "anonymous"
}
