package main

import (
	"encoding/json"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type envelope struct {
	Event   string          `json:"event"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type client struct{ *forgetest.Conn }

func (c client) send(event, id string, payload any) {
	p, _ := json.Marshal(payload)
	c.SendJSON(envelope{Event: event, ID: id, Payload: p})
}

func (c client) next(t *testing.T, event, id string, v any) {
	t.Helper()
	var e envelope
	c.ReadJSON(&e)
	if e.Event != event || e.ID != id {
		t.Fatalf("got %s %q %s, want %s %q", e.Event, e.ID, e.Payload, event, id)
	}
	if v != nil {
		if err := json.Unmarshal(e.Payload, v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestController(t *testing.T) {
	srv := forgetest.Start(t, newApp("token"))
	// ann only wants messages; bob wants everything and speaks v2.chat.
	ann := client{srv.Dial(t, "/chat?user=ann&events=message", nil)}
	bob := client{srv.Dial(t, "/chat?user=bob", nil, "v2.chat")}
	if bob.Subprotocol() != "v2.chat" {
		t.Fatalf("subprotocol %q", bob.Subprotocol())
	}

	ann.send("join", "1", RoomPayload{Room: "lobby"})
	ann.next(t, "join.ack", "1", nil)
	bob.send("join", "2", RoomPayload{Room: "lobby"})
	// bob's join notice reaches bob (everyone in the room) before the
	// acknowledgement, but not ann, who did not subscribe to join notices.
	var n Notice
	bob.next(t, "join", "", &n)
	if n.User != "bob" {
		t.Fatalf("notice %+v", n)
	}
	bob.next(t, "join.ack", "2", nil)

	// v1 MESSAGE acknowledges with an empty payload, v2 with a number.
	ann.send("message", "3", MessagePayload{Room: "lobby", Text: "hello"})
	var s Said
	ann.next(t, "message", "", &s)
	ann.next(t, "message.ack", "3", nil)
	bob.next(t, "message", "", &s)
	if s.User != "ann" || s.Text != "hello" {
		t.Fatalf("said %+v", s)
	}
	bob.send("message", "4", MessagePayload{Room: "lobby", Text: "hi"})
	bob.next(t, "message", "", nil)
	var num Numbered
	bob.next(t, "message.ack", "4", &num)
	if num.Seq != 1 {
		t.Fatalf("v2 ack %+v", num)
	}
	ann.next(t, "message", "", nil)

	// SEND moderates in the background.
	// The acknowledgement and the broadcast from the background race.
	ann.send("send", "5", MessagePayload{Room: "lobby", Text: "darn it"})
	for range 2 {
		var e envelope
		ann.ReadJSON(&e)
		switch {
		case e.Event == "send.ack" && e.ID == "5":
		case e.Event == "message":
			json.Unmarshal(e.Payload, &s)
			if s.Text != "**** it" {
				t.Fatalf("moderated %+v", s)
			}
		default:
			t.Fatalf("got %+v", e)
		}
	}
	bob.next(t, "message", "", nil)

	// ann now wants join notices too.
	ann.send("subscribe", "6", map[string][]string{"events": {"join"}})
	ann.next(t, "subscribe.ack", "6", nil)
	cy := client{srv.Dial(t, "/chat?user=cy", nil)}
	cy.send("join", "7", RoomPayload{Room: "lobby"})
	cy.next(t, "join", "", nil)
	cy.next(t, "join.ack", "7", nil)
	ann.next(t, "join", "", &n)
	if n.User != "cy" {
		t.Fatalf("notice %+v", n)
	}
	bob.next(t, "join", "", nil)

	// Validation, the room check and admin authorization.
	var e struct{ Code, Message string }
	cy.send("message", "8", MessagePayload{Room: "lobby"})
	cy.next(t, "error", "8", &e)
	if e.Code != "invalid_payload" {
		t.Fatalf("error %+v", e)
	}
	cy.send("message", "9", MessagePayload{Room: "garden", Text: "x"})
	cy.next(t, "error", "9", &e)
	if e.Code != "not_in_room" {
		t.Fatalf("error %+v", e)
	}
	cy.send("admin.kick", "10", KickPayload{User: "bob"})
	cy.next(t, "error", "10", &e)
	if e.Code != "forbidden" {
		t.Fatalf("error %+v", e)
	}
	admin := client{srv.Dial(t, "/chat?user=root&token=token", nil)}
	admin.send("admin.kick", "11", KickPayload{User: "bob"})
	admin.next(t, "admin.kick.ack", "11", nil)
	bob.next(t, "kicked", "", nil)
	// bob is out of the room: he no longer hears it.
	ann.send("message", "12", MessagePayload{Room: "lobby", Text: "bye bob"})
	ann.next(t, "message", "", nil)
	ann.next(t, "message.ack", "12", nil)
	bob.send("leave", "13", RoomPayload{Room: "nowhere"})
	bob.next(t, "leave.ack", "13", nil)
}
