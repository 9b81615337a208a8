package connection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

// send writes each message to ws as text.
func send(t *testing.T, ws *websocket.Conn, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
}

// expectTexts reads len(want) messages from ws and fails unless they are
// want, in order.
func expectTexts(t *testing.T, ws *websocket.Conn, want ...string) {
	t.Helper()
	expectInOrder(t, ws, len(want), func(i int) []byte { return []byte(want[i]) })
}

// TestListenReadInCallback has a callback read the messages after its own,
// inline and with a context: they are the callback's, not delivered, and
// the listener delivers the next ones once the callback returned.
func TestListenReadInCallback(t *testing.T) {
	t.Parallel()
	s, conns := listening(t, Config{}, func(c *Conn, _ MessageType, data []byte) error {
		if string(data) != "ask" {
			return c.Write(data)
		}
		first, err := c.Read()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		_, second, err := c.ReadMessage(ctx)
		if err != nil {
			return err
		}
		return c.Write(fmt.Appendf(nil, "asked: %s, %s", first, second))
	})
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	for range 3 {
		send(t, ws, "ask", "one", "two", "after")
		expectTexts(t, ws, "asked: one, two", "after")
		if canPoll {
			waitParked(t, c)
		}
	}
}

// TestListenReadFromAnotherGoroutine has a goroutine read while a callback
// waits for it, as an event handler's request to its client does; outside
// a callback, Read fails.
func TestListenReadFromAnotherGoroutine(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	outside := make(chan error, 1)
	s, conns := listening(t, Config{}, func(c *Conn, _ MessageType, data []byte) error {
		switch string(data) {
		case "ask":
			got := make(chan []byte, 1)
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
				defer cancel()
				_, m, err := c.ReadMessage(ctx)
				if err != nil {
					m = []byte(err.Error())
				}
				got <- m
			})
			return c.Write(fmt.Appendf(nil, "other: %s", <-got))
		case "later":
			// After this callback returned, a Read fails.
			wg.Go(func() {
				time.Sleep(10 * time.Millisecond)
				_, err := c.Read()
				outside <- err
			})
		}
		return c.Write(data)
	})
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	send(t, ws, "ask", "reply", "next")
	expectTexts(t, ws, "other: reply", "next")
	send(t, ws, "later")
	expectTexts(t, ws, "later")
	if err := <-outside; !errors.Is(err, errReadListening) {
		t.Fatalf("Read outside a callback: %v, want errReadListening", err)
	}
	if canPoll {
		waitParked(t, c)
	}
}

// TestListenReadTimeoutInCallback has a callback give up waiting for a
// message: the pump reading it goes on, and the message it reads is
// delivered to the listener.
func TestListenReadTimeoutInCallback(t *testing.T) {
	t.Parallel()
	s, conns := listening(t, Config{}, func(c *Conn, _ MessageType, data []byte) error {
		if string(data) != "ask" {
			return c.Write(data)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, _, err := c.ReadMessage(ctx)
		return c.Write(fmt.Appendf(nil, "gave up: %v", errors.Is(err, ErrReadTimeout)))
	})
	ws := dial(t, s, nil)
	c := takeConn(t, conns)
	send(t, ws, "ask")
	expectTexts(t, ws, "gave up: true")
	send(t, ws, "late", "later")
	expectTexts(t, ws, "late", "later")
	if canPoll {
		waitParked(t, c)
	}
}

// TestOnListenEnd checks that OnListenEnd's function runs once, with what
// ended the connection, before the closing handshake.
func TestOnListenEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		end     func(t *testing.T, ws *websocket.Conn, c *Conn)
		replies []string // what the peer reads before the close frame
		wantErr func(error) bool
		code    int
	}{
		{"callback error", func(t *testing.T, ws *websocket.Conn, _ *Conn) { send(t, ws, "bye") },
			[]string{"farewell"}, func(err error) bool { return CloseStatus(err) == 4001 }, 4001},
		{"peer close", func(t *testing.T, ws *websocket.Conn, _ *Conn) {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "gone"), time.Now().Add(hangGuard))
		}, nil, func(err error) bool { return CloseStatus(err) == 4002 }, 4002},
		{"server close", func(t *testing.T, _ *websocket.Conn, c *Conn) { c.Close() },
			nil, func(err error) bool { return err == nil }, int(CloseNormal)},
		{"panic", func(t *testing.T, ws *websocket.Conn, _ *Conn) { send(t, ws, "panic at end", "bye") },
			[]string{"panic at end", "farewell"}, func(err error) bool { return CloseStatus(err) == 4001 }, int(CloseInternalError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ended := make(chan error, 2)
			conns := make(chan *Conn, 1)
			var panicAtEnd atomic.Bool
			s := newServer(t, Config{}, func(c *Conn) error {
				conns <- c
				return c.Listen(func(_ MessageType, data []byte) error {
					switch string(data) {
					case "bye":
						return &CloseError{Code: 4001, Reason: "bye"}
					case "panic at end":
						panicAtEnd.Store(true)
					}
					return c.Write(data)
				}, OnListenEnd(func(err error) {
					ended <- err
					// Before the closing handshake: a write still goes
					// out, unless the connection is closing already.
					c.Write([]byte("farewell"))
					if panicAtEnd.Load() {
						panic("cleanup bug")
					}
				}))
			})
			ws := dial(t, s, nil)
			tt.end(t, ws, takeConn(t, conns))
			expectTexts(t, ws, tt.replies...)
			select {
			case err := <-ended:
				if !tt.wantErr(err) {
					t.Errorf("OnListenEnd's function got %v", err)
				}
			case <-time.After(hangGuard):
				t.Fatal("OnListenEnd's function did not run")
			}
			if code, reason := readClose(t, ws); code != tt.code {
				t.Errorf("close %d %q, want %d", code, reason, tt.code)
			}
			if err := waitErr(t, s); !errors.Is(err, ErrListening) {
				t.Fatalf("handler returned %v", err)
			}
			select {
			case err := <-ended:
				t.Fatalf("OnListenEnd's function ran twice, the second time with %v", err)
			default:
			}
		})
	}
}

