package events_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/router"
)

type ChatMessage struct {
	Text string `json:"text" required:"true" maxLength:"500"`
}

type Said struct {
	User string `json:"user"`
	Text string `json:"text"`
}

// A chat room: a typed handler validates what clients say, and the room
// hears it through the hub.
func Example() {
	h, _ := hub.New()
	d := events.New(events.WithHub(h), events.WithLogger(slog.New(slog.DiscardHandler)),
		events.WithOnConnect(func(c *events.Context) error { return c.Join("lobby") }))
	events.Emits[Said](d, "said")
	events.On(d, "message", func(c *events.Context, m ChatMessage) error {
		return c.Broadcast("lobby", "said", Said{User: c.Route().Query("user"), Text: m.Text})
	})

	tracker := &connection.Tracker{}
	mux := router.New(router.Config{Logger: slog.New(slog.DiscardHandler), Tracker: tracker})
	events.Route(mux, "/ws/chat", d)
	url, stop := serve(mux, tracker)
	defer stop()

	ann, _, _ := websocket.DefaultDialer.Dial(url+"/ws/chat?user=ann", nil)
	defer ann.Close()
	for h.Count("lobby") < 1 {
		time.Sleep(time.Millisecond)
	}
	ann.WriteMessage(websocket.TextMessage, []byte(`{"event":"message","id":"1","payload":{"text":"hi"}}`))
	ann.WriteMessage(websocket.TextMessage, []byte(`{"event":"message","id":"2","payload":{}}`))
	for range 3 {
		_, msg, _ := ann.ReadMessage()
		fmt.Println(string(msg))
	}
	// Output:
	// {"event":"said","payload":{"user":"ann","text":"hi"}}
	// {"event":"message.ack","id":"1","payload":{}}
	// {"event":"error","id":"2","payload":{"code":"invalid_payload","message":"payload: missing property 'text'"}}
}

// serve serves h on a loopback port and returns its ws:// URL and a
// function that shuts it down, WebSocket connections included.
func serve(h http.Handler, tracker *connection.Tracker) (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	return "ws://" + l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tracker.Shutdown(ctx)
		srv.Shutdown(ctx)
	}
}
