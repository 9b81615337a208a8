package router_test

import (
	"reflect"
	"testing"

	"github.com/forgekit/forge/router"
)

type ackPayload struct {
	OK bool `json:"ok"`
}

func TestMessagesAccumulate(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	ack := &router.Message{Name: "ack", Direction: router.ServerToClient, Payload: &ackPayload{}, Event: true}
	g := m.Group("/ws", router.WithMessages(router.Message{Name: "notice", Direction: router.ServerToClient, Payload: &chatOut{}, Event: true}))
	g.WebSocket("/chat", wsNoop,
		router.WithWebSocketMessages(&chatIn{}, nil),
		router.WithMessages(router.Message{Name: "send", Direction: router.ClientToServer, Payload: &chatIn{}, Event: true, Reply: ack}),
	)
	want := []router.Message{
		{Name: "notice", Direction: router.ServerToClient, Payload: &chatOut{}, Event: true},
		{Direction: router.ClientToServer, Payload: &chatIn{}},
		{Name: "send", Direction: router.ClientToServer, Payload: &chatIn{}, Event: true, Reply: ack},
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
		msg  router.Message
		want string
	}{
		{"no direction", router.Message{Name: "x", Payload: &chatIn{}}, "forge: WithMessages: message 0 (\"x\") has no direction"},
		{"no payload", router.Message{Name: "x", Direction: router.ClientToServer}, "forge: WithMessages: message 0 (\"x\") has no payload type"},
		{"unnamed event", router.Message{Direction: router.ClientToServer, Payload: &chatIn{}, Event: true}, "forge: WithMessages: event message 0 needs a name"},
		{"reply same way", router.Message{Name: "x", Direction: router.ClientToServer, Payload: &chatIn{},
			Reply: &router.Message{Direction: router.ClientToServer, Payload: &chatIn{}}}, "forge: WithMessages: the reply to \"x\" must travel the other way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mustPanic(t, tt.want, func() { router.WithMessages(tt.msg) })
		})
	}
	m := newMux(t, router.Config{})
	mustPanic(t, "forge: WithMessages applies to WebSocket routes only", func() {
		m.GET("/x", ok, router.WithMessages(router.Message{Name: "x", Direction: router.ClientToServer, Payload: &chatIn{}}))
	})
}
