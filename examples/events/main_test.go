package main

import (
	"encoding/json"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestController(t *testing.T) {
	srv := forgetest.Start(t, newApp("token"))
	// ann only wants messages; bob wants everything and speaks v2.chat.
	ann := srv.Dial(t, "/chat?user=ann&events=message", nil)
	bob := srv.Dial(t, "/chat?user=bob", nil, "v2.chat")
	if bob.Subprotocol() != "v2.chat" {
		t.Fatalf("subprotocol %q", bob.Subprotocol())
	}

	ann.SendEvent("join", "1", RoomPayload{Room: "lobby"})
	ann.ExpectEvent("join.ack", "1", nil)
	bob.SendEvent("join", "2", RoomPayload{Room: "lobby"})
	// bob's join notice reaches bob (everyone in the room) before the
	// acknowledgement, but not ann, who did not subscribe to join notices.
	var n Notice
	bob.ExpectEvent("join", "", &n)
	if n.User != "bob" {
		t.Fatalf("notice %+v", n)
	}
	bob.ExpectEvent("join.ack", "2", nil)

	// v1 MESSAGE acknowledges with an empty payload, v2 with a number.
	ann.SendEvent("message", "3", MessagePayload{Room: "lobby", Text: "hello"})
	var s Said
	ann.ExpectEvent("message", "", &s)
	ann.ExpectEvent("message.ack", "3", nil)
	bob.ExpectEvent("message", "", &s)
	if s.User != "ann" || s.Text != "hello" {
		t.Fatalf("said %+v", s)
	}
	bob.SendEvent("message", "4", MessagePayload{Room: "lobby", Text: "hi"})
	bob.ExpectEvent("message", "", nil)
	var num Numbered
	bob.ExpectEvent("message.ack", "4", &num)
	if num.Seq != 1 {
		t.Fatalf("v2 ack %+v", num)
	}
	ann.ExpectEvent("message", "", nil)

	// SEND moderates in the background.
	// The acknowledgement and the broadcast from the background race.
	ann.SendEvent("send", "5", MessagePayload{Room: "lobby", Text: "darn it"})
	for range 2 {
		var e forgetest.Event
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
	bob.ExpectEvent("message", "", nil)

	// ann now wants join notices too.
	ann.SendEvent("subscribe", "6", map[string][]string{"events": {"join"}})
	ann.ExpectEvent("subscribe.ack", "6", nil)
	cy := srv.Dial(t, "/chat?user=cy", nil)
	cy.SendEvent("join", "7", RoomPayload{Room: "lobby"})
	cy.ExpectEvent("join", "", nil)
	cy.ExpectEvent("join.ack", "7", nil)
	ann.ExpectEvent("join", "", &n)
	if n.User != "cy" {
		t.Fatalf("notice %+v", n)
	}
	bob.ExpectEvent("join", "", nil)

	// Validation, the room check and admin authorization.
	var e struct{ Code, Message string }
	cy.SendEvent("message", "8", MessagePayload{Room: "lobby"})
	cy.ExpectEvent("error", "8", &e)
	if e.Code != "invalid_payload" {
		t.Fatalf("error %+v", e)
	}
	cy.SendEvent("message", "9", MessagePayload{Room: "garden", Text: "x"})
	cy.ExpectEvent("error", "9", &e)
	if e.Code != "not_in_room" {
		t.Fatalf("error %+v", e)
	}
	cy.SendEvent("admin.kick", "10", KickPayload{User: "bob"})
	cy.ExpectEvent("error", "10", &e)
	if e.Code != "forbidden" {
		t.Fatalf("error %+v", e)
	}
	admin := srv.Dial(t, "/chat?user=root&token=token", nil)
	admin.SendEvent("admin.kick", "11", KickPayload{User: "bob"})
	admin.ExpectEvent("admin.kick.ack", "11", nil)
	bob.ExpectEvent("kicked", "", nil)
	// bob is out of the room: he no longer hears it.
	ann.SendEvent("message", "12", MessagePayload{Room: "lobby", Text: "bye bob"})
	ann.ExpectEvent("message", "", nil)
	ann.ExpectEvent("message.ack", "12", nil)
	bob.SendEvent("leave", "13", RoomPayload{Room: "nowhere"})
	bob.ExpectEvent("leave.ack", "13", nil)
}
