package faults

import (
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

// The timeouts of the vanish tests' routes: small, so that the server
// gives up soon; the tests wait for it far longer.
const (
	vanishPing  = 200 * time.Millisecond
	vanishPong  = 600 * time.Millisecond
	vanishWrite = 800 * time.Millisecond
	vanishClose = 800 * time.Millisecond
)

// vanishBound is how long the server may take to notice a vanished peer
// before the test calls it hung: three times every timeout that could be
// involved, in a row.
const vanishBound = 3 * (vanishPing + vanishPong + vanishWrite + vanishClose)

// vanishApp serves /echo, whose handler waits in Read, /listen, the same
// echo through Connection.Listen, and /stream, whose handler writes a
// message every few milliseconds, with small keepalive,
// write and close timeouts. Every session's summary goes to sessions.
type vanishApp struct {
	app      *forge.App
	logs     *logSink
	sessions chan connection.SessionInfo
	url      string
}

func newVanishApp(t *testing.T, addr string) *vanishApp {
	t.Helper()
	v := &vanishApp{logs: &logSink{}, sessions: make(chan connection.SessionInfo, 16)}
	v.app = forge.New(forge.WithAppName("faults"), forge.WithLogger(v.logs.logger()))
	observe := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := connection.ObserveSession(r.Context(), func(s connection.SessionInfo) { v.sessions <- s })
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	opts := []forge.WebSocketOption{
		forge.WithKeepalive(vanishPing, vanishPong),
		forge.WithWriteTimeout(vanishWrite),
		forge.WithCloseTimeout(vanishClose),
		forge.WithMiddleware(observe),
	}
	r := v.app.Router()
	r.WebSocket("/steady", echoHandler) // the default keepalive
	r.WebSocket("/echo", echoHandler, opts...)
	r.WebSocket("/listen", func(_ forge.Context, conn forge.Connection) error {
		return conn.Listen(func(_ forge.MessageType, msg []byte) error { return conn.Write(msg) })
	}, opts...)
	r.WebSocket("/stream", func(_ forge.Context, conn forge.Connection) error {
		msg := make([]byte, 1024)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-conn.Context().Done():
				return nil
			case <-tick.C:
			}
			if err := conn.Write(msg); err != nil {
				return err
			}
		}
	}, opts...)
	v.url = serveOn(t, v.app, net.JoinHostPort(addr, "0"))
	return v
}

// TestVanishedPeer: a client in a network namespace vanishes without a
// FIN or a RST, its link taken down or its address removed. The server
// notices within its keepalive and write timeouts (the test waits three
// times their sum), ends the connection, and keeps serving the others.
func TestVanishedPeer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		route string
		fault func(*netns, *testing.T)
	}{
		{"link down, idle connection", "/echo", (*netns).linkDown},
		{"link down, server writing", "/stream", (*netns).linkDown},
		{"address gone, idle connection", "/echo", (*netns).addrGone},
		{"address gone, server writing", "/stream", (*netns).addrGone},
		// A listening connection parks between messages: only its
		// keepalive timer can notice.
		{"link down, idle listening connection", "/listen", (*netns).linkDown},
		{"address gone, idle listening connection", "/listen", (*netns).addrGone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := newNetns(t)
			v := newVanishApp(t, ns.hostIP)
			srv := &forgetest.Server{URL: v.url}
			// A client in the test's namespace, served throughout.
			local := srv.Dial(t, "/steady", nil)
			echoOnce(t, local, "before")

			// The client in the namespace reads all the time, so that it
			// answers pings, until it vanishes.
			d := websocket.Dialer{NetDialContext: ns.dial, HandshakeTimeout: forgetest.Timeout}
			ws, _, err := d.Dial(srv.WebSocketURL(tc.route), nil)
			if err != nil {
				t.Fatalf("dial from the namespace: %v", err)
			}
			received := make(chan struct{}, 1)
			readDone := make(chan struct{})
			go func() {
				defer close(readDone)
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
					select {
					case received <- struct{}{}:
					default:
					}
				}
			}()
			defer func() { ws.Close(); <-readDone }()
			if tc.route != "/stream" {
				if err := ws.WriteMessage(websocket.TextMessage, []byte("from the namespace")); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-received:
			case <-time.After(forgetest.Timeout):
				t.Fatalf("nothing came to the client in the namespace")
			}
			if open := v.app.Stats().Open; open != 2 {
				t.Fatalf("Stats().Open = %d before the fault, want 2", open)
			}

			tc.fault(ns, t)
			var info connection.SessionInfo
			select {
			case info = <-v.sessions:
			case <-time.After(vanishBound):
				t.Fatalf("the server did not end the vanished peer's connection within %v", vanishBound)
			}
			t.Logf("session: code %d %q, %d messages out, after %v", info.Code, info.Reason, info.MessagesOut, info.Duration)
			for _, r := range v.logs.find(slog.LevelDebug, nil) {
				t.Logf("log: %s", r)
			}
			if info.Code == connection.CloseNormal || info.Reason == "" {
				t.Errorf("a vanished peer's session ended with %d %q, want a failure with its reason", info.Code, info.Reason)
			}
			// The session's observers run before the tracker lets go.
			testkit.WaitWithin(t, "Stats().Open back to 1", forgetest.Timeout, func() bool { return v.app.Stats().Open == 1 })
			echoOnce(t, local, "after")
		})
	}
}
