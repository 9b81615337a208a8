package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChat(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ann := srv.Dial(t, "/ws/chat/lobby?user=ann", nil)
	// An answer to ann proves her connect hook, and the presence message
	// of her join, are done: bob, next, must not get it.
	ann.SendEvent("join", "0", RoomRequest{Room: "lobby"})
	ann.ExpectEvent("join.ack", "0", nil)
	bob := srv.Dial(t, "/ws/chat/lobby?user=bob", nil)

	var p hub.Presence
	ann.ExpectEvent("presence", "", &p)
	if p.Action != hub.Joined || p.Room != "lobby" || p.Meta["user"] != "bob" {
		t.Fatalf("presence %+v", p)
	}

	// A message reaches the others; the sender gets the acknowledgement.
	ann.SendEvent("message", "1", SendMessage{Text: "hi bob"})
	var sent Sent
	ann.ExpectEvent("message.ack", "1", &sent)
	var m ChatMessage
	bob.ExpectEvent("message", "", &m)
	if m.User != "ann" || m.Text != "hi bob" || m.Room != "lobby" || m.Time != sent.Time {
		t.Fatalf("bob got %+v, ann's ack %+v", m, sent)
	}
	if _, err := time.Parse(time.RFC3339Nano, m.Time); err != nil {
		t.Fatalf("time %q: %v", m.Time, err)
	}

	bob.SendEvent("typing", "", Typing{Typing: true})
	var typing TypingNotice
	ann.ExpectEvent("typing", "", &typing)
	if typing.User != "bob" || !typing.Typing {
		t.Fatalf("typing %+v", typing)
	}

	// Bad messages are answered and the connection goes on.
	ann.SendEvent("message", "2", SendMessage{Text: ""})
	var e struct{ Code, Message string }
	ann.ExpectEvent("error", "2", &e)
	if e.Code != "invalid_payload" {
		t.Fatalf("error %+v", e)
	}
	ann.SendEvent("message", "3", SendMessage{Room: "garden", Text: "hello?"})
	ann.ExpectEvent("error", "3", &e)
	if e.Code != "not_in_room" {
		t.Fatalf("error %+v", e)
	}

	// Another room: joining lists who is there, and only its members hear
	// what is said in it.
	cy := srv.Dial(t, "/ws/chat/garden?user=cy", nil)
	waitMembers(t, srv, "garden", 1)
	ann.SendEvent("join", "4", RoomRequest{Room: "garden"})
	var state RoomState
	ann.ExpectEvent("join.ack", "4", &state)
	if state.Room != "garden" || len(state.Users) != 2 {
		t.Fatalf("join state %+v", state)
	}
	cy.ExpectEvent("presence", "", &p)
	ann.SendEvent("message", "5", SendMessage{Room: "garden", Text: "hi cy"})
	ann.ExpectEvent("message.ack", "5", nil)
	cy.ExpectEvent("message", "", &m)
	if m.Room != "garden" || m.Text != "hi cy" {
		t.Fatalf("cy got %+v", m)
	}
	ann.SendEvent("leave", "6", RoomRequest{Room: "garden"})
	ann.ExpectEvent("leave.ack", "6", nil)
	cy.ExpectEvent("presence", "", &p)
	if p.Action != hub.Left || p.Meta["user"] != "ann" {
		t.Fatalf("presence %+v", p)
	}

	// The REST listings.
	var members Members
	testkit.GetJSON(t, srv.URL+"/rooms/lobby/members", &members)
	if members.Room != "lobby" || !slices.Equal(members.Users, []string{"ann", "bob"}) {
		t.Fatalf("lobby members %+v", members)
	}
	var rooms []hub.RoomInfo
	testkit.GetJSON(t, srv.URL+"/rooms", &rooms)
	if len(rooms) != 2 || rooms[0] != (hub.RoomInfo{Name: "garden", Members: 1}) || rooms[1] != (hub.RoomInfo{Name: "lobby", Members: 2}) {
		t.Fatalf("rooms %+v", rooms)
	}

	// bob leaves: ann is told.
	bob.Close()
	ann.ExpectEvent("presence", "", &p)
	if p.Action != hub.Left || p.Meta["user"] != "bob" {
		t.Fatalf("presence %+v", p)
	}
}

