package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/examples/internal/brokerurl"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/natsbroker/natstest"
	"github.com/forgekit/forge/internal/redistest"
	"github.com/forgekit/forge/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type envelope struct {
	Event    string              `json:"event"`
	ID       string              `json:"id,omitempty"`
	Payload  json.RawMessage     `json:"payload,omitempty"`
	Position *hub.StreamPosition `json:"position,omitempty"`
}

type client struct {
	*forgetest.Conn
	lastPosition *hub.StreamPosition // of the last message read that had one
}

// next reads events until one named event arrives (presence notices may
// come first) and decodes its payload into v.
func (c *client) next(t *testing.T, event string, v any) {
	t.Helper()
	for {
		var e envelope
		c.ReadJSON(&e)
		if e.Position != nil {
			c.lastPosition = e.Position
		}
		if e.Event == "presence" && event != "presence" {
			continue
		}
		if e.Event != event {
			t.Fatalf("got %s %s, want %s", e.Event, e.Payload, event)
		}
		if err := json.Unmarshal(e.Payload, v); err != nil {
			t.Fatal(err)
		}
		return
	}
}

// node is one started node of a test cluster.
type node struct {
	srv *forgetest.Server
	hub *hub.Hub
}

// startCluster starts a node over each broker.
func startCluster(t *testing.T, brokers ...hub.Broker) []node {
	t.Helper()
	var nodes []node
	for _, b := range brokers {
		app, h, err := newNode(b)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() }) // runs after the server's shutdown
		nodes = append(nodes, node{srv: forgetest.Start(t, app), hub: h})
	}
	return nodes
}

func getMembers(t *testing.T, n node, room string) []MemberView {
	t.Helper()
	var out []MemberView
	testkit.GetJSON(t, n.srv.URL+"/rooms/"+room+"/members", &out)
	return out
}

// chatAcrossNodes runs the cluster chat on three nodes: messages,
// whispers and the member listing cross nodes.
func chatAcrossNodes(t *testing.T, brokers ...hub.Broker) {
	nodes := startCluster(t, brokers...)
	ann := &client{Conn: nodes[0].srv.Dial(t, "/ws/chat/lobby?user=ann", nil)}
	bob := &client{Conn: nodes[1].srv.Dial(t, "/ws/chat/lobby?user=bob", nil)}
	carl := &client{Conn: nodes[2].srv.Dial(t, "/ws/chat/lobby?user=carl", nil)}

	// Every node lists the three, each on its own node.
	var members []MemberView
	deadline := time.Now().Add(forgetest.Timeout)
	for {
		members = getMembers(t, nodes[2], "lobby")
		if len(members) == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(members) != 3 || members[0].User != "ann" || members[1].User != "bob" || members[2].User != "carl" {
		t.Fatalf("members = %+v, want ann, bob and carl", members)
	}
	for i, m := range members {
		if m.Node != nodes[i].hub.Node() {
			t.Fatalf("%s is listed on node %s, want %s", m.User, m.Node, nodes[i].hub.Node())
		}
	}

	// A position request is answered once the connection's join is done
	// (presence may show a member a moment before).
	for _, c := range []*client{ann, bob, carl} {
		c.SendEvent("position", "sync", map[string]string{"room": "lobby"})
		var rp events.RoomPosition
		c.next(t, "position.ack", &rp)
	}
	ann.SendEvent("message", "1", SendMessage{Text: "hello from node 1"})
	var sent Sent
	ann.next(t, "message.ack", &sent)
	for _, c := range []*client{bob, carl} {
		var m ChatMessage
		c.next(t, "message", &m)
		if m.User != "ann" || m.Text != "hello from node 1" || m.Node != nodes[0].hub.Node() {
			t.Fatalf("got %+v", m)
		}
	}

	carl.SendEvent("whisper", "", Whisper{To: members[0].ID, Text: "psst"})
	var w Whispered
	ann.next(t, "whisper", &w)
	if w.User != "carl" || w.Text != "psst" {
		t.Fatalf("ann got %+v", w)
	}

	// bob drops; what is said meanwhile on node 1 reaches him when he
	// comes back to node 3 with the last position he saw.
	last := bob.lastPosition
	bob.Close()
	for i, text := range []string{"while you were away", "and this"} {
		id := fmt.Sprint("away-", i)
		ann.SendEvent("message", id, SendMessage{Text: text})
		ann.next(t, "message.ack", &sent) // in the history now
	}
	q := url.Values{"user": {"bob"}, "recover": {fmt.Sprintf("lobby:%s:%d", last.Epoch, last.Offset)}}
	back := &client{Conn: nodes[2].srv.Dial(t, "/ws/chat/lobby?"+q.Encode(), nil)}
	// The replay ends where node 3's live messages begin: the recovery
	// event may come between the two if node 3 had not yet received the
	// second when bob came back.
	var texts []string
	var rec *events.Recovery
	for len(texts) < 2 || rec == nil {
		var e envelope
		back.ReadJSON(&e)
		switch e.Event {
		case "message":
			var m ChatMessage
			if err := json.Unmarshal(e.Payload, &m); err != nil {
				t.Fatal(err)
			}
			texts = append(texts, m.Text)
		case "recovery":
			rec = new(events.Recovery)
			if err := json.Unmarshal(e.Payload, rec); err != nil {
				t.Fatal(err)
			}
			if !rec.Recovered || rec.Replayed != len(texts) {
				t.Fatalf("recovery %+v after %q", rec, texts)
			}
		}
	}
	if texts[0] != "while you were away" || texts[1] != "and this" {
		t.Fatalf("bob got %q back", texts)
	}
}

func TestChatAcrossNodesMemory(t *testing.T) {
	bus := hub.NewMemoryBroker()
	defer bus.Close()
	var brokers []hub.Broker
	for range 3 {
		b := bus.Connect()
		t.Cleanup(func() { b.Close() })
		brokers = append(brokers, b)
	}
	chatAcrossNodes(t, brokers...)
}

// brokersAt dials the broker URL three times, one per node, as three
// processes started with -broker URL would.
func brokersAt(t *testing.T, u string) []hub.Broker {
	t.Helper()
	var brokers []hub.Broker
	for range 3 {
		b, closeClient, err := brokerurl.Dial(u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeClient)
		t.Cleanup(func() { b.Close() })
		brokers = append(brokers, b)
	}
	return brokers
}

func TestChatAcrossNodesRedis(t *testing.T) {
	srv := redistest.Start(t)
	chatAcrossNodes(t, brokersAt(t, "redis://"+srv.Addr())...)
}

func TestChatAcrossNodesNATS(t *testing.T) {
	srv := natstest.Start(t)
	chatAcrossNodes(t, brokersAt(t, srv.URL())...)
}

func TestDialBrokerRefusesUnknownSchemes(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:1", "127.0.0.1:6379", "::"} {
		if _, _, err := brokerurl.Dial(u); err == nil {
			t.Errorf("brokerurl.Dial(%q) succeeded", u)
		}
	}
}
