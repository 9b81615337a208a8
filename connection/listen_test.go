package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

// listenEcho is an echo handler that hands its reads to Listen.
func listenEcho(c *Conn) error {
	return c.Listen(func(typ MessageType, data []byte) error {
		return c.WriteMessage(context.Background(), typ, data)
	})
}

// listening runs h behind a server and hands the test the connection.
func listening(t *testing.T, cfg Config, fn func(c *Conn, typ MessageType, data []byte) error) (*server, <-chan *Conn) {
	t.Helper()
	conns := make(chan *Conn, 16)
	s := newServer(t, cfg, func(c *Conn) error {
		conns <- c
		return c.Listen(func(typ MessageType, data []byte) error { return fn(c, typ, data) })
	})
	return s, conns
}

func takeConn(t *testing.T, conns <-chan *Conn) *Conn {
	t.Helper()
	select {
	case c := <-conns:
		return c
	case <-time.After(hangGuard):
		t.Fatal("no connection")
		return nil
	}
}

// waitParked waits until c's listener is parked: no goroutine runs it.
func waitParked(t *testing.T, c *Conn) {
	t.Helper()
	waitParkedOn(t, &c.lis, "the listening connection did not park")
}

// waitParkedOn waits until the listener or watch in p is parked.
func waitParkedOn(t *testing.T, p *atomic.Pointer[listener], failure string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for {
		if l := p.Load(); l != nil && l.state.Load() == parked {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(failure)
		}
		time.Sleep(time.Millisecond)
	}
}

// parkedEcho serves an echo through Listen and returns a raw client of it
// and its connection, once parked.
func parkedEcho(t *testing.T) (*rawClient, *Conn) {
	t.Helper()
	s, conns := listening(t, Config{}, func(c *Conn, typ MessageType, data []byte) error {
		return c.WriteMessage(context.Background(), typ, data)
	})
	rc := dialRaw(t, s)
	c := takeConn(t, conns)
	waitParked(t, c)
	return rc, c
}

func TestListenEchoesInOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, listenEcho)
	ws := dial(t, s, nil)
	msg := func(i int) []byte { return fmt.Appendf(nil, "m%d", i) }
	typ := func(i int) int {
		if i%3 == 0 {
			return websocket.BinaryMessage
		}
		return websocket.TextMessage
	}
	// One at a time: the connection parks between them.
	for i := range 50 {
		if err := ws.WriteMessage(typ(i), msg(i)); err != nil {
			t.Fatal(err)
		}
		expectInOrder(t, ws, 1, func(int) []byte { return msg(i) })
	}
	// Back to back: read together.
	for i := range 500 {
		if err := ws.WriteMessage(typ(i), msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	expectInOrder(t, ws, 500, msg)
	if err := waitErr(t, s); !errors.Is(err, ErrListening) {
		t.Fatalf("handler returned %v, want ErrListening", err)
	}
}

// TestListenParksBetweenMessages checks that a listening connection holds
// no goroutine between messages, and answers pings and pongs (masked with
// a real key) itself without leaving a goroutine waiting in gorilla's
// reader.
func TestListenParksBetweenMessages(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	rc, c := parkedEcho(t)
	for i := range 3 {
		p := fmt.Sprintf("ping %d", i)
		if err := rc.write(maskedFrame(opPing, []byte(p))); err != nil {
			t.Fatal(err)
		}
		expectFrame(t, rc, opPong, p)
		waitParked(t, c)
		if err := rc.write(maskedFrame(opPong, []byte("unsolicited")), maskedFrame(opText, []byte(p))); err != nil {
			t.Fatal(err)
		}
		expectFrame(t, rc, opText, p)
		waitParked(t, c)
	}
}

// expectFrame reads the next frame from rc and fails unless it has opcode
// op and payload want.
func expectFrame(t *testing.T, rc *rawClient, op byte, want string) {
	t.Helper()
	if gotOp, got, err := rc.read(); err != nil || gotOp != op || string(got) != want {
		t.Fatalf("opcode %#x %q, %v; want opcode %#x %q", gotOp, got, err, op, want)
	}
}

// maskedFrame encodes a small final client frame masked with a key that
// changes the payload.
func maskedFrame(opcode byte, payload []byte) []byte {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b := []byte{0x80 | opcode, 0x80 | byte(len(payload))}
	b = append(b, key[:]...)
	for i, x := range payload {
		b = append(b, x^key[i&3])
	}
	return b
}

func TestListenKeepaliveClosesUnresponsivePeer(t *testing.T) {
	t.Parallel()
	s, conns := listening(t, Config{PingInterval: 50 * time.Millisecond, PongWait: 100 * time.Millisecond},
		func(*Conn, MessageType, []byte) error { return nil })
	rc := dialRaw(t, s) // answers no ping
	c := takeConn(t, conns)
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
	select {
	case <-c.Context().Done():
	case <-time.After(hangGuard):
		t.Fatal("context not done")
	}
	c.rmu.Lock()
	rerr := c.rerr
	c.rmu.Unlock()
	if !strings.Contains(fmt.Sprint(rerr), "keepalive") {
		t.Fatalf("read error %v, want the keepalive's", rerr)
	}
}

func TestListenSparesHealthyPeer(t *testing.T) {
	t.Parallel()
	// A pong may take a while on a busy machine: the pong wait is
	// generous, and the test runs for about twice ping interval plus
	// pong wait, which a connection that did not see the pongs would not
	// survive.
	s, conns := listening(t, Config{PingInterval: 20 * time.Millisecond, PongWait: time.Second},
		func(*Conn, MessageType, []byte) error { return nil })
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	// A hundred pings answered: 2 s without a data message, past ping
	// interval plus pong wait.
	answerPings(t, ws, c, 100)
}

// answerPings has ws answer every ping c sends and fails if c ends before
// n pings came.
func answerPings(t *testing.T, ws *websocket.Conn, c *Conn, n int) {
	t.Helper()
	pings := make(chan struct{}, 64)
	ws.SetPingHandler(func(p string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return ws.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(time.Second))
	})
	go ws.ReadMessage() // answers pings until the test closes ws
	for range n {
		select {
		case <-pings:
		case <-c.Context().Done():
			t.Fatal("a peer that answers every ping was closed")
		case <-time.After(hangGuard):
			t.Fatal("no ping")
		}
	}
	if c.Context().Err() != nil {
		t.Fatal("a peer that answers every ping was closed")
	}
}

