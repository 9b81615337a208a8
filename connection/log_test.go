package connection

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

func TestLogging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		h         func(*Conn) error
		client    func(*websocket.Conn)
		wantError bool
	}{
		{
			name: "peer closes normally: not an error",
			h:    echo,
			client: func(ws *websocket.Conn) {
				ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
				readClose(t, ws)
			},
		},
		{
			name:   "peer drops: not an error",
			h:      echo,
			client: func(ws *websocket.Conn) { ws.NetConn().Close() },
		},
		{
			name:      "handler fails: logged as an error with the connection id",
			h:         func(*Conn) error { return errors.New("database unavailable") },
			client:    func(ws *websocket.Conn) { readClose(t, ws) },
			wantError: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs testkit.Buffer
			logger := testkit.TextLogger(&logs)
			ids := make(chan string, 1)
			s := newServer(t, Config{Logger: logger}, func(c *Conn) error {
				ids <- c.ID()
				return tt.h(c)
			})
			tt.client(dial(t, s, nil))
			id := <-ids
			waitErr(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			s.tracker.Shutdown(ctx) // waits for the connection to finish
			out := logs.String()
			hasError := strings.Contains(out, "level=ERROR")
			if hasError != tt.wantError {
				t.Fatalf("error logged: %v, want %v\n%s", hasError, tt.wantError, out)
			}
			if tt.wantError && !strings.Contains(out, "conn_id="+id) {
				t.Fatalf("error log lacks conn_id=%s:\n%s", id, out)
			}
		})
	}
}

func TestCustomUpgrader(t *testing.T) {
	t.Parallel()
	up := &websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }, Subprotocols: []string{"x.v1"}}
	s := newServer(t, Config{Upgrader: up}, func(c *Conn) error { return c.Write([]byte(c.Subprotocol())) })
	ws := dial(t, s, http.Header{"Origin": {"https://elsewhere.example"}}, "x.v1")
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "x.v1" {
		t.Fatalf("got %q %v: the custom upgrader's origin check and subprotocols must apply", got, err)
	}
}

// TestLogRecordsNameTheirSource: a connection's records carry its ID and,
// for a handler with AddSource, the place in the package that logged them,
// not the helper they go through; a connection whose records are all
// below the handler's level builds no logger of its own.
func TestLogRecordsNameTheirSource(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))
	ids := make(chan string, 1)
	s := newServer(t, Config{Logger: logger}, func(c *Conn) error {
		ids <- c.ID()
		return errors.New("database unavailable")
	})
	readClose(t, dial(t, s, nil))
	id := <-ids
	waitErr(t, s)
	s.tracker.Shutdown(t.Context())
	sources := map[string]bool{}
	for line := range strings.Lines(logs.String()) {
		if !strings.Contains(line, "conn_id="+id) {
			t.Errorf("record without conn_id=%s: %s", id, line)
		}
		_, src, _ := strings.Cut(line, "source=")
		src, _, _ = strings.Cut(src, " ")
		if !strings.Contains(src, "/connection/") {
			t.Errorf("record's source is not in the package: %s", line)
		}
		sources[src] = true
	}
	if len(sources) < 3 { // connected, handler failed, closed
		t.Errorf("records from %d places, want every record's own (one helper's place would be one):\n%s", len(sources), logs.String())
	}
	if !strings.Contains(logs.String(), "websocket handler failed") {
		t.Fatalf("no record of the handler's failure:\n%s", logs.String())
	}

	quiet := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	conns := make(chan *Conn, 1)
	s = newServer(t, Config{Logger: quiet}, func(c *Conn) error {
		conns <- c
		return echo(c)
	})
	ws := dial(t, s, nil)
	c := <-conns
	ws.WriteMessage(websocket.TextMessage, []byte("x"))
	ws.ReadMessage()
	if c.idLog.Load() != nil {
		t.Fatal("a connection that logged nothing at the handler's level built a logger of its own")
	}
}
