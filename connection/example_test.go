package connection_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
)

// Serve runs a handler on each upgraded connection; the Tracker it is
// given closes them all, with 1001, on Shutdown. Most applications use
// forge's router, which calls Serve for WebSocket routes.
func ExampleServe() {
	tracker := &connection.Tracker{}
	cfg := &connection.Config{Tracker: tracker}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connection.Serve(w, r, cfg, func(c *connection.Conn) error {
			for {
				msg, err := c.Read()
				if err != nil {
					return err // the peer left: a normal end
				}
				if err := c.Write(append([]byte("echo: "), msg...)); err != nil {
					return err
				}
			}
		})
	}))
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte("hello"))
	_, reply, _ := ws.ReadMessage()
	fmt.Println(string(reply))

	// Shutdown waits for the closing handshake, which the client answers
	// while it reads.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- tracker.Shutdown(ctx) }()
	_, _, err = ws.ReadMessage()
	fmt.Println(websocket.IsCloseError(err, websocket.CloseGoingAway), <-done)
	// Output:
	// echo: hello
	// true <nil>
}

// Offer queues a prepared message without ever waiting for the peer, as a
// broadcast does for each member; a full queue gets the connection's
// slow-consumer policy, and every drop is counted in the Tracker's Stats.
func ExampleConn_Offer() {
	pm, err := connection.NewPreparedMessage(connection.TextMessage, []byte(`{"event":"tick"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	tracker := &connection.Tracker{}
	cfg := &connection.Config{Tracker: tracker, SlowConsumer: connection.PolicyDropOldest}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connection.Serve(w, r, cfg, func(c *connection.Conn) error {
			c.Offer(pm)
			_, err := c.Read()
			return err
		})
	}))
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, msg, _ := ws.ReadMessage()
	fmt.Println(string(msg))
	ws.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tracker.Shutdown(ctx)
	fmt.Println("dropped:", tracker.Stats().Dropped)
	// Output:
	// {"event":"tick"}
	// dropped: 0
}