func TestListenClosedWhileParked(t *testing.T) {
	t.Parallel()
	s, conns := listening(t, Config{}, func(*Conn, MessageType, []byte) error { return nil })
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	if canPoll {
		waitParked(t, c)
	}
	c.CloseWith(4000, "bye")
	if code, reason := readClose(t, ws); code != 4000 || reason != "bye" {
		t.Fatalf("close %d %q, want 4000 bye", code, reason)
	}
}

func TestListenShutdown(t *testing.T) {
	t.Parallel()
	s, conns := listening(t, Config{}, func(*Conn, MessageType, []byte) error { return nil })
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	if canPoll {
		waitParked(t, c)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		done <- s.tracker.Shutdown(ctx)
	}()
	if code, _ := readClose(t, ws); code != int(CloseGoingAway) {
		t.Fatalf("close %d, want 1001", code)
	}
	ws.Close()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := s.tracker.Stats().Open; n != 0 {
		t.Fatalf("%d connections open after Shutdown", n)
	}
}

func TestListenCallbackEndsConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		code int
	}{
		{"fail", 4001},
		{"panic", int(CloseInternalError)},
		{"close", int(CloseNormal)},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			t.Parallel()
			s, _ := listening(t, Config{}, func(c *Conn, _ MessageType, data []byte) error {
				switch string(data) {
				case "fail":
					return &CloseError{Code: 4001, Reason: "no"}
				case "panic":
					panic("listener bug")
				case "close":
					return c.Close()
				}
				return nil
			})
			ws := dial(t, s, nil)
			if err := ws.WriteMessage(websocket.TextMessage, []byte("ignored")); err != nil {
				t.Fatal(err)
			}
			if err := ws.WriteMessage(websocket.TextMessage, []byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			if code, reason := readClose(t, ws); code != tt.code {
				t.Fatalf("close %d %q, want %d", code, reason, tt.code)
			}
		})
	}
}

// TestListenAfterPump has the handler call Listen only after a pump began
// reading for it: the message the pump read is delivered first.
func TestListenAfterPump(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		time.Sleep(3 * pumpGrace)
		return listenEcho(c)
	})
	ws := dial(t, s, nil)
	for _, m := range []string{"early", "later"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	expectInOrder(t, ws, 2, func(i int) []byte { return []byte([]string{"early", "later"}[i]) })
}

// TestListenWithoutPoller covers the fallback, a goroutine reading for the
// listener: here because the route reads through a buffer of gorilla's own
// (as over TLS, or where there is no poller).
func TestListenWithoutPoller(t *testing.T) {
	t.Parallel()
	s, conns := listening(t, Config{Upgrader: &websocket.Upgrader{ReadBufferSize: 1024}},
		func(c *Conn, typ MessageType, data []byte) error {
			return c.WriteMessage(context.Background(), typ, data)
		})
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	for i := range 20 {
		m := fmt.Appendf(nil, "m%d", i)
		if err := ws.WriteMessage(websocket.TextMessage, m); err != nil {
			t.Fatal(err)
		}
		expectInOrder(t, ws, 1, func(int) []byte { return m })
	}
	if l := c.lis.Load(); !l.noPoll.Load() {
		t.Fatal("the listener was given to the poller")
	}
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	if code, _ := readClose(t, ws); code != 1000 {
		t.Fatalf("close %d, want 1000", code)
	}
}

