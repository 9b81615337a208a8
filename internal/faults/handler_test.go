package faults

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

// handlerApp serves /echo beside routes whose handlers fail: /panic panics
// on its first message, /block blocks until release is closed whatever
// happens to its connection, and /events runs a dispatcher whose "leak"
// event starts a GoSafe goroutine that ignores its context until release
// is closed, and whose "boom" event panics.
type handlerApp struct {
	app     *forge.App
	logs    *logSink
	release chan struct{}
	blocked chan struct{} // one send per /block handler that started
	leaked  chan struct{} // one send per GoSafe goroutine that started

	dispatcher *events.Dispatcher
}

func newHandlerApp(t *testing.T) *handlerApp {
	t.Helper()
	h := &handlerApp{
		logs:    &logSink{},
		release: make(chan struct{}),
		blocked: make(chan struct{}, 16),
		leaked:  make(chan struct{}, 16),
	}
	h.app = forge.New(forge.WithAppName("faults"), forge.WithLogger(h.logs.logger()))
	r := h.app.Router()
	r.WebSocket("/echo", echoHandler)
	r.WebSocket("/panic", func(_ forge.Context, conn forge.Connection) error {
		if _, err := conn.Read(); err != nil {
			return err
		}
		panic("faults: the handler panics")
	})
	r.WebSocket("/block", func(forge.Context, forge.Connection) error {
		h.blocked <- struct{}{}
		<-h.release // neither the connection's end nor Shutdown stops it
		return nil
	})
	// The same faults in a listener's callback (Connection.Listen).
	r.WebSocket("/listen-panic", func(_ forge.Context, conn forge.Connection) error {
		return conn.Listen(func(forge.MessageType, []byte) error {
			panic("faults: the handler panics")
		})
	})
	r.WebSocket("/listen-block", func(_ forge.Context, conn forge.Connection) error {
		return conn.Listen(func(forge.MessageType, []byte) error {
			h.blocked <- struct{}{}
			<-h.release
			return nil
		})
	})
	d := events.New(events.WithLogger(h.logs.logger()))
	events.On(d, "leak", func(c *events.Context, _ struct{}) error {
		c.GoSafe(c.ConnContext(), func(context.Context) {
			h.leaked <- struct{}{}
			<-h.release // ignores its context
		})
		return nil
	})
	events.On(d, "boom", func(*events.Context, struct{}) error {
		panic("faults: the event handler panics")
	})
	events.Route(r, "/events", d)
	h.dispatcher = d
	return h
}

func echoHandler(_ forge.Context, conn forge.Connection) error {
	return testkit.Echo(conn)
}

// serve serves h.app on a loopback port; the test shuts it down itself
// and reads Serve's result from the channel. The cleanup releases the
// stuck goroutines and shuts down again, for a test that failed early.
func (h *handlerApp) serve(t *testing.T) (*forgetest.Server, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- h.app.Serve(l) }()
	t.Cleanup(func() {
		close(h.release)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = h.app.Shutdown(ctx) // the test's own Shutdown was checked already
	})
	return &forgetest.Server{URL: "http://" + l.Addr().String()}, served
}

// faultLogs returns the Warn and Error records about route: those whose
// route attribute is its pattern.
func (h *handlerApp) faultLogs(route string) []logRecord {
	return h.logs.find(slog.LevelWarn, func(r logRecord) bool { return r.attrs["route"] == route })
}

// echoOnce sends s on ws and fails unless it comes back.
func echoOnce(t *testing.T, ws *forgetest.Conn, s string) {
	t.Helper()
	ws.SendText(s)
	if got := ws.ReadText(); got != s {
		t.Fatalf("echo: got %q, want %q", got, s)
	}
}

// TestHandlerPanics: a handler that panics gets its client a 1011, the
// other clients keep being served, and the panic is logged once, at
// Error, with the route and the stack.
func TestHandlerPanics(t *testing.T) {
	t.Parallel()
	h := newHandlerApp(t)
	srv, _ := h.serve(t)
	echo := srv.Dial(t, "/echo", nil)
	echoOnce(t, echo, "before")

	const n = 3
	for _, route := range []string{"/panic", "/listen-panic"} {
		for i := range n {
			ws := srv.Dial(t, route, nil)
			ws.SendText("go")
			if reason := ws.ExpectClose(websocket.CloseInternalServerErr); reason == "" {
				t.Errorf("%s, panic %d: the 1011 has no reason", route, i)
			}
			echoOnce(t, echo, "after panic")
		}
		recs := h.faultLogs(route)
		if len(recs) != n {
			t.Errorf("%s: %d panics logged %d records at Warn or above, want one each:\n%s", route, n, len(recs), joinRecords(recs))
		}
		for _, r := range recs {
			if r.level != slog.LevelError || r.attrs["stack"] == "" || !strings.Contains(r.attrs["panic"], "the handler panics") {
				t.Errorf("%s: want an Error with the panic and its stack, got %s", route, r)
			}
		}
	}
}

