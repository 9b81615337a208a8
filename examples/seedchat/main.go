// Command seedchat is the multi-room chat server from forge's WebSocket
// guide, kept as written there (only the import path differs): rooms are
// plain maps of connections, and a broadcast loops over WriteJSON under a
// read lock. forge's connections make that safe: writes from many
// goroutines never interleave, and a member that stops reading is closed as
// a slow consumer after one write timeout instead of stalling the room.
// examples/chat is the same chat built on forge's hub and events packages.
//
//	go run ./examples/seedchat        # listens on :8080 (or $PORT)
//	websocat 'ws://localhost:8080/ws/chat/lobby?user=ann'
package main

import (
	"sync"
	"time"

	"github.com/forgekit/forge"
)

type ChatRoom struct {
	mu      sync.RWMutex
	clients map[string]forge.Connection
}

func NewChatRoom() *ChatRoom {
	return &ChatRoom{
		clients: make(map[string]forge.Connection),
	}
}

func (r *ChatRoom) Join(conn forge.Connection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients[conn.ID()] = conn
}

func (r *ChatRoom) Leave(conn forge.Connection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.clients, conn.ID())
}

func (r *ChatRoom) Broadcast(sender string, msg any) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for id, client := range r.clients {
		if id != sender {
			client.WriteJSON(msg)
		}
	}
}

type ChatMessage struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Content string `json:"content"`
	Time    string `json:"time"`
}

var rooms = struct {
	mu    sync.RWMutex
	rooms map[string]*ChatRoom
}{rooms: make(map[string]*ChatRoom)}

func getOrCreateRoom(name string) *ChatRoom {
	rooms.mu.Lock()
	defer rooms.mu.Unlock()
	if room, ok := rooms.rooms[name]; ok {
		return room
	}
	room := NewChatRoom()
	rooms.rooms[name] = room
	return room
}

func main() {
	app := forge.New(forge.WithAppName("chat-server"))
	r := app.Router()
	r.WebSocket("/ws/chat/:room", func(ctx forge.Context, conn forge.Connection) error {
		roomName := ctx.Param("room")
		userName := ctx.Query("user")
		if userName == "" {
			userName = "anonymous"
		}
		room := getOrCreateRoom(roomName)
		room.Join(conn)
		defer room.Leave(conn)
		// Announce join
		room.Broadcast(conn.ID(), ChatMessage{
			Type:    "system",
			User:    userName,
			Content: userName + " joined the room",
			Time:    time.Now().Format(time.RFC3339),
		})
		// Read messages
		for {
			var incoming ChatMessage
			if err := conn.ReadJSON(&incoming); err != nil {
				// Announce leave on disconnect
				room.Broadcast(conn.ID(), ChatMessage{
					Type:    "system",
					User:    userName,
					Content: userName + " left the room",
					Time:    time.Now().Format(time.RFC3339),
				})
				return nil
			}
			incoming.User = userName
			incoming.Type = "message"
			incoming.Time = time.Now().Format(time.RFC3339)
			room.Broadcast(conn.ID(), incoming)
		}
	},
		forge.WithSummary("Chat room"),
		forge.WithTags("chat"),
		forge.WithWebSocketMessages(&ChatMessage{}, &ChatMessage{}),
	)
	app.Run()
}