// TestListenReadTimeoutThenFail has a callback give up waiting for a
// message and end the connection: the close frame goes out at once, while
// the pump still waits for the message, as it would for a handler that
// returned.
func TestListenReadTimeoutThenFail(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		code int
	}{{"fail", 4001}, {"panic", int(CloseInternalError)}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ended := make(chan error, 1)
			conns := make(chan *Conn, 1)
			s := newServer(t, Config{}, func(c *Conn) error {
				conns <- c
				return c.Listen(func(_ MessageType, data []byte) error {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
					defer cancel()
					if _, _, err := c.ReadMessage(ctx); !errors.Is(err, ErrReadTimeout) {
						return fmt.Errorf("ReadMessage: %v, want ErrReadTimeout", err)
					}
					if tt.name == "panic" {
						panic("after a read that gave up")
					}
					return &CloseError{Code: 4001, Reason: "no answer"}
				}, OnListenEnd(func(err error) { ended <- err }))
			})
			ws := dial(t, s, nil)
			takeConn(t, conns)
			send(t, ws, "ask")
			// Nothing more is sent: the close frame must not wait for it.
			ws.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang guard
			code, reason, err := testkit.ReadClose(ws)
			if err != nil || code != tt.code {
				t.Fatalf("close %d %q (%v), want %d", code, reason, err, tt.code)
			}
			if err := <-ended; int(CloseStatus(err)) != tt.code {
				t.Errorf("OnListenEnd's function got %v", err)
			}
			if err := waitErr(t, s); !errors.Is(err, ErrListening) {
				t.Fatalf("handler returned %v", err)
			}
		})
	}
}

// TestOnListenEndAfterPumpRead has the peer's close read by the pump that
// a callback's read left when it gave up: OnListenEnd's function gets the
// peer's close, as when the listener reads it.
func TestOnListenEndAfterPumpRead(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 1)
	s := newServer(t, Config{}, func(c *Conn) error {
		return c.Listen(func(_ MessageType, data []byte) error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			_, _, err := c.ReadMessage(ctx)
			return c.Write(fmt.Appendf(nil, "gave up: %v", errors.Is(err, ErrReadTimeout)))
		}, OnListenEnd(func(err error) { ended <- err }))
	})
	ws := dial(t, s, nil)
	send(t, ws, "ask")
	expectTexts(t, ws, "gave up: true")
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "gone"), time.Now().Add(hangGuard))
	if code, reason := readClose(t, ws); code != 4002 {
		t.Errorf("close %d %q, want 4002", code, reason)
	}
	if err := <-ended; CloseStatus(err) != 4002 {
		t.Errorf("OnListenEnd's function got %v, want the peer's close", err)
	}
}

