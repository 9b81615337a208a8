package connection

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// server runs h behind connection.Serve on a loopback httptest server.
type server struct {
	*httptest.Server
	tracker *Tracker
	errs    chan error // handler results
}

func newServer(t *testing.T, cfg Config, h func(*Conn) error) *server {
	t.Helper()
	s := &server{tracker: &Tracker{}, errs: make(chan error, 64)}
	if cfg.Tracker == nil {
		cfg.Tracker = s.tracker
	} else {
		s.tracker = cfg.Tracker
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, &cfg, func(c *Conn) error {
			err := h(c)
			select {
			case s.errs <- err:
			default:
			}
			return err
		})
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.tracker.Shutdown(ctx)
		s.Server.Close()
	})
	return s
}

func (s *server) url() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func dial(t *testing.T, s *server, header http.Header, protos ...string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: protos, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(s.url(), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// readClose reads until the connection ends and returns the close code the
// server sent (or -1 for no close frame).
func readClose(t *testing.T, ws *websocket.Conn) (int, string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		return -1, err.Error()
	}
}

func waitErr(t *testing.T, s *server) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return")
		return nil
	}
}

func echo(c *Conn) error {
	for {
		typ, msg, err := c.ReadMessage(context.Background())
		if err != nil {
			return err
		}
		if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
			return err
		}
	}
}
