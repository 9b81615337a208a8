// Peer (ii): github.com/olahol/melody, as in its README chat example: one
// melody instance per endpoint; /echo writes the message back to its session,
// /room calls Broadcast (melody's hub goroutine fans out to every session's
// 256-slot buffer; when a buffer is full melody drops the message and reports
// ErrMessageBufferFull, counted in /stats "dropped"). MaxMessageSize is raised
// from melody's 512 B default to 64 KiB so larger -size runs work.
package main

import (
	"errors"
	"net/http"

	"github.com/olahol/melody"

	"github.com/forgekit/forge/bench/peers/internal/peerutil"
)

func newMelody() *melody.Melody {
	m := melody.New()
	m.Config.MaxMessageSize = 64 << 10
	m.Upgrader.CheckOrigin = func(*http.Request) bool { return true }
	m.HandleError(func(_ *melody.Session, err error) {
		if errors.Is(err, melody.ErrMessageBufferFull) {
			peerutil.Dropped.Add(1)
		}
	})
	return m
}

func main() {
	addr := peerutil.Addr()
	echo := newMelody()
	echo.HandleMessage(func(s *melody.Session, msg []byte) { s.Write(msg) })
	room := newMelody()
	room.HandleMessage(func(s *melody.Session, msg []byte) { room.Broadcast(msg) })

	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) { echo.HandleRequest(w, r) })
	mux.HandleFunc("/room", func(w http.ResponseWriter, r *http.Request) { room.HandleRequest(w, r) })
	mux.HandleFunc("/stats", peerutil.Stats)
	peerutil.Serve(addr, mux)
}
