package connection

import (
	"errors"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// say is a message type with the constraints a route publishes.
type say struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"200"`
}

// TestReadJSONEnforcesInbound: ReadJSON into the declared inbound type
// refuses a message that breaks the type's schema with a *DecodeError and
// keeps the connection; other targets are not validated.
func TestReadJSONEnforcesInbound(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Inbound: &say{}}, func(c *Conn) error {
		for {
			var m say
			err := c.ReadJSON(&m)
			var de *DecodeError
			switch {
			case errors.As(err, &de):
				c.WriteJSON(map[string]string{"refused": err.Error()})
				continue
			case err != nil:
				return err
			}
			if err := c.WriteJSON(m); err != nil {
				return err
			}
			var other map[string]any // not the declared type: not validated
			if err := c.ReadJSON(&other); err != nil {
				return err
			}
			if err := c.WriteJSON(other); err != nil {
				return err
			}
		}
	})
	ws := dial(t, s, nil)
	exchange := func(send, want string) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(send)); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), want) {
			t.Fatalf("sent %s, got %s, want %s", send, got, want)
		}
	}
	exchange(`{"text":""}`, `message/text: minLength: got 0, want 1`)
	exchange(`{}`, `missing property 'text'`)
	exchange(`{"text":"`+strings.Repeat("a", 201)+`"}`, `maxLength: got 201, want 200`)
	exchange(`{"text":`, `unexpected end of JSON input`) // syntax: encoding/json says so
	exchange(`{"text":"hi"}`, `{"text":"hi"}`)
	exchange(`{"text":""}`, `{"text":""}`) // read into a map
}

// TestInvalidMessageCloses1007: a handler that returns ReadJSON's error
// for a message that breaks the declared schema closes the connection with
// 1007 and the reason "invalid message".
func TestInvalidMessageCloses1007(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Inbound: &say{}}, func(c *Conn) error {
		var m say
		return c.ReadJSON(&m)
	})
	ws := dial(t, s, nil)
	ws.WriteMessage(websocket.TextMessage, []byte(`{"text":""}`))
	if code, reason := readClose(t, ws); code != 1007 || reason != "invalid message" {
		t.Fatalf("close %d %q, want 1007 \"invalid message\"", code, reason)
	}
}

// TestListenJSONEnforcesInbound: ListenJSON hands fn the messages that
// decode into the declared inbound type, validated like ReadJSON's, and
// closes with 1007 at the first that does not.
func TestListenJSONEnforcesInbound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bad, reason string
	}{
		{`{"text":""}`, "invalid message"},
		{`{"text":`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{Inbound: &say{}}, func(c *Conn) error {
				return ListenJSON(c, func(m *say) error { return c.WriteJSON(m) })
			})
			ws := dial(t, s, nil)
			for _, m := range []string{`{"text":"one"}`, `{"text":"two"}`} {
				ws.WriteMessage(websocket.TextMessage, []byte(m))
				if _, got, err := ws.ReadMessage(); err != nil || string(got) != m {
					t.Fatalf("sent %s, got %s, %v", m, got, err)
				}
			}
			ws.WriteMessage(websocket.TextMessage, []byte(tt.bad))
			if code, reason := readClose(t, ws); code != 1007 || reason != tt.reason {
				t.Fatalf("close %d %q, want 1007 %q", code, reason, tt.reason)
			}
		})
	}
}
