package events

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/swaggest/jsonschema-go"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

// chatController is a controller: a struct whose methods are named after
// events.
type chatController struct {
	hub *hub.Hub
}

type said struct {
	Text string `json:"text"`
	From string `json:"from"`
}

func (cc *chatController) MESSAGE(c *Context, m chatMessage) error {
	return c.Broadcast("room", "said", said{Text: m.Text, From: c.Route().Query("user")})
}

func (cc *chatController) JOIN(c *Context, r joinRequest) (joinReply, error) {
	if err := c.Join(r.Room); err != nil {
		return joinReply{}, err
	}
	return joinReply{Room: r.Room, Members: cc.hub.Count(r.Room)}, nil
}

func (cc *chatController) LEAVE(c *Context) error { return c.Leave("room") }

// Not handlers: mixed case, or no *Context.
func (cc *chatController) Helper(c *Context) error { return nil }
func (cc *chatController) URL(n int) string        { return fmt.Sprint(n) }

func TestController(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	d := New(quiet(), WithHub(h))
	Emits[said](d, "said")
	Controller(d, "chat", &chatController{hub: h})
	srv := serve(t, d)
	ann, bob := dial(t, srv, "/ws?user=ann"), dial(t, srv, "/ws?user=bob")
	ann.SendEvent("chat.join", "1", joinRequest{Room: "room"})
	ann.expect("chat.join.ack", "1")
	bob.SendEvent("chat.join", "2", joinRequest{Room: "room"})
	if p := bob.expect("chat.join.ack", "2"); string(p) != `{"room":"room","members":2}` {
		t.Fatalf("join reply %s", p)
	}
	ann.SendEvent("chat.message", "", chatMessage{Text: "hi"})
	for _, c := range []*client{ann, bob} {
		if p := c.expect("said", ""); string(p) != `{"text":"hi","from":"ann"}` {
			t.Fatalf("said %s", p)
		}
	}
	bob.SendEvent("chat.leave", "3", nil)
	bob.expect("chat.leave.ack", "3")
	ann.SendEvent("chat.message", "4", chatMessage{Text: "alone"})
	ann.expect("said", "")
	ann.expect("chat.message.ack", "4")
	bob.SendEvent("chat.helper", "5", nil)
	bob.expectError("5", CodeUnknownEvent)

	var names []string
	for _, m := range d.Messages() {
		names = append(names, m.Name)
	}
	for _, want := range []string{"chat.message", "chat.join", "chat.leave"} {
		if !slices.Contains(names, want) {
			t.Errorf("messages %v lack %q", names, want)
		}
	}
}

type badArgs struct{}

func (badArgs) JOIN(c *Context, a, b int) error { return nil }

type badResults struct{}

func (badResults) JOIN(c *Context) int { return 0 }

type noHandlers struct{}

func (noHandlers) Join(c *Context) error { return nil }

