package connection

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
)

func TestKeepaliveClosesUnresponsivePeer(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 1)
	s := newServer(t, Config{PingInterval: 50 * time.Millisecond, PongWait: 100 * time.Millisecond}, func(c *Conn) error {
		_, err := c.Read()
		<-c.Context().Done()
		ended <- err
		return err
	})
	ws := dial(t, s, nil)
	_ = ws // never reads, so never answers a ping
	select {
	case err := <-ended:
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "keepalive") {
			t.Fatalf("read error %v, want a keepalive ErrClosed", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("unresponsive peer was not closed")
	}
}

func TestKeepaliveSparesHealthyPeerOfIdleHandler(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ws := servePipe(t, Config{PingInterval: 20 * time.Millisecond, PongWait: 40 * time.Millisecond}, func(c *Conn) error {
			time.Sleep(600 * time.Millisecond) // 10× the keepalive window, not reading
			data, err := c.Read()
			if err != nil {
				return err
			}
			return c.Write(data)
		})
		ws.WriteMessage(websocket.TextMessage, []byte("still here"))
		pings := 0
		ws.SetPingHandler(func(string) error {
			pings++
			// A pipe holds no bytes: the pong waits, as it would in a
			// socket's buffer, until the server reads.
			go ws.WriteControl(websocket.PongMessage, nil, time.Time{})
			return nil
		})
		_, got, err := ws.ReadMessage() // reading answers pings
		if err != nil || string(got) != "still here" {
			t.Fatalf("got %q, %v: a healthy peer was closed while its handler was busy", got, err)
		}
		if pings < 25 {
			t.Fatalf("saw %d pings in 600 ms with a 20 ms interval, want keepalive running", pings)
		}
	})
}

func TestKeepaliveDisabled(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{PingInterval: -1}, echo)
	ws := dial(t, s, nil)
	ws.WriteMessage(websocket.TextMessage, []byte("x"))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "x" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestShutdownClosesWith1001AndWaits(t *testing.T) {
	t.Parallel()
	returned := make(chan struct{}, 3)
	s := newServer(t, Config{}, func(c *Conn) error {
		defer func() { returned <- struct{}{} }()
		return echo(c)
	})
	var clients []*websocket.Conn
	for range 3 {
		clients = append(clients, dial(t, s, nil))
	}
	for s.tracker.Stats().Open != 3 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	codes := make(chan int, 3)
	for _, ws := range clients {
		go func() { code, _ := readClose(t, ws); codes <- code }()
	}
	if err := s.tracker.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if len(returned) != 3 {
		t.Fatalf("%d handlers returned before Shutdown did, want 3", len(returned))
	}
	for range 3 {
		if code := <-codes; code != 1001 {
			t.Fatalf("close %d, want 1001", code)
		}
	}
	// After shutdown, upgrades are refused.
	_, resp, err := websocket.DefaultDialer.Dial(s.url(), nil)
	if err == nil || resp.StatusCode != 503 {
		t.Fatalf("upgrade after shutdown: %v %v", err, resp)
	}
}

// TestShutdownDeadlineDropsStuckPeers: a peer that never answers the close
// frame is dropped when Shutdown's context ends, long before the close
// timeout (an hour here) would let it go.
func TestShutdownDeadlineDropsStuckPeers(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{CloseTimeout: time.Hour}, func(c *Conn) error {
		<-c.Context().Done()
		return nil
	})
	c := dialRaw(t, s) // never answers the close frame
	for s.tracker.Stats().Open != 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.tracker.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v", err)
	}
	if op, got, err := c.read(); err != nil || op != opClose {
		t.Fatalf("opcode %#x %q, %v; want the close frame", op, got, err)
	}
	if _, _, err := c.read(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the close frame: %v; want the connection dropped", err)
	}
	waitErr(t, s)
}

