package router_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/swaggest/jsonschema-go"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

// envelope stands for a wire form around payloads, such as package
// events' envelope; the router only tells messages in one apart.
type envelope struct{}

func (envelope) Schema(_ string, payload *jsonschema.Schema, _ bool) *jsonschema.Schema {
	return payload
}
func (envelope) Example(_ string, payload any) any { return payload }
func (envelope) CorrelationID() string             { return "" }

type ackPayload struct {
	OK bool `json:"ok"`
}

func TestMessagesAccumulate(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	ack := &apidoc.Message{Name: "ack", Direction: apidoc.ServerToClient, Payload: &ackPayload{}, Envelope: envelope{}}
	g := m.Group("/ws", router.WithMessages(apidoc.Message{Name: "notice", Direction: apidoc.ServerToClient, Payload: &chatOut{}, Envelope: envelope{}}))
	g.WebSocket("/chat", wsNoop,
		router.WithWebSocketMessages(&chatIn{}, nil),
		router.WithMessages(apidoc.Message{Name: "send", Direction: apidoc.ClientToServer, Payload: &chatIn{}, Envelope: envelope{}, Reply: ack}),
	)
	want := []apidoc.Message{
		{Name: "notice", Direction: apidoc.ServerToClient, Payload: &chatOut{}, Envelope: envelope{}},
		{Direction: apidoc.ClientToServer, Payload: &chatIn{}},
		{Name: "send", Direction: apidoc.ClientToServer, Payload: &chatIn{}, Envelope: envelope{}, Reply: ack},
	}
	routes := m.Routes()
	if len(routes) != 1 || !reflect.DeepEqual(routes[0].Messages, want) {
		t.Fatalf("messages %+v, want %+v", routes, want)
	}
}

func TestWithMessagesRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  apidoc.Message
		want string
	}{
		{"no direction", apidoc.Message{Name: "x", Payload: &chatIn{}}, "forge: WithMessages: message 0 (\"x\") has no direction"},
		{"no payload", apidoc.Message{Name: "x", Direction: apidoc.ClientToServer}, "forge: WithMessages: message 0 (\"x\") has no payload type"},
		{"unnamed in an envelope", apidoc.Message{Direction: apidoc.ClientToServer, Payload: &chatIn{}, Envelope: envelope{}}, "forge: WithMessages: message 0 is in an envelope and needs a name"},
		{"reply same way", apidoc.Message{Name: "x", Direction: apidoc.ClientToServer, Payload: &chatIn{},
			Reply: &apidoc.Message{Direction: apidoc.ClientToServer, Payload: &chatIn{}}}, "forge: WithMessages: the reply to \"x\" must travel the other way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testkit.MustPanic(t, "forge: ", tt.want, func() { router.WithMessages(tt.msg) })
		})
	}
}

// say carries the constraints a route publishes for what clients send.
type say struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"200"`
}

// TestDeclaredMessageEnforced: a route that declares exactly one message
// clients send, and not in an envelope, gets what its documents publish about it
// enforced by ReadJSON; with more than one, or an event, ReadJSON does not
// guess. A refused message is a *connection.DecodeError that the handler
// may answer, and returned it closes with 1007 "invalid message".
func TestDeclaredMessageEnforced(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	answer := func(ctx router.Context, conn connection.Connection) error {
		for {
			var m say
			err := conn.ReadJSON(&m)
			if de := (*connection.DecodeError)(nil); errors.As(err, &de) {
				conn.Write([]byte("refused"))
				continue
			}
			if err != nil {
				return err
			}
			conn.Write([]byte("accepted"))
		}
	}
	m.WebSocket("/declared", answer, router.WithWebSocketMessages(&say{}, &chatOut{}))
	m.WebSocket("/by-value", answer, router.WithMessages(apidoc.Message{Direction: apidoc.ClientToServer, Payload: say{}}))
	m.WebSocket("/two", answer, router.WithMessages(
		apidoc.Message{Name: "say", Direction: apidoc.ClientToServer, Payload: &say{}},
		apidoc.Message{Name: "other", Direction: apidoc.ClientToServer, Payload: &chatIn{}},
	))
	m.WebSocket("/event", answer, router.WithMessages(apidoc.Message{Name: "say", Direction: apidoc.ClientToServer, Payload: &say{}, Envelope: envelope{}}))
	m.WebSocket("/returns", func(ctx router.Context, conn connection.Connection) error {
		var m say
		return conn.ReadJSON(&m)
	}, router.WithWebSocketMessages(&say{}, nil))
	url := startServer(t, m, &tracker)

	tests := []struct {
		path, want string
	}{
		{"/declared", "refused"},
		{"/by-value", "refused"},
		{"/two", "accepted"},
		{"/event", "accepted"},
	}
	for _, tt := range tests {
		c := testkit.Dial(t, url+tt.path, nil)
		c.WriteMessage(websocket.TextMessage, []byte(`{"text":""}`))
		if got := readText(t, c); got != tt.want {
			t.Errorf("%s: {\"text\":\"\"} %s, want %s", tt.path, got, tt.want)
		}
		c.WriteMessage(websocket.TextMessage, []byte(`{"text":"hi"}`))
		if got := readText(t, c); got != "accepted" {
			t.Errorf("%s: {\"text\":\"hi\"} %s, want accepted", tt.path, got)
		}
	}

	c := testkit.Dial(t, url+"/returns", nil)
	c.WriteMessage(websocket.TextMessage, []byte(`{"text":""}`))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1007 || ce.Text != "invalid message" {
		t.Fatalf("returned the error: %v, want close 1007 \"invalid message\"", err)
	}
}

// TestDeclaredMessageSchemaChecked: a client type whose schema cannot be
// compiled fails at registration, not at the first message.
func TestDeclaredMessageSchemaChecked(t *testing.T) {
	t.Parallel()
	type bad struct {
		Code string `json:"code" pattern:"(["`
	}
	m := newMux(t, router.Config{})
	testkit.MustPanic(t, "forge: ", "the message clients send: compile the JSON schema of router_test.bad", func() {
		m.WebSocket("/ws", wsNoop, router.WithWebSocketMessages(&bad{}, nil))
	})
}