// waitMembers waits until room has n members, so that nobody speaks
// before everyone listens.
func waitMembers(t *testing.T, srv *forgetest.Server, room string, n int) {
	t.Helper()
	deadline := time.Now().Add(forgetest.Timeout)
	for time.Now().Before(deadline) {
		var members Members
		testkit.GetJSON(t, srv.URL+"/rooms/"+room+"/members", &members)
		if len(members.Users) >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("fewer than %d members in %s", n, room)
}

// TestRooms checks the REST side: members are listed by user name only,
// with [] for an empty room, and a room name that breaks the rule of join
// is refused with 422 problem+json before anything else, in the REST path
// as in the WebSocket one.
func TestRooms(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ws := srv.Dial(t, "/ws/chat/lobby?user=ann", nil)
	defer ws.Close()
	waitMembers(t, srv, "lobby", 1)

	for _, tt := range []struct{ path, want string }{
		{"/rooms/lobby/members", `{"room":"lobby","users":["ann"]}`},
		{"/rooms/empty/members", `{"room":"empty","users":[]}`},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(body)); resp.StatusCode != 200 || got != tt.want {
			t.Errorf("GET %s: %d %s, want %s", tt.path, resp.StatusCode, got, tt.want)
		}
	}

	long := strings.Repeat("a", 65)
	for _, room := range []string{long, "a.b", "caf%C3%A9", "a%20b"} {
		resp, err := http.Get(srv.URL + "/rooms/" + room + "/members")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET /rooms/%s/members: %d %s, want 422 problem+json", room, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if _, resp, err := srv.DialErr("/ws/chat/"+room+"?user=ann", nil); err == nil || resp == nil ||
			resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("handshake for room %s: %v %v, want 422 problem+json", room, resp, err)
		}
	}
	// The longest name allowed is allowed both ways.
	ok := strings.Repeat("b", 64)
	ws2 := srv.Dial(t, "/ws/chat/"+ok+"?user=cy", nil)
	defer ws2.Close()
	waitMembers(t, srv, ok, 1)
}

// TestDocumentsDeclare checks what the documents tell a new user: the
// query parameter the chat reads, and the REST responses.
func TestDocumentsDeclare(t *testing.T) {
	dir := t.TempDir()
	if err := newApp().WriteDocuments(dir); err != nil {
		t.Fatal(err)
	}
	var async struct {
		Channels map[string]struct {
			Parameters map[string]struct {
				Description string   `json:"description"`
				Examples    []string `json:"examples"`
			} `json:"parameters"`
			Bindings struct {
				WS struct {
					Query struct {
						Properties map[string]json.RawMessage `json:"properties"`
					} `json:"query"`
				} `json:"ws"`
			} `json:"bindings"`
		} `json:"channels"`
	}
	readJSON(t, filepath.Join(dir, "asyncapi.json"), &async)
	ch := async.Channels["ws-chat-room"]
	if _, ok := ch.Bindings.WS.Query.Properties["user"]; !ok {
		t.Errorf("the channel's ws binding declares no ?user: %+v", ch.Bindings.WS.Query)
	}
	if p := ch.Parameters["room"]; p.Description == "" || len(p.Examples) == 0 {
		t.Errorf("parameter room %+v, want a description and an example", p)
	}

	var open struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Description string `json:"description"`
			} `json:"responses"`
		} `json:"paths"`
	}
	readJSON(t, filepath.Join(dir, "openapi.json"), &open)
	for _, path := range []string{"/rooms", "/rooms/{room}/members"} {
		responses := open.Paths[path]["get"].Responses
		if _, ok := responses["200"]; !ok {
			t.Errorf("GET %s documents no 200 response: %+v", path, responses)
		}
	}
	if _, ok := open.Paths["/rooms/{room}/members"]["get"].Responses["422"]; !ok {
		t.Error("GET /rooms/{room}/members documents no 422 response")
	}
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
