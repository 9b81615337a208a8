package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit/testmux"
)

// TestIdleConnectionGoroutines checks what the two ways of reading cost an
// idle connection: no goroutine when it listens (the default, on Linux),
// one with WithDedicatedReader. It counts the goroutines in the session's
// code, since others of earlier tests (idle workers among them) may end
// meanwhile.
func TestIdleConnectionGoroutines(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("connections listen without a goroutine on Linux only")
	}
	const n = 40
	for _, tc := range []struct {
		name string
		opts []DispatcherOption
		want int
	}{
		{"listening", nil, 0},
		{"dedicated reader", []DispatcherOption{WithDedicatedReader()}, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := New(append(tc.opts, quiet())...)
			On(d, "ping", func(*Context, struct{}) error { return nil })
			app := testmux.New(t)
			Route(app.Mux, "/ws", d) // not serve, which may choose the reader
			srv := forgetest.Start(t, app)
			dialer := websocket.Dialer{HandshakeTimeout: forgetest.Timeout}
			for range n {
				ws, _, err := dialer.Dial(srv.WebSocketURL("/ws"), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Close()
				// Past one message, so that the connection has dispatched.
				ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"ping","id":"1","payload":{}}`))
				ws.SetReadDeadline(time.Now().Add(forgetest.Timeout))
				if _, m, err := ws.ReadMessage(); err != nil || !json.Valid(m) {
					t.Fatalf("ack %q, %v", m, err)
				}
			}
			// A listener's worker may still be on its way out of the
			// session's code: wait for the count, failing only if it never
			// comes.
			deadline := time.Now().Add(forgetest.Timeout)
			var got int
			for {
				if got = sessionGoroutines(); got == tc.want || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got != tc.want {
				t.Fatalf("%d goroutines in the sessions of %d idle connections, want %d", got, n, tc.want)
			}
		})
	}
}

// sessionGoroutines counts the goroutines that run an event session, of
// any dispatcher.
func sessionGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "events.(*Dispatcher).serve") || strings.Contains(g, "events.(*session).onMessage") {
			count++
		}
	}
	return count
}

// TestRequestInOnConnect has the connect hook wait for a client's reply
// while the client sends other events first: they are kept, and handled
// once the hook returned, before any later message, without waiting for
// one.
func TestRequestInOnConnect(t *testing.T) {
	t.Parallel()
	var d *Dispatcher
	var confirm *Request[question, answer]
	d = New(quiet(), WithOnConnect(func(c *Context) error {
		a, err := confirm.Do(c.Context(), c, question{Q: "hello?"})
		if err != nil || !a.OK {
			return NewError(CodeForbidden, "no answer")
		}
		return nil
	}))
	confirm = Requests[question, answer](d, "confirm")
	Emits[echoed](d, "result")
	On(d, "note", func(c *Context, n echoed) error { return c.Emit("result", n) })
	c := dial(t, serve(t, d), "/ws")
	req := c.recv()
	if req.Event != "confirm" {
		t.Fatalf("got %+v, want the request", req)
	}
	c.SendEvent("note", "", echoed{Text: "first"})
	c.SendEvent("note", "", echoed{Text: "second"})
	c.SendEvent("confirm.ack", req.ID, answer{OK: true})
	for _, want := range []string{"first", "second"} {
		var got echoed
		json.Unmarshal(c.expect("result", ""), &got)
		if got.Text != want {
			t.Fatalf("result %q, want %q", got.Text, want)
		}
	}
	if s := d.Stats(); s.Connections != 1 {
		t.Fatalf("%d connections counted, want 1", s.Connections)
	}
	c.Close()
	deadline := time.Now().Add(forgetest.Timeout)
	for d.Stats().Connections != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the closed connection is still counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRequestsUnderLoad has many connections at once mix plain events
// with requests to the client made inside handlers and from GoSafe
// goroutines, the client answering each request only after sending more
// events: every event is handled once, in order, and every request gets
// its reply. In both ways of reading (see TestMain).
func TestRequestsUnderLoad(t *testing.T) {
	t.Parallel()
	type num struct {
		N int `json:"n"`
	}
	d := New(quiet())
	confirm := Requests[num, answer](d, "confirm")
	Emits[num](d, "result")
	Emits[num](d, "asked")
	On(d, "note", func(c *Context, n num) error { return c.Emit("result", n) })
	On(d, "ask", func(c *Context, n num) error {
		if _, err := confirm.Do(c.Context(), c, n); err != nil {
			return err
		}
		return c.Emit("asked", n)
	})
	On(d, "later", func(c *Context, n num) error {
		c.GoSafe(c.ConnContext(), func(ctx context.Context) {
			if _, err := confirm.Do(ctx, c, n); err == nil {
				c.Emit("asked", n)
			}
		})
		return nil
	})
	srv := serve(t, d)
	const conns, events = 16, 40
	t.Run("group", func(t *testing.T) {
		for i := range conns {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				c := dial(t, srv, "/ws")
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				var notes, asks int
				next := 0 // the next note's number
				send := func() {
					switch k := rng.IntN(5); {
					case k < 3:
						c.SendEvent("note", "", num{N: next})
						next++
						notes++
					case k == 3:
						c.SendEvent("ask", "", num{N: 1000 + asks})
						asks++
					default:
						c.SendEvent("later", "", num{N: 1000 + asks})
						asks++
					}
				}
				for range events / 2 {
					send()
				}
				sent := events / 2
				wantNote, asked := 0, map[int]bool{}
				for wantNote < notes || len(asked) < asks || sent < events {
					if wantNote == notes && len(asked) == asks {
						send() // nothing outstanding: sent < events
						sent++
						continue
					}
					m := c.recv()
					var p num
					json.Unmarshal(m.Payload, &p)
					switch m.Event {
					case "result":
						if p.N != wantNote {
							t.Fatalf("note %d handled, want %d", p.N, wantNote)
						}
						wantNote++
					case "asked":
						if asked[p.N] {
							t.Fatalf("request %d answered twice", p.N)
						}
						asked[p.N] = true
					case "confirm":
						// More events first, then the reply.
						for range rng.IntN(3) {
							if sent < events {
								send()
								sent++
							}
						}
						c.SendEvent("confirm.ack", m.ID, answer{OK: true})
					default:
						t.Fatalf("got %+v", m)
					}
					if sent < events && rng.IntN(4) == 0 {
						send()
						sent++
					}
				}
			})
		}
	})
	if s := d.Stats(); s.Busy != 0 || s.Failed != 0 || s.Panics != 0 {
		t.Fatalf("Stats() = %+v", s)
	}
}

// TestShutdownEndsSessions shuts the server down with connections idle
// and one in a handler waiting for the client's reply: each client gets
// 1001, the disconnect hook runs once per connection, the waiting request
// fails with ErrClosed, and no connection is left counted.
func TestShutdownEndsSessions(t *testing.T) {
	t.Parallel()
	var disconnects atomic.Int32
	requestErr := make(chan error, 1)
	d := New(quiet(), WithOnDisconnect(func(*Context) { disconnects.Add(1) }))
	confirm := Requests[question, answer](d, "confirm")
	On(d, "ask", func(c *Context, _ struct{}) error {
		_, err := confirm.Do(c.Context(), c, question{Q: "still there?"})
		requestErr <- err
		return err
	})
	app := testmux.New(t)
	if dedicatedReaders {
		d.cfg.dedicatedReader = true
	}
	Route(app.Mux, "/ws", d)
	srv := forgetest.Start(t, app)
	const n = 5
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = dial(t, srv, "/ws")
	}
	clients[0].SendEvent("ask", "", nil)
	if m := clients[0].recv(); m.Event != "confirm" {
		t.Fatalf("got %+v, want the request", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), forgetest.Timeout)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- app.Shutdown(ctx) }()
	for _, c := range clients {
		c.ExpectClose(int(connection.CloseGoingAway)) // answers the close
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-requestErr; !errors.Is(err, ErrClosed) {
		t.Fatalf("the waiting request failed with %v, want ErrClosed", err)
	}
	if got := disconnects.Load(); got != n {
		t.Fatalf("disconnect hook ran %d times, want %d", got, n)
	}
	if s := d.Stats(); s.Connections != 0 {
		t.Fatalf("%d connections still counted", s.Connections)
	}
}

// TestKeptMessageWhileGoroutineAsks has a GoSafe goroutine's request read
// a client event while the handler that started it still runs: once the
// handler returned, the event is handled at once, not only when the
// request's read ends (the client waits for the event's reply before it
// answers the request).
func TestKeptMessageWhileGoroutineAsks(t *testing.T) {
	t.Parallel()
	d := New(quiet(), WithRequestTimeout(time.Minute))
	confirm := Requests[question, answer](d, "confirm")
	Emits[echoed](d, "result")
	On(d, "start", func(c *Context, _ struct{}) error {
		c.GoSafe(c.ConnContext(), func(ctx context.Context) {
			if a, err := confirm.Do(ctx, c, question{Q: "later?"}); err == nil {
				c.Emit("result", echoed{Text: fmt.Sprint("ok=", a.OK)})
			}
		})
		// Return only once the request's read kept the note, and has
		// had the time to read on.
		waitSession(func() bool { return c.s.ndeferred.Load() > 0 })
		return nil
	})
	On(d, "note", func(c *Context, n echoed) error { return c.Emit("result", n) })
	c := dial(t, serve(t, d), "/ws")
	c.SendEvent("start", "s", nil)
	req := c.recv()
	if req.Event != "confirm" {
		t.Fatalf("got %+v, want the request", req)
	}
	c.SendEvent("note", "n", echoed{Text: "meanwhile"})
	c.expect("start.ack", "s")
	expectKeptThenAnswer(t, c, req)
}

// TestKeptMessageWhileConnectGoroutineAsks is TestKeptMessageWhileGoroutineAsks
// with the request made by a goroutine that the connect hook started: the
// event its read kept while the hook still ran is handled once the hook
// returned, not when the request's read ends.
func TestKeptMessageWhileConnectGoroutineAsks(t *testing.T) {
	t.Parallel()
	var confirm *Request[question, answer]
	d := New(quiet(), WithRequestTimeout(time.Minute), WithOnConnect(func(c *Context) error {
		c.GoSafe(c.ConnContext(), func(ctx context.Context) {
			if a, err := confirm.Do(ctx, c, question{Q: "hello?"}); err == nil {
				c.Emit("result", echoed{Text: fmt.Sprint("ok=", a.OK)})
			}
		})
		// Return only once the request's read kept the note, and has
		// had the time to read on.
		waitSession(func() bool { return c.s.ndeferred.Load() > 0 })
		return nil
	}))
	confirm = Requests[question, answer](d, "confirm")
	Emits[echoed](d, "result")
	On(d, "note", func(c *Context, n echoed) error { return c.Emit("result", n) })
	c := dial(t, serve(t, d), "/ws")
	req := c.recv()
	if req.Event != "confirm" {
		t.Fatalf("got %+v, want the request", req)
	}
	c.SendEvent("note", "n", echoed{Text: "meanwhile"})
	expectKeptThenAnswer(t, c, req)
}

// TestKeptMessageWhileTwoGoroutinesAsk has two GoSafe goroutines wait for
// replies: the event the first one's read keeps is handled at once,
// although the second one reads next.
func TestKeptMessageWhileTwoGoroutinesAsk(t *testing.T) {
	t.Parallel()
	d := New(quiet(), WithRequestTimeout(time.Minute))
	confirm := Requests[question, answer](d, "confirm")
	Emits[echoed](d, "result")
	On(d, "start", func(c *Context, _ struct{}) error {
		for _, q := range []string{"one?", "two?"} {
			c.GoSafe(c.ConnContext(), func(ctx context.Context) {
				if a, err := confirm.Do(ctx, c, question{Q: q}); err == nil {
					c.Emit("result", echoed{Text: fmt.Sprint(q, a.OK)})
				}
			})
		}
		// Return once both wait for their replies, so that the
		// connection's reader waits for the read side after them.
		waitSession(func() bool { return c.s.npending.Load() >= 2 })
		return nil
	})
	On(d, "note", func(c *Context, n echoed) error { return c.Emit("result", n) })
	c := dial(t, serve(t, d), "/ws")
	c.SendEvent("start", "s", nil)
	var reqs []forgetest.Event
	for range 2 {
		req := c.recv()
		if req.Event != "confirm" {
			t.Fatalf("got %+v, want a request", req)
		}
		reqs = append(reqs, req)
	}
	c.expect("start.ack", "s") // the handler returned
	c.SendEvent("note", "n", echoed{Text: "meanwhile"})
	var got echoed
	json.Unmarshal(c.expect("result", ""), &got)
	if got.Text != "meanwhile" {
		t.Fatalf("result %q, want the note's", got.Text)
	}
	c.expect("note.ack", "n")
	for _, req := range reqs {
		c.SendEvent("confirm.ack", req.ID, answer{OK: true})
	}
	for range 2 {
		c.expect("result", "")
	}
}

// waitSession waits, within forgetest.Timeout, until ok reports true, and
// then a little more, for a session's goroutines to go on from there.
func waitSession(ok func() bool) {
	deadline := time.Now().Add(forgetest.Timeout)
	for !ok() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
}

// expectKeptThenAnswer reads the result of the note the request's read
// kept, which must come first, answers the request req, and reads its
// result.
func expectKeptThenAnswer(t *testing.T, c *client, req forgetest.Event) {
	t.Helper()
	for _, want := range []string{"meanwhile", "ok=true"} {
		var got echoed
		json.Unmarshal(c.expect("result", ""), &got)
		if got.Text != want {
			t.Fatalf("result %q, want %q", got.Text, want)
		}
		if want == "meanwhile" {
			c.expect("note.ack", "n")
			c.SendEvent("confirm.ack", req.ID, answer{OK: true})
		}
	}
}

// TestContextsEndWithConnection has a handler wait on its message's
// context and a GoSafe goroutine on the session's (ConnContext) when the
// server ends the connection: both end, and so does the shutdown, which
// waits for them. The session's context is tied to the connection's
// through connhook.AfterEnd, not as its child.
func TestContextsEndWithConnection(t *testing.T) {
	t.Parallel()
	waiting := make(chan struct{}, 2)
	ended := make(chan string, 2)
	d := New(quiet())
	On(d, "wait", func(c *Context, _ struct{}) error {
		c.GoSafe(c.ConnContext(), func(ctx context.Context) {
			waiting <- struct{}{}
			<-ctx.Done()
			ended <- "goroutine"
		})
		waiting <- struct{}{}
		<-c.Context().Done()
		ended <- "handler"
		return nil
	})
	app := testmux.New(t)
	if dedicatedReaders {
		d.cfg.dedicatedReader = true
	}
	Route(app.Mux, "/ws", d)
	srv := forgetest.Start(t, app)
	c := dial(t, srv, "/ws")
	c.SendEvent("wait", "", nil)
	<-waiting
	<-waiting
	ctx, cancel := context.WithTimeout(context.Background(), forgetest.Timeout)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- app.Shutdown(ctx) }()
	c.ExpectClose(int(connection.CloseGoingAway))
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	got := map[string]bool{<-ended: true, <-ended: true}
	if !got["handler"] || !got["goroutine"] {
		t.Fatalf("ended: %v, want the handler and the goroutine", got)
	}
}