// TestListenRateLimitedKeepsListening drops messages over the rate with an
// error event and goes on listening.
func TestListenRateLimitedKeepsListening(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	s, conns := listening(t, Config{MessageRate: 0.001, MessageBurst: 1}, func(*Conn, MessageType, []byte) error {
		got.Add(1)
		return nil
	})
	rc := dialRaw(t, s)
	c := takeConn(t, conns)
	if err := rc.write(clientFrame(opText, []byte("one")), clientFrame(opText, []byte("two"))); err != nil {
		t.Fatal(err)
	}
	op, p, err := rc.read()
	if err != nil || op != opText || !strings.Contains(string(p), "rate_limited") {
		t.Fatalf("opcode %#x %q, %v; want the rate-limit error event", op, p, err)
	}
	if canPoll {
		waitParked(t, c)
	}
	if n := got.Load(); n != 1 {
		t.Fatalf("%d messages delivered, want 1", n)
	}
}

func TestListenTwice(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		noop := func(MessageType, []byte) error { return nil }
		if err := c.Listen(noop); !errors.Is(err, ErrListening) {
			return err
		}
		if err := c.Listen(noop); err == nil || errors.Is(err, ErrListening) {
			return fmt.Errorf("second Listen: %v, want a failure", err)
		}
		if err := c.Listen(nil); err == nil || errors.Is(err, ErrListening) {
			return fmt.Errorf("Listen(nil): %v, want a failure", err)
		}
		return ErrListening
	})
	ws := dial(t, s, nil)
	if err := waitErr(t, s); !errors.Is(err, ErrListening) {
		t.Fatal(err)
	}
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	if code, _ := readClose(t, ws); code != 1000 {
		t.Fatalf("close %d, want 1000", code)
	}
}

// TestListenIdleFootprint holds idle listening connections: none holds a
// goroutine, and each still echoes afterwards.
func TestListenIdleFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process of 500 clients")
	}
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	f := measureIdle(t, 500, Config{}, listenEcho, true)
	t.Logf("per idle listening connection: %.0f B of heap, %.0f B of stack, %.3f goroutines", f.heap, f.stack, f.goroutines)
	if f.goroutines > 0.01 {
		t.Errorf("%.3f goroutines per idle listening connection, want 0", f.goroutines)
	}
	if f.heap > idleHeapBudget {
		t.Errorf("%.0f B of heap per idle connection, want at most %d", f.heap, idleHeapBudget)
	}
}

// TestListenManyConnections runs many listening connections at once, with
// pings among the messages, and then drops half of them without a closing
// handshake: every echo comes back in order, and every connection ends.
func TestListenManyConnections(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, listenEcho)
	const conns, msgs = 32, 100
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Go(func() {
			d := websocket.Dialer{HandshakeTimeout: hangGuard}
			ws, _, err := d.Dial(s.url(), nil)
			if err != nil {
				errs <- err
				return
			}
			defer ws.Close()
			ws.SetReadDeadline(time.Now().Add(hangGuard))
			for j := range msgs {
				if j%7 == 0 {
					if err := ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(hangGuard)); err != nil {
						errs <- err
						return
					}
				}
				if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "%d/%d", i, j)); err != nil {
					errs <- err
					return
				}
				if j%10 != 9 {
					continue
				}
				for k := j - 9; k <= j; k++ {
					_, got, err := ws.ReadMessage()
					if err != nil {
						errs <- err
						return
					}
					if want := fmt.Sprintf("%d/%d", i, k); string(got) != want {
						errs <- fmt.Errorf("got %q, want %q", got, want)
						return
					}
				}
			}
			if i%2 == 0 {
				ws.UnderlyingConn().Close() // dropped, no close frame
				return
			}
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(hangGuard))
			if code, _, _ := testkit.ReadClose(ws); code != 1000 {
				errs <- fmt.Errorf("close %d, want 1000", code)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	deadline := time.Now().Add(hangGuard)
	for s.tracker.Stats().Open > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open", s.tracker.Stats().Open)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestListenCompressed echoes compressed messages, small and larger than
// a read chunk, sent one at a time and back to back, to a listening
// connection.
func TestListenCompressed(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Compression: true, CompressionMinSize: 64}, listenEcho)
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: hangGuard}
	ws, _, err := d.Dial(s.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	msg := func(i int) []byte { return fmt.Appendf(nil, "%04d:%s", i, strings.Repeat("abcd", i*7)) }
	for i := range 20 {
		if err := ws.WriteMessage(websocket.TextMessage, msg(i)); err != nil {
			t.Fatal(err)
		}
		expectInOrder(t, ws, 1, func(int) []byte { return msg(i) })
	}
	for i := range 200 {
		if err := ws.WriteMessage(websocket.TextMessage, msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	expectInOrder(t, ws, 200, msg)
}