// TestEventHandlerPanics: an events handler that panics is answered with
// an error event and the connection goes on, as the events package
// documents; each panic is logged once, at Error, with its route, event
// and stack, and counted.
func TestEventHandlerPanics(t *testing.T) {
	t.Parallel()
	h := newHandlerApp(t)
	srv, _ := h.serve(t)
	echo := srv.Dial(t, "/echo", nil)
	ws := srv.Dial(t, "/events", nil)
	const n = 3
	for i := range n {
		ws.SendText(`{"event":"boom","id":"` + strconv.Itoa(i) + `"}`)
		var answer struct {
			Event string `json:"event"`
			ID    string `json:"id"`
		}
		ws.ReadJSON(&answer)
		if answer.Event != "error" || answer.ID != strconv.Itoa(i) {
			t.Errorf("panic %d answered with %+v, want an error event with its id", i, answer)
		}
		echoOnce(t, echo, "after boom")
	}
	recs := h.faultLogs("/events")
	if len(recs) != n {
		t.Errorf("%d panics logged %d records at Warn or above, want one each:\n%s", n, len(recs), joinRecords(recs))
	}
	for _, r := range recs {
		if r.level != slog.LevelError || r.attrs["event"] != "boom" || r.attrs["stack"] == "" || r.attrs["conn_id"] == "" || r.attrs["route"] != "/events" {
			t.Errorf("want an Error with the route, the event, the connection and the stack, got %s", r)
		}
	}
	if got := h.dispatcher.Stats().Panics; got != n {
		t.Errorf("Stats().Panics = %d, want %d", got, n)
	}
}

// TestStuckHandlersAndShutdown: a handler that blocks forever, a GoSafe
// goroutine that ignores its context and a listener's callback that blocks
// forever do not stop the server serving other clients, and Shutdown still
// returns, with the context's error, by its deadline, after every client
// that could be closed got 1001. Each stuck handler is logged once, at
// Error, with its route; the stuck connections stay counted in
// Stats().Open.
func TestStuckHandlersAndShutdown(t *testing.T) {
	t.Parallel()
	h := newHandlerApp(t)
	srv, served := h.serve(t)
	echo := srv.Dial(t, "/echo", nil)

	blocked := srv.Dial(t, "/block", nil)
	<-h.blocked
	leaky := srv.Dial(t, "/events", nil)
	leaky.SendText(`{"event":"leak"}`)
	<-h.leaked
	stuckListener := srv.Dial(t, "/listen-block", nil)
	stuckListener.SendText("go")
	<-h.blocked
	// The clients of all three leave; their handlers stay.
	blocked.Close()
	leaky.Close()
	stuckListener.Close()
	echoOnce(t, echo, "with stuck handlers")
	// A new client is served too.
	echoOnce(t, srv.Dial(t, "/echo", nil), "a newcomer")

	const timeout = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.app.Shutdown(ctx) }()
	echo.ExpectClose(websocket.CloseGoingAway)
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown with stuck handlers: %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * timeout):
		t.Fatalf("Shutdown did not return within 10× its timeout")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * timeout):
		t.Fatalf("Serve did not return after Shutdown")
	}
	// What forge said about the handlers it gave up on.
	for _, route := range []string{"/block", "/events", "/listen-block"} {
		recs := h.faultLogs(route)
		if len(recs) != 1 || recs[0].level != slog.LevelError || recs[0].attrs["conn_id"] == "" {
			t.Errorf("the stuck handler of %s was logged as:\n%s\nwant one Error with its connection", route, joinRecords(recs))
		}
	}
	if open := h.app.Stats().Open; open != 3 {
		t.Errorf("after Shutdown gave up, Stats().Open = %d, want the 3 stuck connections", open)
	}
}

func joinRecords(rs []logRecord) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("\t" + r.String() + "\n")
	}
	return b.String()
}
