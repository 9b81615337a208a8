// Peer (v): github.com/coder/websocket, shaped like its chat example: each
// /room member is a subscriber with a buffered msgs channel drained by a
// writer goroutine; publish never blocks and a subscriber whose buffer is
// full is closed (the example's closeSlow policy; buffer 256 here instead of
// the example's 16, matching the other peers), counted in /stats "dropped".
// /echo is the README/echo-example loop: Read then Write the same message.
// No per-message timeouts (idle connections must stay open).
package main

import (
	"context"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/forgekit/forge/bench/peers/internal/peerutil"
)

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 10)
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

type subscriber struct {
	msgs      chan []byte
	closeSlow func()
}

type chatServer struct {
	mu          sync.Mutex
	subscribers map[*subscriber]struct{}
}

func (cs *chatServer) publish(msg []byte) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for s := range cs.subscribers {
		select {
		case s.msgs <- msg:
		default:
			peerutil.Dropped.Add(1)
			go s.closeSlow()
		}
	}
}

func (cs *chatServer) room(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &subscriber{
		msgs: make(chan []byte, 256),
		closeSlow: func() {
			c.Close(websocket.StatusPolicyViolation, "connection too slow to keep up with messages")
		},
	}
	cs.mu.Lock()
	cs.subscribers[s] = struct{}{}
	cs.mu.Unlock()
	defer func() {
		cs.mu.Lock()
		delete(cs.subscribers, s)
		cs.mu.Unlock()
	}()
	go func() { // writer
		for {
			select {
			case msg := <-s.msgs:
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					cancel()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	for { // reader
		_, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		cs.publish(msg)
	}
}

func main() {
	addr := peerutil.Addr()
	cs := &chatServer{subscribers: map[*subscriber]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/room", cs.room)
	mux.HandleFunc("/stats", peerutil.Stats)
	peerutil.Serve(addr, mux)
}
