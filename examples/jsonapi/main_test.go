package main

import (
	"strings"
	"testing"

	"github.com/forgekit/forge/forgetest"
)

func TestJSONAPI(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ws := srv.Dial(t, "/ws/api", nil)

	ws.SendJSON(ClientMessage{Type: "shout", Payload: "hello"})
	var got ServerMessage
	ws.ReadJSON(&got)
	if got.Type != "response" || got.Data != "HELLO" || got.Timestamp == 0 {
		t.Fatalf("got %+v", got)
	}

	ws.SendText(`{"type": "shout", "payload": `) // malformed
	ws.ReadJSON(&got)
	if got.Type != "error" || !strings.Contains(got.Data.(string), "unexpected end of JSON input") {
		t.Fatalf("got %+v, want an error naming the problem", got)
	}

	ws.SendJSON(ClientMessage{Type: "echo", Payload: map[string]any{"n": 1.0}})
	ws.ReadJSON(&got)
	if m, ok := got.Data.(map[string]any); !ok || m["n"] != 1.0 {
		t.Fatalf("after a malformed message the connection must keep working; got %+v", got)
	}
}
