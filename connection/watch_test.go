package connection

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

// idleThenListen serves a handler that does not read until listen is
// closed, and then echoes through Listen, without keepalive (nothing but
// the poller resumes the listener); it returns the client and the
// connection once an idle pump has handed the socket to the poller.
func idleThenListen(t *testing.T) (*websocket.Conn, *Conn, chan struct{}) {
	t.Helper()
	conns := make(chan *Conn, 1)
	listen := make(chan struct{})
	s := newServer(t, Config{PingInterval: -1}, func(c *Conn) error {
		conns <- c
		<-listen
		return listenEcho(c)
	})
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	waitWatching(t, c)
	return ws, c, listen
}

// waitWatching waits until c's idle pump has handed the socket to the
// poller: no goroutine reads for the handler.
func waitWatching(t *testing.T, c *Conn) {
	t.Helper()
	waitParkedOn(t, &c.watch, "the idle connection is not watched")
}

// TestIdleHandlerIsWatched: a handler that does not read gets no pump
// goroutine while its peer is quiet. Pings are answered meanwhile, and a
// message that arrives is kept for the handler's next read.
func TestIdleHandlerIsWatched(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	conns := make(chan *Conn, 1)
	readNow := make(chan struct{})
	s := newServer(t, Config{}, func(c *Conn) error {
		conns <- c
		select {
		case <-readNow:
		case <-c.Context().Done():
			return nil
		}
		data, err := c.Read()
		if err != nil {
			return err
		}
		if err := c.Write(data); err != nil {
			return err
		}
		<-c.Context().Done()
		return nil
	})
	rc := dialRaw(t, s)
	c := takeConn(t, conns)
	waitWatching(t, c)
	for i := range 3 {
		p := fmt.Sprintf("ping %d", i)
		if err := rc.write(maskedFrame(opPing, []byte(p))); err != nil {
			t.Fatal(err)
		}
		expectFrame(t, rc, opPong, p)
		waitWatching(t, c)
	}
	if err := rc.write(maskedFrame(opText, []byte("kept"))); err != nil {
		t.Fatal(err)
	}
	// The pump reads it and keeps it; then the handler reads.
	testkit.WaitFor(t, "the message read for the handler", c.stashed.Load)
	close(readNow)
	expectFrame(t, rc, opText, "kept")
}

// TestIdleHandlerKeepalive: a watched connection whose peer answers no
// ping is closed with 1001 at its keepalive deadline; one whose peer
// answers every ping stays open.
func TestIdleHandlerKeepalive(t *testing.T) {
	t.Parallel()
	// The pong wait is generous, for a busy machine; the healthy peer's
	// test runs past ping interval plus pong wait.
	cfg := Config{PingInterval: 20 * time.Millisecond, PongWait: time.Second}
	t.Run("silent peer", func(t *testing.T) {
		t.Parallel()
		ended := make(chan error, 1)
		s := newServer(t, cfg, func(c *Conn) error {
			<-c.Context().Done()
			_, err := c.Read()
			ended <- err
			return nil
		})
		rc := dialRaw(t, s) // answers no ping
		for {
			op, got, err := rc.read()
			if err != nil {
				t.Fatalf("no close frame: %v", err)
			}
			if op == opPing {
				continue
			}
			if op != opClose || len(got) < 2 || StatusCode(got[0])<<8|StatusCode(got[1]) != CloseGoingAway {
				t.Fatalf("opcode %#x %q, want a close frame with 1001", op, got)
			}
			break
		}
		if err := <-ended; !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "keepalive") {
			t.Fatalf("read after the end: %v, want the keepalive's ErrClosed", err)
		}
	})
	t.Run("healthy peer", func(t *testing.T) {
		t.Parallel()
		conns := make(chan *Conn, 1)
		s := newServer(t, cfg, func(c *Conn) error {
			conns <- c
			<-c.Context().Done()
			return nil
		})
		ws := dial(t, s, nil)
		c := takeConn(t, conns)
		// 2 s: past ping interval plus pong wait.
		answerPings(t, ws, c, 100)
	})
}

// TestIdleHandlerThenListens: a handler that waited past the first idle
// pump, which watches the socket, and then calls Listen takes the socket
// over from the watch.
func TestIdleHandlerThenListens(t *testing.T) {
	t.Parallel()
	conns := make(chan *Conn, 1)
	s := newServer(t, Config{}, func(c *Conn) error {
		conns <- c
		time.Sleep(3 * pumpGrace)
		return listenEcho(c)
	})
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	for i := range 5 {
		m := fmt.Appendf(nil, "m%d", i)
		if err := ws.WriteMessage(websocket.TextMessage, m); err != nil {
			t.Fatal(err)
		}
		expectInOrder(t, ws, 1, func(int) []byte { return m })
	}
	if c.watch.Load() != nil {
		t.Fatal("the watch is still registered beside the listener")
	}
}

// TestIdleHandlerThenListensLateArm: an idle pump gives the read side back
// before it parks its watch, so it may park it only after the handler
// called Listen and the listener took the socket's registration and parked
// (the pump's goroutine was descheduled in between). That late park must
// not take the listener's reports: the listener still gets the next
// message. The test plays the late pump's part itself.
func TestIdleHandlerThenListensLateArm(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	ws, c, listen := idleThenListen(t)
	w := c.watch.Load()
	close(listen)
	waitParked(t, c)
	// What the late idle pump does once it has given the read side back.
	if !w.park() {
		c.startPump() // as the pump would: a no-op on a listening connection
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("after")); err != nil {
		t.Fatal(err)
	}
	expectInOrder(t, ws, 1, func(int) []byte { return []byte("after") })
}

// TestIdleHandlerThenListensAfterReport: input that arrives after the idle
// pump read a message for the handler, and before the handler calls
// Listen, is reported to the watch (which is running: its pump read). The
// listener that takes the watch's registration over must still read it,
// though the pump's last read left the socket empty then.
func TestIdleHandlerThenListensAfterReport(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	ws, c, listen := idleThenListen(t)
	w := c.watch.Load()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("first")); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the message read for the handler", c.stashed.Load)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("second")); err != nil {
		t.Fatal(err)
	}
	// The poller's report of it goes to the watch.
	testkit.WaitFor(t, "the input reported to the watch", func() bool { return w.state.Load() == notified })
	close(listen)
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{"first", "second"} {
		_, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// TestIdleHandlerPumpStartedWhileParked: the keepalive timer (or
// PeriodicWrite) starts an idle pump while the watch is parked. Input that
// arrives after that pump's look, before it parks the watch again, is
// reported while the pump holds the read side: the report's pump cannot
// start, and the pump that looked must not park over it. Without
// keepalive, nothing else would read the input.
func TestIdleHandlerPumpStartedWhileParked(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	conns := make(chan *Conn, 1)
	s := newServer(t, Config{PingInterval: -1}, func(c *Conn) error {
		conns <- c
		<-c.Context().Done()
		return nil
	})
	rc := dialRaw(t, s)
	c := takeConn(t, conns)
	for i := range 2000 {
		waitWatching(t, c)
		go c.startPump() // as the keepalive timer does
		for range i % 8 {
			runtime.Gosched()
		}
		p := fmt.Sprint(i)
		if err := rc.write(maskedFrame(opPing, []byte(p))); err != nil {
			t.Fatal(err)
		}
		rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		expectFrame(t, rc, opPong, p)
	}
}
