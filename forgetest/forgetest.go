// Package forgetest runs a forge application on a loopback port for tests
// and talks to its routes like a real client would.
//
//	srv := forgetest.Start(t, app)
//	ws := srv.Dial(t, "/ws/echo", nil)
//	ws.SendText("hi")
//	if got := ws.ReadText(); got != "hi" { ... }
//
// Everything goes over real TCP on 127.0.0.1 with gorilla/websocket as the
// client; nothing is mocked. Start registers a cleanup that shuts the app
// down gracefully and fails the test if serving did not end cleanly.
package forgetest

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

// App is what Start needs of an application; *forge.App has it.
type App interface {
	Serve(l net.Listener) error
	Shutdown(ctx context.Context) error
}

// Timeout bounds every wait of this package: dialing, reading, shutdown.
const Timeout = testkit.Timeout

// Server is an application serving on a loopback port.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:PORT".
	URL string
}

// Start serves app on a free loopback port until the test ends.
func Start(t testing.TB, app App) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("forgetest: listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("forgetest: shutdown: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("forgetest: serve: %v", err)
			}
		case <-time.After(Timeout):
			t.Errorf("forgetest: Serve did not return after Shutdown")
		}
	})
	return &Server{URL: "http://" + l.Addr().String()}
}

// WebSocketURL returns the ws:// URL of path (which may carry a query).
func (s *Server) WebSocketURL(path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

// Dial opens a WebSocket connection to path, failing the test if the
// handshake does not succeed. The connection is closed when the test ends.
func (s *Server) Dial(t testing.TB, path string, header http.Header, subprotocols ...string) *Conn {
	t.Helper()
	ws := testkit.Dial(t, s.WebSocketURL(path), header, subprotocols...)
	return &Conn{Conn: ws, t: t}
}

// DialErr opens a WebSocket connection to path and returns the handshake's
// outcome, for tests that expect a refusal. A returned connection is the
// caller's to close.
func (s *Server) DialErr(path string, header http.Header, subprotocols ...string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: Timeout, Subprotocols: subprotocols}
	ws, resp, err := d.Dial(s.WebSocketURL(path), header)
	if resp != nil && resp.Body != nil && err == nil {
		resp.Body.Close()
	}
	return ws, resp, err
}

// Conn is a client connection whose helpers fail the test on error.
type Conn struct {
	*websocket.Conn
	t testing.TB
}

// SendText sends s as a text message.
func (c *Conn) SendText(s string) {
	c.t.Helper()
	c.SetWriteDeadline(time.Now().Add(Timeout))
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("forgetest: send: %v", err)
	}
}

// SendJSON sends v as a JSON text message.
func (c *Conn) SendJSON(v any) {
	c.t.Helper()
	c.SetWriteDeadline(time.Now().Add(Timeout))
	if err := c.WriteJSON(v); err != nil {
		c.t.Fatalf("forgetest: send: %v", err)
	}
}

// ReadText reads the next message as text.
func (c *Conn) ReadText() string {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	_, data, err := c.ReadMessage()
	if err != nil {
		c.t.Fatalf("forgetest: read: %v", err)
	}
	return string(data)
}

// ReadJSON reads the next message into v.
func (c *Conn) ReadJSON(v any) {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	if err := c.Conn.ReadJSON(v); err != nil {
		c.t.Fatalf("forgetest: read JSON: %v", err)
	}
}

// Event is a message of forge's events protocol (package events): an
// event name, the id that pairs a request with its answer, and a JSON
// payload.
type Event struct {
	Event   string          `json:"event"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// SendEvent sends an Event with payload encoded as JSON; a nil payload
// leaves the payload out. id may be empty, for an event that is not a
// request.
func (c *Conn) SendEvent(event, id string, payload any) {
	c.t.Helper()
	var p json.RawMessage
	if payload != nil {
		var err error
		if p, err = json.Marshal(payload); err != nil {
			c.t.Fatalf("forgetest: payload of %s: %v", event, err)
		}
	}
	c.SendJSON(Event{Event: event, ID: id, Payload: p})
}

// ExpectEvent reads the next message, fails the test unless it is an
// Event named event with id, and decodes its payload into v unless v is
// nil.
func (c *Conn) ExpectEvent(event, id string, v any) {
	c.t.Helper()
	var e Event
	c.ReadJSON(&e)
	if e.Event != event || e.ID != id {
		c.t.Fatalf("forgetest: got %s %q %s, want %s %q", e.Event, e.ID, e.Payload, event, id)
	}
	if v != nil {
		if err := json.Unmarshal(e.Payload, v); err != nil {
			c.t.Fatalf("forgetest: payload of %s: %v", event, err)
		}
	}
}

// ExpectClose reads until the server closes the connection and fails the
// test unless the close code is code. It returns the close reason. Data
// messages that arrive first are discarded.
func (c *Conn) ExpectClose(code int) string {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	got, reason, err := testkit.ReadClose(c.Conn)
	if err != nil {
		c.t.Fatalf("forgetest: want close %d, got %v", code, err)
	}
	if got != code {
		c.t.Fatalf("forgetest: close code %d (%q), want %d", got, reason, code)
	}
	return reason
}
