package hub_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/router"
)

// Rooms on a WebSocket route: each connection joins the room of its path
// and leaves it when it ends; a broadcast reaches every member but the
// ones excepted.
func Example() {
	h, _ := hub.New(hub.WithPresence("presence"))
	tracker := &connection.Tracker{}
	mux := router.New(router.Config{Logger: slog.New(slog.DiscardHandler), Tracker: tracker})
	mux.WebSocket("/ws/{room}", func(ctx router.Context, conn connection.Connection) error {
		if err := h.Register(conn, hub.WithMeta(map[string]string{"user": ctx.Query("user")})); err != nil {
			return err
		}
		if err := h.Join(ctx.Context(), conn.ID(), ctx.Param("room")); err != nil {
			return err
		}
		for { // read until the client leaves; the hub forgets it then
			if _, err := conn.Read(); err != nil {
				return nil
			}
		}
	})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tracker.Shutdown(ctx)
		srv.Shutdown(ctx)
	}()

	url := "ws://" + l.Addr().String() + "/ws/lobby?user="
	ann, _, _ := websocket.DefaultDialer.Dial(url+"ann", nil)
	defer ann.Close()
	for h.Count("lobby") < 1 {
		time.Sleep(time.Millisecond)
	}
	bob, _, _ := websocket.DefaultDialer.Dial(url+"bob", nil)
	_, msg, _ := ann.ReadMessage()
	fmt.Println(string(msg)[:58])

	h.Broadcast(context.Background(), "lobby", hub.Message{Data: []byte("hello, lobby")})
	_, msg, _ = bob.ReadMessage()
	fmt.Println(string(msg))
	bob.Close()
	_, msg, _ = ann.ReadMessage() // skip the broadcast
	_, msg, _ = ann.ReadMessage()
	fmt.Println(string(msg)[:59])
	fmt.Println(h.Status().Connections, "connection left")
	// Output:
	// {"event":"presence","payload":{"room":"lobby","action":"jo
	// hello, lobby
	// {"event":"presence","payload":{"room":"lobby","action":"lea
	// 1 connection left
}