// TestOnListenEndHandlerFails has the handler fail after it called Listen
// (it panics, or returns another error than Listen's): the connection
// closes as for a handler that did not listen, and OnListenEnd's function
// runs still, as the handler's defers would.
func TestOnListenEndHandlerFails(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		code int
	}{{"panic", int(CloseInternalError)}, {"error", 4003}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ended := make(chan error, 1)
			s := newServer(t, Config{}, func(c *Conn) error {
				c.Listen(func(MessageType, []byte) error { return nil }, OnListenEnd(func(err error) { ended <- err }))
				if tt.name == "panic" {
					panic("after Listen")
				}
				return &CloseError{Code: 4003, Reason: "changed my mind"}
			})
			ws := dial(t, s, nil)
			if code, reason := readClose(t, ws); code != tt.code {
				t.Errorf("close %d %q, want %d", code, reason, tt.code)
			}
			select {
			case err := <-ended:
				if int(CloseStatus(err)) != tt.code {
					t.Errorf("OnListenEnd's function got %v", err)
				}
			case <-time.After(hangGuard):
				t.Fatal("OnListenEnd's function did not run")
			}
		})
	}
}

// TestListenShutdownDuringCallbackRead shuts the server down while a
// callback waits in a read, inline or with a context: the read returns
// the end of the connection, and the connection closes with 1001.
func TestListenShutdownDuringCallbackRead(t *testing.T) {
	t.Parallel()
	for _, inline := range []bool{true, false} {
		t.Run(fmt.Sprint("inline=", inline), func(t *testing.T) {
			t.Parallel()
			reading := make(chan struct{})
			got := make(chan error, 1)
			s, _ := listening(t, Config{}, func(c *Conn, _ MessageType, _ []byte) error {
				close(reading)
				var err error
				if inline {
					_, err = c.Read()
				} else {
					_, _, err = c.ReadMessage(c.Context())
				}
				got <- err
				return err
			})
			ws := dial(t, s, nil)
			send(t, ws, "ask")
			<-reading
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
				defer cancel()
				done <- s.tracker.Shutdown(ctx)
			}()
			if code, _ := readClose(t, ws); code != int(CloseGoingAway) {
				t.Errorf("close %d, want 1001", code)
			}
			ws.Close()
			if err := <-got; err == nil {
				t.Error("the callback's read returned no error")
			}
			if err := <-done; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if n := s.tracker.Stats().Open; n != 0 {
				t.Fatalf("%d connections open after Shutdown", n)
			}
		})
	}
}

// TestListenKeepaliveDuringCallbackRead has a peer that answers no ping
// while a callback waits in a read, inline or with a context that does
// not end: the keepalive closes the connection with 1001, and the read
// returns.
func TestListenKeepaliveDuringCallbackRead(t *testing.T) {
	t.Parallel()
	for _, inline := range []bool{true, false} {
		t.Run(fmt.Sprint("inline=", inline), func(t *testing.T) {
			t.Parallel()
			got := make(chan error, 1)
			ended := make(chan error, 1)
			s := newServer(t, Config{PingInterval: 50 * time.Millisecond, PongWait: 100 * time.Millisecond}, func(c *Conn) error {
				return c.Listen(func(MessageType, []byte) error {
					var err error
					if inline {
						_, err = c.Read()
					} else {
						ctx, cancel := context.WithCancel(context.Background()) // read by a pump
						defer cancel()
						_, _, err = c.ReadMessage(ctx)
					}
					got <- err
					return err
				}, OnListenEnd(func(err error) { ended <- err }))
			})
			rc := dialRaw(t, s) // answers no ping
			if err := rc.write(clientFrame(0x1, []byte("ask"))); err != nil {
				t.Fatal(err)
			}
			for {
				op, p, err := rc.read()
				if err != nil {
					t.Fatalf("no close frame: %v", err)
				}
				if op == opPing {
					continue
				}
				if op != opClose || len(p) < 2 || StatusCode(p[0])<<8|StatusCode(p[1]) != CloseGoingAway {
					t.Fatalf("opcode %#x %q, want a close frame with 1001", op, p)
				}
				break
			}
			if err := <-got; !errors.Is(err, ErrClosed) {
				t.Errorf("the callback's read returned %v, want ErrClosed", err)
			}
			if err := <-ended; !errors.Is(err, ErrClosed) {
				t.Errorf("OnListenEnd's function got %v", err)
			}
		})
	}
}
