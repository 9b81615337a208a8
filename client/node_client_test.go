package client_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"testing"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/client"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/forgetest"
)

type text struct {
	Text string `json:"text" required:"true" minLength:"1"`
}

type number struct {
	N int `json:"n" required:"true"`
}

// TestClientInNode runs the client in Node (node/client.mjs, with the ws
// package as its WebSocket where Node has none) against a forge app on
// loopback: a request and its ack, a request rejected by the error event,
// a server request answered by the client's handler, and server events
// received through ?events=.
func TestClientInNode(t *testing.T) {
	client.NodeModules(t)
	app := forge.New()
	d := events.New()
	double := events.Requests[number, number](d, "double")
	events.Emits[number](d, "tick")
	events.Emits[text](d, "noise")
	events.OnRequest(d, "echo", func(_ *events.Context, in text) (text, error) { return in, nil })
	events.OnRequest(d, "ask", func(c *events.Context, in number) (number, error) {
		return double.Do(c.Context(), c, in)
	})
	events.OnRequest(d, "ticks", func(c *events.Context, in number) (struct{}, error) {
		for i := 1; i <= in.N; i++ {
			if err := c.Emit("noise", text{Text: "not subscribed"}); err != nil {
				return struct{}{}, err
			}
			if err := c.Emit("tick", number{N: i}); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	events.Route(app.Router(), "/ws/node", d)
	srv := forgetest.Start(t, app)

	out, err := exec.Command("node", "node/client.mjs", srv.WebSocketURL("/ws/node")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Echo    text
		Error   string
		Doubled number
		Ticks   []int
		Seen    []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Echo.Text != "from node" || got.Error != "invalid_payload" || got.Doubled.N != 42 || !slices.Equal(got.Ticks, []int{1, 2, 3}) {
		t.Errorf("node saw %+v", got)
	}
	if !slices.Equal(got.Seen, []string{"tick"}) {
		t.Errorf("the client saw the events %v, want only tick (?events=tick)", got.Seen)
	}
}