func TestUpgradeRacingShutdownIsNeverLost(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{}, echo)
			done := make(chan error, 1)
			go func() {
				ws, resp, err := websocket.DefaultDialer.Dial(s.url(), nil)
				if err != nil {
					if resp == nil || resp.StatusCode != 503 {
						done <- fmt.Errorf("refused without 503: %v", err)
						return
					}
					done <- nil
					return
				}
				defer ws.Close()
				code, _ := readClose(t, ws)
				if code != 1001 {
					done <- fmt.Errorf("served, then closed with %d, want 1001", code)
					return
				}
				done <- nil
			}()
			time.Sleep(time.Duration(i) * 100 * time.Microsecond)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s.tracker.Shutdown(ctx)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPanicDoesNotStopServer(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		data, _ := c.Read()
		if string(data) == "panic" {
			panic("handler bug")
		}
		return c.Write(data)
	})
	a := dial(t, s, nil)
	a.WriteMessage(websocket.TextMessage, []byte("panic"))
	if code, _ := readClose(t, a); code != 1011 {
		t.Fatalf("close %d", code)
	}
	b := dial(t, s, nil)
	b.WriteMessage(websocket.TextMessage, []byte("fine"))
	if _, got, err := b.ReadMessage(); err != nil || string(got) != "fine" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestShutdownFlushesBefore1001(t *testing.T) {
	t.Parallel()
	const n = 500
	queued := make(chan struct{})
	s := newServer(t, Config{}, func(c *Conn) error {
		for i := range n {
			c.Write([]byte(fmt.Sprint(i)))
		}
		close(queued)
		<-c.Context().Done()
		return nil
	})
	ws := dial(t, s, nil)
	<-queued
	go s.tracker.Shutdown(context.Background())
	for i := range n {
		_, got, err := ws.ReadMessage()
		if err != nil || string(got) != fmt.Sprint(i) {
			t.Fatalf("message %d: %q %v: queued messages must arrive before the close", i, got, err)
		}
	}
	if code, _ := readClose(t, ws); code != 1001 {
		t.Fatalf("close %d, want 1001", code)
	}
}

// TestEveryPingAnswered: RFC 6455 §5.5.2 wants a pong for a ping, whatever
// its payload; pings that arrive together each get theirs, in order, as
// from gorilla and other peers.
func TestEveryPingAnswered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		payloads []string
	}{
		{"empty payload", []string{""}},
		{"ten in a row", []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}},
		{"largest payload", []string{strings.Repeat("x", 125)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{}, echo)
			c := dialRaw(t, s)
			var frames [][]byte
			for _, p := range tt.payloads {
				frames = append(frames, clientFrame(opPing, []byte(p)))
			}
			frames = append(frames, clientFrame(opText, []byte("after the pings")))
			if err := c.write(frames...); err != nil {
				t.Fatal(err)
			}
			// The pings are read before the text message, so their pongs
			// are due before its echo is queued.
			for i, want := range tt.payloads {
				op, got, err := c.read()
				if err != nil || op != opPong || string(got) != want {
					t.Fatalf("frame %d: opcode %#x %q, %v; want the pong %q", i, op, got, err, want)
				}
			}
			if op, got, err := c.read(); err != nil || op != opText || string(got) != "after the pings" {
				t.Fatalf("after the pongs: opcode %#x %q, %v; want the echo", op, got, err)
			}
		})
	}
}

// TestPingFloodBounded floods a peer that does not read with pings: the
// pongs waiting behind its full socket stay few (the latest ping's answer
// replaces the last one waiting), the answers that arrive keep the pings'
// order and end with the last ping's, and the connection survives.
func TestPingFloodBounded(t *testing.T) {
	t.Parallel()
	const pings = 10_000
	pending := make(chan int, 1)
	s := newServer(t, Config{WriteTimeout: hangGuard}, func(c *Conn) error {
		if tc, ok := c.nc.Conn.(*net.TCPConn); ok {
			tc.SetWriteBuffer(8 << 10) // so that the pongs back up
		}
		for {
			typ, msg, err := c.ReadMessage(context.Background())
			if err != nil {
				return err
			}
			if string(msg) == "flood done" {
				// Every ping before this message has been read.
				c.wmu.Lock()
				n := len(c.pongs)
				c.wmu.Unlock()
				pending <- n
			}
			if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
				return err
			}
		}
	})
	c := dialRaw(t, s)
	var flood [][]byte
	for i := range pings {
		flood = append(flood, clientFrame(opPing, fmt.Appendf(nil, "%06d%s", i, strings.Repeat(".", 100))))
	}
	flood = append(flood, clientFrame(opText, []byte("flood done")))
	if err := c.write(flood...); err != nil { // the server reads it all without writing
		t.Fatal(err)
	}
	if n := <-pending; n > maxPendingPongs {
		t.Fatalf("%d pongs waiting after %d pings, want at most %d", n, pings, maxPendingPongs)
	}
	last, pongs := -1, 0
	for {
		op, got, err := c.read()
		if err != nil {
			t.Fatalf("after %d pongs: %v", pongs, err)
		}
		if op == opText {
			break
		}
		var i int
		if _, err := fmt.Sscanf(string(got), "%06d", &i); op != opPong || err != nil || i <= last {
			t.Fatalf("after the pong for ping %d: opcode %#x %.10q", last, op, got)
		}
		last, pongs = i, pongs+1
	}
	if last != pings-1 {
		t.Fatalf("the last pong answered ping %d, want the last ping, %d", last, pings-1)
	}
	c.write(clientFrame(opText, []byte("still here")))
	if op, got, err := c.read(); err != nil || op != opText || string(got) != "still here" {
		t.Fatalf("after the flood: opcode %#x %q, %v", op, got, err)
	}
	t.Logf("%d pings, %d pongs", pings, pongs)
}
