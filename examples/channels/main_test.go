package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// command is the socket's message shape.
type command struct {
	Channel string          `json:"channel"`
	Cmd     string          `json:"cmd"`
	ID      string          `json:"id,omitempty"`
	Param   json.RawMessage `json:"param,omitempty"`
}

type client struct{ *forgetest.Conn }

func (c client) send(channel, cmd, id, param string) {
	c.SendJSON(command{Channel: channel, Cmd: cmd, ID: id, Param: json.RawMessage(param)})
}

func (c client) next(t *testing.T, cmd string, v any) command {
	t.Helper()
	var m command
	c.ReadJSON(&m)
	if m.Cmd != cmd {
		t.Fatalf("got %+v (%s), want cmd %q", m, m.Param, cmd)
	}
	if v != nil {
		if err := json.Unmarshal(m.Param, v); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestChannels(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ann := client{srv.Dial(t, "/socket?ch=c1&user=ann", nil)}
	bob := client{srv.Dial(t, "/socket?ch=c1&user=bob", nil)}
	solo := client{srv.Dial(t, "/socket?user=solo", nil)}
	var members []hub.MemberInfo
	// A connection is listed once registered, and in its channel a moment
	// later: wait for both.
	testkit.WaitFor(t, "three connections in their channels", func() bool {
		testkit.GetJSON(t, srv.URL+"/connections", &members)
		if len(members) != 3 {
			return false
		}
		for _, m := range members {
			if len(m.Rooms) == 0 {
				return false
			}
		}
		return true
	})
	ids := map[string]hub.MemberInfo{}
	for _, m := range members {
		ids[m.Meta["user"]] = m
	}
	if r := ids["solo"].Rooms; len(r) != 1 || !strings.HasPrefix(r[0], "example-") {
		t.Fatalf("solo's channels %v", r)
	}

	ann.send("c1", "ping", "", `{}`)
	var pong Pong
	if m := ann.next(t, "pong", &pong); m.Channel != "c1" || pong.Timestamp == 0 {
		t.Fatalf("pong %+v %+v", m, pong)
	}
	ann.send("c1", "chat", "", `{"text":"hi"}`)
	for _, c := range []client{ann, bob} {
		var chat Chat
		if m := c.next(t, "chat", &chat); m.Channel != "c1" || chat.User != "ann" || chat.Text != "hi" {
			t.Fatalf("chat %+v %+v", m, chat)
		}
	}
	// Commands with an id are acknowledged, or answered with an error.
	bob.send("c1", "join-room", "j", `{"room":"c2"}`)
	if m := bob.next(t, "join-room.ack", nil); m.ID != "j" || m.Channel != "c1" {
		t.Fatalf("ack %+v", m)
	}
	ann.send("c2", "chat", "x", `{"text":"c2?"}`)
	var e struct{ Code, Message string }
	if m := ann.next(t, "error", &e); m.ID != "x" || e.Code != "not_in_channel" {
		t.Fatalf("error %+v %+v", m, e)
	}
	ann.send("c1", "dance", "y", `{}`)
	ann.next(t, "error", &e)
	if e.Code != "unknown_event" {
		t.Fatalf("error %+v", e)
	}

	// The listings.
	testkit.GetJSON(t, srv.URL+"/channels/c1/connections", &members)
	if len(members) != 2 {
		t.Fatalf("c1 %+v", members)
	}
	testkit.GetJSON(t, srv.URL+"/channels/c2/connections", &members)
	if len(members) != 1 || members[0].Meta["user"] != "bob" {
		t.Fatalf("c2 %+v", members)
	}

	// Writes from REST: a channel, a connection, everyone.
	post(t, srv.URL+"/channels/c2/messages", `{"text":"to c2"}`, http.StatusAccepted)
	var n Notice
	if m := bob.next(t, "notice", &n); n.Text != "to c2" || m.Channel != "c2" {
		t.Fatalf("notice %+v %+v", m, n)
	}
	post(t, srv.URL+"/connections/"+ids["solo"].ID+"/messages", `{"text":"just you"}`, http.StatusAccepted)
	solo.next(t, "notice", &n)
	if n.Text != "just you" {
		t.Fatalf("notice %+v", n)
	}
	post(t, srv.URL+"/connections/ws_nobody/messages", `{"text":"x"}`, http.StatusNotFound)
	post(t, srv.URL+"/messages", `{"text":""}`, http.StatusBadRequest)
	post(t, srv.URL+"/messages", `{"text":"all"}`, http.StatusAccepted)
	for _, c := range []client{ann, bob, solo} {
		c.next(t, "notice", &n)
		if n.Text != "all" {
			t.Fatalf("notice %+v", n)
		}
	}

	var st Status
	testkit.GetJSON(t, srv.URL+"/status", &st)
	if st.Hub.Connections != 3 || st.Hub.Rooms != 3 || st.Events.Received != 5 || st.Events.Failed != 1 || st.Events.UnknownEvent != 1 {
		t.Fatalf("status %+v", st)
	}
}

func post(t *testing.T, url, body string, want int) {
	t.Helper()
	testkit.Post(t, url, body, want)
}
