package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type envelope struct {
	Event   string          `json:"event"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// client wraps a test connection with the chat's envelope.
type client struct{ *forgetest.Conn }

func (c client) send(event, id string, payload any) {
	p, _ := json.Marshal(payload)
	c.SendJSON(envelope{Event: event, ID: id, Payload: p})
}

// next reads the next event, which must be event, into v.
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

func TestChat(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ann := client{srv.Dial(t, "/ws/chat/lobby?user=ann", nil)}
	waitMembers(t, srv, "lobby", 1)
	bob := client{srv.Dial(t, "/ws/chat/lobby?user=bob", nil)}

	var p hub.Presence
	ann.next(t, "presence", "", &p)
	if p.Action != hub.Joined || p.Room != "lobby" || p.Meta["user"] != "bob" {
		t.Fatalf("presence %+v", p)
	}

	// A message reaches the others; the sender gets the acknowledgement.
	ann.send("message", "1", SendMessage{Text: "hi bob"})
	var sent Sent
	ann.next(t, "message.ack", "1", &sent)
	var m ChatMessage
	bob.next(t, "message", "", &m)
	if m.User != "ann" || m.Text != "hi bob" || m.Room != "lobby" || m.Time != sent.Time {
		t.Fatalf("bob got %+v, ann's ack %+v", m, sent)
	}
	if _, err := time.Parse(time.RFC3339Nano, m.Time); err != nil {
		t.Fatalf("time %q: %v", m.Time, err)
	}

	bob.send("typing", "", Typing{Typing: true})
	var typing TypingNotice
	ann.next(t, "typing", "", &typing)
	if typing.User != "bob" || !typing.Typing {
		t.Fatalf("typing %+v", typing)
	}

	// Bad messages are answered and the connection goes on.
	ann.send("message", "2", SendMessage{Text: ""})
	var e struct{ Code, Message string }
	ann.next(t, "error", "2", &e)
	if e.Code != "invalid_payload" {
		t.Fatalf("error %+v", e)
	}
	ann.send("message", "3", SendMessage{Room: "garden", Text: "hello?"})
	ann.next(t, "error", "3", &e)
	if e.Code != "not_in_room" {
		t.Fatalf("error %+v", e)
	}

	// Another room: joining lists who is there, and only its members hear
	// what is said in it.
	cy := client{srv.Dial(t, "/ws/chat/garden?user=cy", nil)}
	waitMembers(t, srv, "garden", 1)
	ann.send("join", "4", RoomRequest{Room: "garden"})
	var state RoomState
	ann.next(t, "join.ack", "4", &state)
	if state.Room != "garden" || len(state.Users) != 2 {
		t.Fatalf("join state %+v", state)
	}
	cy.next(t, "presence", "", &p)
	ann.send("message", "5", SendMessage{Room: "garden", Text: "hi cy"})
	ann.next(t, "message.ack", "5", nil)
	cy.next(t, "message", "", &m)
	if m.Room != "garden" || m.Text != "hi cy" {
		t.Fatalf("cy got %+v", m)
	}
	ann.send("leave", "6", RoomRequest{Room: "garden"})
	ann.next(t, "leave.ack", "6", nil)
	cy.next(t, "presence", "", &p)
	if p.Action != hub.Left || p.Meta["user"] != "ann" {
		t.Fatalf("presence %+v", p)
	}

	// The REST listings.
	var members []hub.MemberInfo
	getJSON(t, srv.URL+"/rooms/lobby/members", &members)
	if len(members) != 2 {
		t.Fatalf("lobby members %+v", members)
	}
	var rooms []hub.RoomInfo
	getJSON(t, srv.URL+"/rooms", &rooms)
	if len(rooms) != 2 || rooms[0] != (hub.RoomInfo{Name: "garden", Members: 1}) || rooms[1] != (hub.RoomInfo{Name: "lobby", Members: 2}) {
		t.Fatalf("rooms %+v", rooms)
	}

	// bob leaves: ann is told.
	bob.Close()
	ann.next(t, "presence", "", &p)
	if p.Action != hub.Left || p.Meta["user"] != "bob" {
		t.Fatalf("presence %+v", p)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// waitMembers waits until room has n members, so that nobody speaks
// before everyone listens.
func waitMembers(t *testing.T, srv *forgetest.Server, room string, n int) {
	t.Helper()
	deadline := time.Now().Add(forgetest.Timeout)
	for time.Now().Before(deadline) {
		var members []hub.MemberInfo
		getJSON(t, srv.URL+"/rooms/"+room+"/members", &members)
		if len(members) >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("fewer than %d members in %s", n, room)
}
