// Peer (iii): github.com/lxzan/gws, following its README "Best Practice":
// an Upgrader with ParallelEnabled + Recovery (+ PermessageDeflate offered,
// which our clients never negotiate), socket.ReadLoop() in its own goroutine,
// echo via WriteMessage in OnMessage, and /room via gws.NewBroadcaster (frame
// built once, written through each connection's async write queue). The
// README's ping deadlines are left out: the idle scenario holds silent
// connections and no other peer enforces heartbeats either.
package main

import (
	"net/http"
	"sync"

	"github.com/lxzan/gws"

	"github.com/forgekit/forge/bench/peers/internal/peerutil"
)

type echoHandler struct{ gws.BuiltinEventHandler }

func (echoHandler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	_ = socket.WriteMessage(message.Opcode, message.Bytes())
}

type roomHandler struct {
	gws.BuiltinEventHandler
	mu      sync.RWMutex
	members map[*gws.Conn]struct{}
}

func (h *roomHandler) OnOpen(socket *gws.Conn) {
	h.mu.Lock()
	h.members[socket] = struct{}{}
	h.mu.Unlock()
}

func (h *roomHandler) OnClose(socket *gws.Conn, err error) {
	h.mu.Lock()
	delete(h.members, socket)
	h.mu.Unlock()
}

func (h *roomHandler) OnMessage(socket *gws.Conn, message *gws.Message) {
	// The payload buffer is not returned to gws's pool (no message.Close())
	// because the broadcaster's async writes may still reference it.
	b := gws.NewBroadcaster(message.Opcode, message.Bytes())
	defer b.Close()
	h.mu.RLock()
	for c := range h.members {
		_ = b.Broadcast(c)
	}
	h.mu.RUnlock()
}

func serve(up *gws.Upgrader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		socket, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go func() {
			socket.ReadLoop() // Blocking prevents the context from being GC.
		}()
	}
}

func main() {
	addr := peerutil.Addr()
	opt := func() *gws.ServerOption {
		return &gws.ServerOption{
			ParallelEnabled:   true,
			Recovery:          gws.Recovery,
			PermessageDeflate: gws.PermessageDeflate{Enabled: true},
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", serve(gws.NewUpgrader(&echoHandler{}, opt())))
	mux.HandleFunc("/room", serve(gws.NewUpgrader(&roomHandler{members: map[*gws.Conn]struct{}{}}, opt())))
	mux.HandleFunc("/stats", peerutil.Stats)
	peerutil.Serve(addr, mux)
}