// TestCommandEnvelope serves the {"channel", "cmd", "param"} format with
// one function switching on the command, as command services do, plus a
// typed handler.
func TestCommandEnvelope(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	d := New(quiet(), WithHub(h), WithCommandEnvelope(),
		WithOnConnect(func(c *Context) error { return c.Join(c.Route().Query("ch")) }))
	Emits[map[string]any](d, "pong")
	Emits[map[string]any](d, "chat")
	OnAny(d, func(c *Context, cmd string, param []byte) error {
		switch cmd {
		case "ping":
			return c.Emit("pong", map[string]any{"ok": true})
		case "chat":
			var m map[string]any
			if err := json.Unmarshal(param, &m); err != nil {
				return NewError(CodeInvalidPayload, "param must be an object")
			}
			return c.Broadcast(c.Channel(), "chat", m)
		}
		return NewError(CodeUnknownEvent, "unhandled command "+cmd)
	})
	OnRequest(d, "join-room", func(c *Context, r joinRequest) (joinReply, error) {
		return joinReply{Room: r.Room, Members: h.Count(r.Room)}, c.Join(r.Room)
	})
	srv := serve(t, d)
	a := dial(t, srv, "/ws?ch=c1")
	b := dial(t, srv, "/ws?ch=c1")
	testkit.WaitFor(t, "two members", func() bool { return h.Count("c1") == 2 })

	a.SendText(`{"channel":"c1","cmd":"ping","param":{}}`)
	if got := a.ReadText(); got != `{"channel":"c1","cmd":"pong","param":{"ok":true}}` {
		t.Fatalf("pong %s", got)
	}
	a.SendText(`{"channel":"c1","cmd":"chat","param":{"text":"hi"}}`)
	for _, c := range []*client{a, b} {
		if got := c.ReadText(); got != `{"channel":"c1","cmd":"chat","param":{"text":"hi"}}` {
			t.Fatalf("chat %s", got)
		}
	}
	a.SendText(`{"channel":"c1","cmd":"dance","id":"9"}`)
	if got := a.ReadText(); got != `{"channel":"c1","cmd":"error","id":"9","param":{"code":"unknown_event","message":"unhandled command dance"}}` {
		t.Fatalf("error %s", got)
	}
	a.SendText(`{"channel":"c1","cmd":"join-room","id":"j","param":{"room":"other"}}`)
	if got := a.ReadText(); got != `{"channel":"c1","cmd":"join-room.ack","id":"j","param":{"room":"other","members":0}}` {
		t.Fatalf("reply %s", got)
	}
	a.SendText(`{"event":"ping"}`)
	if got := a.ReadText(); !strings.Contains(got, `"cmd":"error"`) || !strings.Contains(got, `no cmd`) {
		t.Fatalf("error %s", got)
	}

	// The documents get one struct per message, describing the whole
	// command with its cmd fixed.
	var join apidoc.Message
	for _, m := range d.Messages() {
		if m.Name == "join-room" {
			join = m
		}
	}
	if join.Envelope != nil || join.Reply == nil || join.Reply.Name != "join-room.ack" {
		t.Fatalf("join-room declared as %+v", join)
	}
	var r jsonschema.Reflector
	s, err := r.Reflect(join.Payload, jsonschema.InlineRefs)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(s)
	for _, want := range []string{`"cmd":{"const":"join-room","type":"string"}`, `"param":`, `"pattern":"^[a-z]+$"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("schema %s lacks %s", doc, want)
		}
	}
}

func TestRouteDeclaresEveryMessage(t *testing.T) {
	t.Parallel()
	h := newHub(t, hub.WithPresence("presence"))
	d := New(quiet(), WithHub(h))
	On(d, "message", func(c *Context, m chatMessage) error { return nil }, WithSummary("Say something"))
	OnRequest(d, "join", func(c *Context, r joinRequest) (joinReply, error) { return joinReply{}, nil })
	On(d, "v2thing", func(c *Context, _ struct{}) error { return nil }, WithSubprotocol("v2.chat"))
	Emits[said](d, "said", WithDescription("What someone said."))
	Requests[question, answer](d, "confirm")

	app := testmux.New(t)
	Route(app.Mux, "/ws/chat", d, router.WithSummary("Chat"))
	routes := app.Mux.Routes()
	if len(routes) != 1 || !routes[0].WebSocket || !slices.Equal(routes[0].Subprotocols, []string{"v2.chat"}) {
		t.Fatalf("routes %+v", routes)
	}
	type decl struct {
		name, reply string
		dir         apidoc.Direction
		payload     any
	}
	var got []decl
	for _, m := range routes[0].Messages {
		if m.Envelope == nil {
			t.Errorf("message %q is not declared in the event envelope", m.Name)
		}
		r := ""
		if m.Reply != nil {
			r = m.Reply.Name
			if m.Reply.Direction == m.Direction || m.Reply.Envelope == nil {
				t.Errorf("reply of %q: %+v", m.Name, m.Reply)
			}
		}
		got = append(got, decl{m.Name, r, m.Direction, m.Payload})
	}
	want := []decl{
		{"error", "", apidoc.ServerToClient, &Error{}},
		{"subscribe", "subscribe.ack", apidoc.ClientToServer, &Subscription{}},
		{"unsubscribe", "unsubscribe.ack", apidoc.ClientToServer, &Subscription{}},
		{"presence", "", apidoc.ServerToClient, &hub.Presence{}},
		{"message", "message.ack", apidoc.ClientToServer, &chatMessage{}},
		{"join", "join.ack", apidoc.ClientToServer, &joinRequest{}},
		{"v2thing", "v2thing.ack", apidoc.ClientToServer, &struct{}{}},
		{"said", "", apidoc.ServerToClient, &said{}},
		{"confirm", "confirm.ack", apidoc.ServerToClient, &question{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("declared\n%+v\nwant\n%+v", got, want)
	}
	for _, m := range routes[0].Messages {
		switch m.Name {
		case "message":
			if m.Summary != "Say something" {
				t.Errorf("summary %q", m.Summary)
			}
		case "join":
			if _, ok := m.Reply.Payload.(*joinReply); !ok {
				t.Errorf("join's reply payload %T", m.Reply.Payload)
			}
		case "v2thing":
			if !strings.Contains(m.Summary, "subprotocol v2.chat") {
				t.Errorf("summary %q", m.Summary)
			}
		case "said":
			if m.Description != "What someone said." {
				t.Errorf("description %q", m.Description)
			}
		}
	}

	testkit.MustPanic(t, "forge: ", "after Route", func() { On(d, "late", func(*Context, struct{}) error { return nil }) })
	testkit.MustPanic(t, "forge: ", "after Route", func() { Emits[said](d, "late") })
}

func TestRegistrationMistakes(t *testing.T) {
	t.Parallel()
	noop := func(*Context, struct{}) error { return nil }
	h := newHub(t, hub.WithPresence("presence"))
	tests := []struct {
		name string
		want string
		fn   func(d *Dispatcher)
	}{
		{"reserved error", "reserved for error events", func(d *Dispatcher) { On(d, "error", noop) }},
		{"reserved suffix", "reserved for replies", func(d *Dispatcher) { On(d, "x.ack", noop) }},
		{"bad name", "must be 1 to 128", func(d *Dispatcher) { On(d, "a b", noop) }},
		{"empty name", "must be 1 to 128", func(d *Dispatcher) { On(d, "", noop) }},
		{"built-in", "has a handler already", func(d *Dispatcher) { On(d, "subscribe", noop) }},
		{"twice", "has a handler already", func(d *Dispatcher) { On(d, "x", noop); On(d, "x", noop) }},
		{"twice per subprotocol", "for subprotocol \"p\" already", func(d *Dispatcher) {
			On(d, "x", noop, WithSubprotocol("p"))
			On(d, "x", noop, WithSubprotocol("p"))
		}},
		{"nil handler", "nil handler", func(d *Dispatcher) { On[struct{}](d, "x", nil) }},
		{"emitted twice", "declared already", func(d *Dispatcher) { Emits[said](d, "x"); Emits[said](d, "x") }},
		{"emits error", "reserved for error events", func(d *Dispatcher) { Emits[said](d, "error") }},
		{"emits with a timeout", "only WithSummary, WithDescription and WithTransient", func(d *Dispatcher) {
			Emits[said](d, "x", WithTimeout(1))
		}},
		{"meta without hub", "WithMeta needs WithHub", func(*Dispatcher) {
			New(WithMeta(func(*Context) map[string]string { return nil }))
		}},
		{"presence in commands", "presence messages use the event envelope", func(*Dispatcher) {
			New(WithHub(h), WithCommandEnvelope())
		}},
		{"unschemable payload", "reflect a JSON schema", func(d *Dispatcher) {
			On(d, "x", func(*Context, chan int) error { return nil })
		}},
		{"controller arguments", "at most one payload", func(d *Dispatcher) { Controller(d, "", badArgs{}) }},
		{"controller results", "returns an error", func(d *Dispatcher) { Controller(d, "", badResults{}) }},
		{"controller without handlers", "no handler methods", func(d *Dispatcher) { Controller(d, "", noHandlers{}) }},
		{"nil option", "nil Option", func(*Dispatcher) { New(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := New(quiet())
			testkit.MustPanic(t, "forge: ", tt.want, func() { tt.fn(d) })
		})
	}
}
