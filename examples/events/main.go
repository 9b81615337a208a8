// Command events serves a chat the way controller frameworks do: a struct
// whose methods are named after the events they handle (MESSAGE, JOIN,
// LEAVE, SEND), registered with events.Controller.
//
// Clients choose the server events they receive with ?events=a,b (absent
// or * for all) and change the list with the built-in subscribe and
// unsubscribe events. Connections that negotiate the v2.chat subprotocol
// get a MESSAGE handler of their own, which acknowledges with the
// message's number. SEND moderates the text in a goroutine of the
// connection (GoSafe), under a deadline of its own, and
// broadcasts it afterwards. The admin.kick event (a controller with the
// prefix "admin") needs the admin token (?token=); it tells the kicked user
// and takes its connections out of every room.
//
//	go run ./examples/events          # listens on :8080 (or $PORT)
//	websocat 'ws://localhost:8080/chat?user=ann&events=message,join'
//	{"event":"join","payload":{"room":"lobby"}}
//	{"event":"message","id":"1","payload":{"room":"lobby","text":"hi"}}
package main

import (
	"context"
	"errors"
	"log"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
)

// RoomPayload names a room.
type RoomPayload struct {
	Room string `json:"room" required:"true" minLength:"1" maxLength:"64"`
}

// MessagePayload is something said in a room.
type MessagePayload struct {
	Room string `json:"room" required:"true" minLength:"1" maxLength:"64"`
	Text string `json:"text" required:"true" minLength:"1" maxLength:"2000"`
}

// Said is a message as the room hears it.
type Said struct {
	Room string `json:"room"`
	User string `json:"user"`
	Text string `json:"text"`
}

// Notice tells a room that someone joined or left.
type Notice struct {
	Room string `json:"room"`
	User string `json:"user"`
}

// Numbered acknowledges a message on v2.chat.
type Numbered struct {
	Seq uint64 `json:"seq"`
}

// KickPayload names the user to kick.
type KickPayload struct {
	User string `json:"user" required:"true" minLength:"1"`
}

// ChatService holds what the handlers share.
type ChatService struct {
	rooms *hub.Hub
	d     *events.Dispatcher
	seq   atomic.Uint64
	bad   []string // words moderation replaces
}

// Broadcast sends what a connection said to its room.
func (s *ChatService) Broadcast(ctx *events.Context, room, text string) error {
	if !inRoom(ctx, room) {
		return events.NewError("not_in_room", "join "+room+" first")
	}
	return ctx.Broadcast(room, "message", Said{Room: room, User: ctx.Route().Query("user"), Text: text})
}

// Moderate replaces bad words; it stands for slower work (a remote
// service) that honours its context.
func (s *ChatService) Moderate(ctx context.Context, text string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for _, w := range s.bad {
		text = strings.ReplaceAll(text, w, strings.Repeat("*", len(w)))
	}
	return text, nil
}

func inRoom(ctx *events.Context, room string) bool {
	for _, r := range ctx.Rooms() {
		if r == room {
			return true
		}
	}
	return false
}

// ChatController handles the chat's events.
type ChatController struct {
	*ChatService
}

// MESSAGE handles "message".
func (c *ChatController) MESSAGE(ctx *events.Context, m MessagePayload) error {
	return c.Broadcast(ctx, m.Room, m.Text)
}

// JOIN handles "join".
func (c *ChatController) JOIN(ctx *events.Context, p RoomPayload) error {
	if err := ctx.Join(p.Room); err != nil {
		return err
	}
	return ctx.Broadcast(p.Room, "join", Notice{Room: p.Room, User: ctx.Route().Query("user")})
}

// LEAVE handles "leave".
func (c *ChatController) LEAVE(ctx *events.Context, p RoomPayload) error {
	if err := ctx.Leave(p.Room); err != nil {
		return err
	}
	return ctx.Broadcast(p.Room, "leave", Notice{Room: p.Room, User: ctx.Route().Query("user")})
}

// SEND handles "send": the text is moderated in the background, and the
// message acknowledged at once.
func (c *ChatController) SEND(ctx *events.Context, m MessagePayload) error {
	if !inRoom(ctx, m.Room) {
		return events.NewError("not_in_room", "join "+m.Room+" first")
	}
	ctx.GoSafe(ctx.ConnContext(), func(conn context.Context) {
		// The work gets 5 seconds, and stops early if the connection ends.
		work, cancel := context.WithTimeout(conn, 5*time.Second)
		defer cancel()
		text, err := c.Moderate(work, m.Text)
		if err != nil {
			ctx.Logger().Warn("moderation failed", "error", err)
			return
		}
		c.Broadcast(ctx, m.Room, text)
	})
	return nil
}

// ChatV2Controller handles the events whose v2.chat version differs.
type ChatV2Controller struct {
	*ChatService
}

// MESSAGE handles "message" on v2.chat, numbering every message.
func (c *ChatV2Controller) MESSAGE(ctx *events.Context, m MessagePayload) (Numbered, error) {
	if err := c.Broadcast(ctx, m.Room, m.Text); err != nil {
		return Numbered{}, err
	}
	return Numbered{Seq: c.seq.Add(1)}, nil
}

// AdminController handles admin.* events.
type AdminController struct {
	*ChatService
}

// KICK handles "admin.kick": the user is told, and its connections leave
// every room.
func (c *AdminController) KICK(ctx *events.Context, p KickPayload) error {
	for _, m := range c.rooms.Connections() {
		if m.Meta["user"] != p.User {
			continue
		}
		if err := c.d.EmitTo(m.ID, "kicked", Notice{User: p.User}); err != nil {
			return err
		}
		for _, room := range m.Rooms {
			if err := c.rooms.Leave(ctx.Context(), m.ID, room); err != nil {
				return err
			}
		}
	}
	return nil
}

func main() {
	if err := newApp("secret").Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp(adminToken string) *forge.App {
	app := forge.New(forge.WithAppName("events"), forge.WithVersion("1.0.0"))
	rooms, err := hub.New()
	if err != nil {
		panic(err)
	}
	d := events.New(events.WithHub(rooms),
		events.WithMeta(func(ctx *events.Context) map[string]string {
			return map[string]string{"user": ctx.Route().Query("user")}
		}),
		events.WithTimeout(10*time.Second))
	svc := &ChatService{rooms: rooms, d: d, bad: []string{"darn"}}

	events.Emits[Said](d, "message", events.WithSummary("Someone said something in a room."))
	events.Emits[Notice](d, "join", events.WithSummary("Someone joined a room."))
	events.Emits[Notice](d, "leave", events.WithSummary("Someone left a room."))
	events.Emits[Notice](d, "kicked", events.WithSummary("An admin kicked you out."))
	events.Controller(d, "", &ChatController{svc})
	events.Controller(d, "", &ChatV2Controller{svc}, events.WithSubprotocol("v2.chat"))
	events.Controller(d, "admin", &AdminController{svc}, events.WithMiddleware(events.Authorize(func(ctx *events.Context) error {
		if ctx.Route().Query("token") != adminToken {
			return errors.New("admin events need the admin token")
		}
		return nil
	})))

	events.Route(app.Router(), "/chat", d, forge.WithSummary("Chat with controllers"), forge.WithTags("chat"),
		forge.WithSubprotocols("v1.chat", "v2.chat"))
	return app
}
