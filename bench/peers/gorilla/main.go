// Peer (i): raw gorilla/websocket "done well": per connection one reader
// goroutine and one writer goroutine fed by a buffered channel. /room fans a
// message out as one gorilla PreparedMessage (framed once) to every member's
// channel; a member whose 256-slot buffer is full is dropped from the room
// and closed (the gorilla chat-example policy), counted in /stats "dropped".
package main

import (
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/bench/peers/internal/peerutil"
)

const sendBuf = 256

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*http.Request) bool { return true },
}

type outMsg struct {
	typ  int
	data []byte
}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	send := make(chan outMsg, sendBuf)
	go func() { // writer
		defer c.Close()
		for m := range send {
			if err := c.WriteMessage(m.typ, m.data); err != nil {
				c.Close()        // unblocks the reader
				for range send { // drain until the reader stops
				}
				return
			}
		}
	}()
	defer close(send)
	for { // reader
		typ, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		send <- outMsg{typ, data} // blocking: echo is lossless, back-pressure
	}
}

type member struct {
	c    *websocket.Conn
	send chan *websocket.PreparedMessage
}

type room struct {
	mu      sync.RWMutex
	members map[*member]struct{}
}

var hub = &room{members: map[*member]struct{}{}}

func (h *room) broadcast(pm *websocket.PreparedMessage) {
	h.mu.RLock()
	var slow []*member
	for m := range h.members {
		select {
		case m.send <- pm:
		default:
			slow = append(slow, m)
		}
	}
	h.mu.RUnlock()
	for _, m := range slow {
		peerutil.Dropped.Add(1)
		h.leave(m)
	}
}

func (h *room) leave(m *member) {
	h.mu.Lock()
	if _, ok := h.members[m]; ok {
		delete(h.members, m)
		close(m.send)
	}
	h.mu.Unlock()
}

func roomHandler(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	m := &member{c: c, send: make(chan *websocket.PreparedMessage, sendBuf)}
	hub.mu.Lock()
	hub.members[m] = struct{}{}
	hub.mu.Unlock()
	go func() { // writer
		defer c.Close()
		for pm := range m.send {
			if err := c.WritePreparedMessage(pm); err != nil {
				hub.leave(m)
				for range m.send {
				}
				return
			}
		}
	}()
	defer hub.leave(m)
	for { // reader
		typ, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		pm, err := websocket.NewPreparedMessage(typ, data)
		if err != nil {
			return
		}
		hub.broadcast(pm)
	}
}

func main() {
	addr := peerutil.Addr()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/room", roomHandler)
	mux.HandleFunc("/stats", peerutil.Stats)
	peerutil.Serve(addr, mux)
}
