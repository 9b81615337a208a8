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
// GET /chat/ is the chat's page, built on forge's browser client (served
// at /forge.js) and checked against the TypeScript types that
// forge-client-gen writes from the chat's AsyncAPI document
// (web/chat-api.d.ts). GET /rooms lists the rooms and GET /rooms/{room}/members the user names
// of who is in one. A room name is 1 to 64 letters, digits, "_" or "-",
// in a URL as in join and leave; any other is refused with 422 before
// anything else happens.
//
// Prometheus scrapes /metrics. The inspector, at /admin, lists the
// connections and rooms and taps their traffic; this example has no auth,
// so it serves the inspector to loopback clients only (a deployment gives
// forge.AdminAuth instead).
package main

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
)

// roomName is the rule for room names that the room tags below spell out
// for validation and the documents: 1 to 64 of these characters.
var roomName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// RoomPath is a room named in a URL path.
type RoomPath struct {
	Room string `path:"room" description:"The room's name: 1 to 64 letters, digits, _ or -. Any other is refused with 422, before a WebSocket upgrade." minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" example:"lobby"`
}

// Handshake documents the request that opens /ws/chat/{room}: the room it
// joins and the user's name.
type Handshake struct {
	RoomPath
	User string `query:"user" description:"The name the others see; anonymous when empty." example:"ann"`
}

// Members lists who is in a room.
type Members struct {
	Room  string   `json:"room" required:"true"`
	Users []string `json:"users" required:"true" nullable:"false" description:"The user names of the room's connections, sorted; a user connected twice is listed twice."`
}

// SendMessage is what a client says.
type SendMessage struct {
	Room string `json:"room,omitempty" description:"A room the connection is in; the room of the URL when empty."`
	Text string `json:"text" required:"true" minLength:"1" maxLength:"1000" example:"Hello, room!"`
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
	Room string `json:"room" required:"true" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" example:"garden"`
}

// RoomState answers a join: who is in the room now.
type RoomState struct {
	Room  string   `json:"room"`
	Users []string `json:"users"`
}

// web is the chat page; chat.js imports the client from /forge.js.
//
//go:embed web/index.html web/chat.js
var web embed.FS

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp() *forge.App {
	reg := prometheus.NewRegistry()
	app := forge.New(forge.WithAppName("chat"), forge.WithVersion("1.0.0"),
		forge.WithMetrics(reg), forge.WithAdmin("/admin", forge.AdminInsecureLocalOnly()))
	r := app.Router()
	r.Mount("/metrics", forge.MetricsHandler(reg))
	// Every room keeps its last 100 messages for an hour, so a client that
	// reconnects with ?recover=room:epoch:offset misses nothing.
	rooms, err := hub.New(hub.WithPresence("presence"), hub.WithHistory("*", 100, time.Hour))
	if err != nil {
		panic(err) // no broker: New cannot fail
	}
	app.Inspect(rooms)

	d := events.New(
		events.WithHub(rooms),
		events.WithMeta(func(c *events.Context) map[string]string { return map[string]string{"user": user(c)} }),
		events.WithOnConnect(func(c *events.Context) error { return c.Join(c.Route().Param("room")) }),
	)
	events.Emits[ChatMessage](d, "message", events.WithSummary("Someone said something in a room you are in."))
	events.Emits[TypingNotice](d, "typing", events.WithSummary("Someone started or stopped typing."), events.WithTransient())

	events.OnRequest(d, "message", func(c *events.Context, m SendMessage) (Sent, error) {
		room, err := roomOf(c, m.Room)
		if err != nil {
			return Sent{}, err
		}
		now := time.Now().UTC().Format(time.RFC3339Nano)
		msg := ChatMessage{Room: room, User: user(c), Text: m.Text, Time: now}
		if err := c.Broadcast(room, "message", msg, c.Conn().ID()); err != nil {
			return Sent{}, err
		}
		return Sent{Room: room, Time: now}, nil
	}, events.WithSummary("Say something in a room."), events.WithMiddleware(events.RateLimit(20, 40)))

	events.On(d, "typing", func(c *events.Context, t Typing) error {
		room, err := roomOf(c, t.Room)
		if err != nil {
			return err
		}
		return c.Broadcast(room, "typing", TypingNotice{Room: room, User: user(c), Typing: t.Typing}, c.Conn().ID())
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

	events.Route(r, "/ws/chat/:room", d, forge.WithSummary("Chat room"), forge.WithTags("chat"),
		forge.WithRequest(&Handshake{}), forge.WithMiddleware(checkRoom))

	forge.Get(r, "/rooms", func(forge.Context, struct{}) ([]hub.RoomInfo, error) {
		return rooms.Rooms(), nil
	}, forge.WithSummary("List the rooms and how many are in each"), forge.WithTags("chat"))
	forge.Get(r, "/rooms/:room/members", func(_ forge.Context, in RoomPath) (Members, error) {
		m := Members{Room: in.Room, Users: []string{}}
		for _, c := range rooms.ConnectionsIn(in.Room) {
			m.Users = append(m.Users, c.Meta["user"])
		}
		slices.Sort(m.Users)
		return m, nil
	}, forge.WithSummary("List the user names of a room's members"), forge.WithTags("chat"))

	r.Mount("/forge.js", forge.ClientHandler())
	page, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	r.Mount("/chat", http.StripPrefix("/chat", http.FileServerFS(page)))
	return app
}

// checkRoom refuses a WebSocket handshake for a room whose name breaks
// the rule, with the problem a typed route answers a bad path with.
func checkRoom(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		room := r.PathValue("room") // chi sets the path values
		if !roomName.MatchString(room) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(forge.Problem{
				Type: "about:blank", Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
				Detail: "the request failed validation",
				Errors: []forge.FieldError{{Location: "path.room", Message: "a room name is 1 to 64 letters, digits, _ or -", Value: room}},
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// roomOf returns the room a message is for: the one named, which the
// connection must be in, or the room of its URL.
func roomOf(c *events.Context, room string) (string, error) {
	if room == "" {
		room = c.Route().Param("room")
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
	if u := c.Route().Query("user"); u != "" {
		return u
	}
	return "anonymous"
}
