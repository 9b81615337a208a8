package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

type chatMessage struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"20"`
	Mood string `json:"mood,omitempty" enum:"happy,sad"`
}

type echoed struct {
	Text string `json:"text"`
}

// echoServer handles "message" by emitting "echo" with the text.
func echoServer(t *testing.T, opts ...DispatcherOption) (*Dispatcher, *forgetest.Server) {
	d := New(append([]DispatcherOption{quiet()}, opts...)...)
	Emits[echoed](d, "echo")
	On(d, "message", func(c *Context, m chatMessage) error {
		return c.Emit("echo", echoed{Text: m.Text})
	})
	return d, serve(t, d)
}

func TestTypedHandler(t *testing.T) {
	t.Parallel()
	d, srv := echoServer(t)
	c := dial(t, srv, "/ws")

	c.SendEvent("message", "", chatMessage{Text: "hi"})
	if p := c.expect("echo", ""); string(p) != `{"text":"hi"}` {
		t.Fatalf("echo payload %s", p)
	}
	// With an id, the handler's success is acknowledged after its work.
	c.SendEvent("message", "7", chatMessage{Text: "hey", Mood: "happy"})
	c.expect("echo", "")
	if p := c.expect("message.ack", "7"); string(p) != `{}` {
		t.Fatalf("ack payload %s", p)
	}

	// Payloads that break the type's constraints are answered, and the
	// connection goes on.
	tests := []struct {
		name    string
		payload any
		want    string // in the error message
	}{
		{"missing required", map[string]any{"mood": "sad"}, "missing property 'text'"},
		{"no payload at all", nil, "missing property 'text'"},
		{"too long", map[string]any{"text": strings.Repeat("x", 21)}, "payload/text"},
		{"too short", map[string]any{"text": ""}, "payload/text"},
		{"not in enum", map[string]any{"text": "x", "mood": "angry"}, "payload/mood"},
		{"wrong type", map[string]any{"text": 5}, "payload/text"},
		{"not an object", []int{1}, "payload"},
	}
	for i, tt := range tests {
		id := fmt.Sprint("bad", i)
		c.SendEvent("message", id, tt.payload)
		if msg := c.expectError(id, CodeInvalidPayload); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: error %q does not mention %q", tt.name, msg, tt.want)
		}
	}
	c.SendEvent("message", "ok", chatMessage{Text: "still here"})
	c.expect("echo", "")
	c.expect("message.ack", "ok")

	st := d.Stats()
	if st.InvalidPayload != uint64(len(tests)) || st.Handled != 3 || st.Connections != 1 {
		t.Fatalf("Stats() = %+v", st)
	}
}

func TestBadMessages(t *testing.T) {
	t.Parallel()
	d, srv := echoServer(t)
	c := dial(t, srv, "/ws")
	tests := []struct {
		name, msg, id, code string
	}{
		{"not JSON", `{"event":`, "", CodeMalformed},
		{"array", `["message"]`, "", CodeMalformed},
		{"string", `"message"`, "", CodeMalformed},
		{"no event", `{"id":"1","payload":{}}`, "1", CodeMalformed},
		{"empty event", `{"event":"","id":"2"}`, "2", CodeMalformed},
		{"event not a string", `{"event":5,"id":"3"}`, "3", CodeMalformed},
		{"id not a string", `{"event":"message","id":4}`, "", CodeMalformed},
		{"unknown event", `{"event":"nope","id":"5"}`, "5", CodeUnknownEvent},
		{"a reply to nothing", `{"event":"message.ack","id":"6"}`, "6", CodeUnknownEvent},
		{"an error event from the client", `{"event":"error","id":"7","payload":{}}`, "7", CodeUnknownEvent},
	}
	for _, tt := range tests {
		c.SendText(tt.msg)
		c.expectError(tt.id, tt.code)
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte(`{"event":"message"}`)); err != nil {
		t.Fatal(err)
	}
	c.expectError("", CodeUnsupported)
	// Escapes in keys and names are understood.
	c.SendText(`{"ev\u0065nt":"m\u0065ssage","payload":{"text":"esc"},"id":"e"}`)
	c.expect("echo", "")
	c.expect("message.ack", "e")

	st := d.Stats()
	if st.Malformed != 7 || st.UnknownEvent != 3 || st.Unsupported != 1 || st.Received != uint64(len(tests)+2) {
		t.Fatalf("Stats() = %+v", st)
	}
}

func TestOversizedMessageClosesOnlyItsConnection(t *testing.T) {
	t.Parallel()
	d := New(quiet())
	Emits[echoed](d, "echo")
	On(d, "message", func(c *Context, m echoed) error { return c.Emit("echo", m) })
	srv := serve(t, d, router.WithReadLimit(1024))
	big, small := dial(t, srv, "/ws"), dial(t, srv, "/ws")
	big.SendEvent("message", "", echoed{Text: strings.Repeat("x", 2048)})
	big.ExpectClose(int(connection.CloseMessageTooBig))
	small.SendEvent("message", "", echoed{Text: "fine"})
	small.expect("echo", "")
}

func TestPanicAndErrors(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		panics []any
	)
	logs := &testkit.Buffer{}
	d := New(WithLogger(testkit.TextLogger(logs)), WithPanicHandler(func(c *Context, v any, stack []byte) {
		mu.Lock()
		panics = append(panics, v)
		mu.Unlock()
	}))
	On(d, "boom", func(c *Context, _ struct{}) error { panic("kaboom") })
	On(d, "fail", func(c *Context, _ struct{}) error { return errors.New("database down") })
	On(d, "refuse", func(c *Context, _ struct{}) error {
		return fmt.Errorf("wrapped: %w", NewError("not_found", "no such room"))
	})
	On(d, "slow", func(c *Context, _ struct{}) error {
		<-c.Context().Done()
		return c.Context().Err()
	}, WithTimeout(10*time.Millisecond))
	On(d, "bye", func(c *Context, _ struct{}) error {
		return &connection.CloseError{Code: 4001, Reason: "asked to leave"}
	})
	On(d, "ping", func(c *Context, _ struct{}) error { return nil })
	srv := serve(t, d)
	c := dial(t, srv, "/ws")

	c.SendEvent("boom", "1", nil)
	if msg := c.expectError("1", CodeInternal); msg != "internal error" {
		t.Fatalf("panic answered with %q", msg)
	}
	c.SendEvent("fail", "2", nil)
	c.expectError("2", CodeInternal)
	c.SendEvent("refuse", "3", nil)
	if msg := c.expectError("3", "not_found"); msg != "no such room" {
		t.Fatalf("message %q", msg)
	}
	c.SendEvent("slow", "4", nil)
	c.expectError("4", CodeTimeout)
	c.SendEvent("ping", "5", nil)
	c.expect("ping.ack", "5")
	c.SendEvent("bye", "", nil)
	if reason := c.ExpectClose(4001); reason != "asked to leave" {
		t.Fatalf("close reason %q", reason)
	}

	st := d.Stats()
	if st.Panics != 1 || st.Failed != 3 || st.Timeouts != 1 || st.Handled != 1 {
		t.Fatalf("Stats() = %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(panics) != 1 || panics[0] != "kaboom" {
		t.Fatalf("panic handler saw %v", panics)
	}
	for _, want := range []string{"event handler panicked", "kaboom", "database down", "timed out", "conn_id=ws_"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

type joinRequest struct {
	Room string `json:"room" required:"true" pattern:"^[a-z]+$"`
}

type joinReply struct {
	Room    string `json:"room"`
	Members int    `json:"members"`
}

// serveJoin serves a dispatcher whose "join" request joins the room and
// answers with its member count.
func serveJoin(t *testing.T, h *hub.Hub) *forgetest.Server {
	t.Helper()
	d := New(quiet(), WithHub(h))
	OnRequest(d, "join", func(c *Context, r joinRequest) (joinReply, error) {
		if err := c.Join(r.Room); err != nil {
			return joinReply{}, err
		}
		return joinReply{Room: r.Room, Members: h.Count(r.Room)}, nil
	})
	return serve(t, d)
}

func TestRequestReply(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	srv := serveJoin(t, h)
	a, b := dial(t, srv, "/ws"), dial(t, srv, "/ws")
	a.SendEvent("join", "j1", joinRequest{Room: "lobby"})
	if p := a.expect("join.ack", "j1"); string(p) != `{"room":"lobby","members":1}` {
		t.Fatalf("reply %s", p)
	}
	b.SendEvent("join", "j2", joinRequest{Room: "lobby"})
	if p := b.expect("join.ack", "j2"); string(p) != `{"room":"lobby","members":2}` {
		t.Fatalf("reply %s", p)
	}
	b.SendEvent("join", "j3", joinRequest{Room: "Not Valid"})
	b.expectError("j3", CodeInvalidPayload)
	// Without an id nothing comes back: the next message is the answer to
	// the one after.
	b.SendEvent("join", "", joinRequest{Room: "garden"})
	b.SendEvent("join", "j4", joinRequest{Room: "garden"})
	b.expect("join.ack", "j4")
}

// TestJoinRefusals: a join the hub refuses for the client's sake comes back
// as an error event with its own code, and the connection goes on.
func TestJoinRefusals(t *testing.T) {
	t.Parallel()
	h := newHub(t, hub.WithMaxRooms(1))
	srv := serveJoin(t, h)
	a := dial(t, srv, "/ws")
	a.SendEvent("join", "j1", joinRequest{Room: "lobby"})
	a.expect("join.ack", "j1")
	a.SendEvent("join", "j2", joinRequest{Room: "garden"})
	a.expectError("j2", CodeTooManyRooms)
	a.SendEvent("join", "j3", joinRequest{Room: "lobby"})
	a.expect("join.ack", "j3")
	if st := h.Status(); st.RefusedJoins != 1 {
		t.Fatalf("RefusedJoins = %d, want 1", st.RefusedJoins)
	}
}

type question struct {
	Q string `json:"q"`
}

type answer struct {
	OK bool `json:"ok" required:"true"`
}

// TestServerRequest has a handler ask the client a question and wait for
// the answer, while the client sends other events first: they are handled
// after the handler, in order.
func TestServerRequest(t *testing.T) {
	t.Parallel()
	d := New(quiet(), WithRequestTimeout(200*time.Millisecond))
	confirm := Requests[question, answer](d, "confirm")
	Emits[echoed](d, "result")
	On(d, "delete", func(c *Context, _ struct{}) error {
		a, err := confirm.Do(c.Context(), c, question{Q: "sure?"})
		switch {
		case errors.Is(err, ErrRequestTimeout):
			return c.Emit("result", echoed{Text: "timeout"})
		case err != nil:
			var e *Error
			if errors.As(err, &e) {
				return c.Emit("result", echoed{Text: "error " + e.Code})
			}
			return err
		}
		return c.Emit("result", echoed{Text: fmt.Sprint("ok=", a.OK)})
	})
	On(d, "note", func(c *Context, n echoed) error { return c.Emit("result", n) })
	srv := serve(t, d)
	c := dial(t, srv, "/ws")

	c.SendEvent("delete", "", nil)
	req := c.recv()
	if req.Event != "confirm" || req.ID == "" || string(req.Payload) != `{"q":"sure?"}` {
		t.Fatalf("request %+v", req)
	}
	c.SendEvent("note", "", echoed{Text: "first"})
	c.SendEvent("note", "", echoed{Text: "second"})
	c.SendEvent("confirm.ack", req.ID, answer{OK: true})
	for _, want := range []string{"ok=true", "first", "second"} {
		var got echoed
		json.Unmarshal(c.expect("result", ""), &got)
		if got.Text != want {
			t.Fatalf("result %q, want %q", got.Text, want)
		}
	}

	// The client refuses.
	c.SendEvent("delete", "", nil)
	req = c.recv()
	c.SendEvent("error", req.ID, Error{Code: "forbidden", Message: "no"})
	var got echoed
	json.Unmarshal(c.expect("result", ""), &got)
	if got.Text != "error forbidden" {
		t.Fatalf("result %q", got.Text)
	}

	// The client answers nonsense: it is told, and the handler sees the
	// reply's error.
	c.SendEvent("delete", "", nil)
	req = c.recv()
	c.SendEvent("confirm.ack", req.ID, map[string]any{"ok": "yes"})
	c.expectError(req.ID, CodeInvalidPayload)
	json.Unmarshal(c.expect("result", ""), &got)
	if got.Text != "error "+CodeInvalidPayload {
		t.Fatalf("result %q", got.Text)
	}

	// The client says nothing.
	c.SendEvent("delete", "", nil)
	req = c.recv()
	json.Unmarshal(c.expect("result", ""), &got)
	if got.Text != "timeout" {
		t.Fatalf("result %q", got.Text)
	}
	// A late answer is an answer to nothing.
	c.SendEvent("confirm.ack", req.ID, answer{OK: true})
	c.expectError(req.ID, CodeUnknownEvent)
}

// TestServerRequestFromGoroutine asks from a GoSafe goroutine while the
// connection's goroutine keeps reading.
func TestServerRequestFromGoroutine(t *testing.T) {
	t.Parallel()
	d := New(quiet())
	confirm := Requests[question, answer](d, "confirm")
	Emits[echoed](d, "result")
	On(d, "start", func(c *Context, _ struct{}) error {
		c.GoSafe(c.ConnContext(), func(ctx context.Context) {
			a, err := confirm.Do(ctx, c, question{Q: "later?"})
			if err == nil {
				c.Emit("result", echoed{Text: fmt.Sprint("ok=", a.OK)})
			}
		})
		return nil
	})
	On(d, "note", func(c *Context, n echoed) error { return c.Emit("result", n) })
	srv := serve(t, d)
	c := dial(t, srv, "/ws")
	c.SendEvent("start", "s", nil)
	// The acknowledgement and the goroutine's request race.
	var req forgetest.Event
	for range 2 {
		if m := c.recv(); m.Event == "confirm" {
			req = m
		} else if m.Event != "start.ack" || m.ID != "s" {
			t.Fatalf("got %+v", m)
		}
	}
	c.SendEvent("note", "", echoed{Text: "meanwhile"})
	c.expect("result", "")
	c.SendEvent("confirm.ack", req.ID, answer{OK: false})
	var got echoed
	json.Unmarshal(c.expect("result", ""), &got)
	if got.Text != "ok=false" {
		t.Fatalf("result %q", got.Text)
	}
}

func TestSubscriptions(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	d := New(quiet(), WithHub(h), WithOnConnect(func(c *Context) error { return c.Join("room") }))
	Emits[echoed](d, "news")
	Emits[echoed](d, "gossip")
	On(d, "tell", func(c *Context, m echoed) error { return c.Emit(m.Text, m) })
	srv := serve(t, d)
	picky := dial(t, srv, "/ws?events=news")
	all := dial(t, srv, "/ws?events=*")
	plain := dial(t, srv, "/ws")
	testkit.WaitFor(t, "three members", func() bool { return h.Count("room") == 3 })
	bcast := func(event string) {
		t.Helper()
		if err := d.Broadcast(context.Background(), "room", event, echoed{Text: event}); err != nil {
			t.Fatal(err)
		}
	}
	bcast("gossip")
	bcast("news")
	picky.expect("news", "")
	all.expect("gossip", "")
	all.expect("news", "")
	plain.expect("gossip", "")
	plain.expect("news", "")

	// At run time: picky takes gossip too, then drops news.
	picky.SendEvent("subscribe", "s1", Subscription{Events: []string{"gossip"}})
	picky.expect("subscribe.ack", "s1")
	picky.SendEvent("unsubscribe", "s2", Subscription{Events: []string{"news"}})
	picky.expect("unsubscribe.ack", "s2")
	bcast("news")
	bcast("gossip")
	picky.expect("gossip", "")
	// Emit to oneself is filtered too; the ack shows the handler ran.
	picky.SendEvent("tell", "t", echoed{Text: "news"})
	picky.expect("tell.ack", "t")
	picky.SendEvent("subscribe", "s3", Subscription{Events: []string{}})
	picky.expectError("s3", CodeInvalidPayload)

	if st := d.Stats(); st.Filtered != 1 {
		t.Fatalf("dispatcher Stats() = %+v", st)
	}
	if st := h.Status(); st.Filtered != 2 {
		t.Fatalf("hub Status() = %+v", st)
	}
}

func TestSubprotocolScopedHandlers(t *testing.T) {
	t.Parallel()
	d := New(quiet())
	Emits[echoed](d, "hello")
	for _, v := range []string{"v1", "v2"} {
		On(d, "greet", func(c *Context, _ struct{}) error {
			return c.Emit("hello", echoed{Text: v + " via " + c.Conn().Subprotocol()})
		}, WithSubprotocol(v))
	}
	On(d, "greet", func(c *Context, _ struct{}) error { return c.Emit("hello", echoed{Text: "any"}) })
	On(d, "v2only", func(c *Context, _ struct{}) error { return nil }, WithSubprotocol("v2"))
	srv := serve(t, d)
	tests := []struct {
		protos []string
		want   string
	}{
		{[]string{"v2"}, "v2 via v2"},
		{[]string{"v1", "v2"}, "v1 via v1"},
		{nil, "any"},
	}
	for _, tt := range tests {
		c := dial(t, srv, "/ws", tt.protos...)
		c.SendEvent("greet", "", nil)
		var got echoed
		json.Unmarshal(c.expect("hello", ""), &got)
		if got.Text != tt.want {
			t.Errorf("subprotocols %v: %q, want %q", tt.protos, got.Text, tt.want)
		}
		c.SendEvent("v2only", "x", nil)
		if c.Subprotocol() == "v2" {
			c.expect("v2only.ack", "x")
		} else {
			c.expectError("x", CodeUnknownEvent)
		}
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	logs := &testkit.Buffer{}
	var decoded atomic.Int32
	d := New(quiet(), WithMiddleware(Log(testkit.TextLogger(logs))))
	On(d, "admin", func(c *Context, p struct {
		N int `json:"n"`
	}) error {
		decoded.Add(1)
		return nil
	}, WithMiddleware(Authorize(func(c *Context) error {
		if c.Route().Query("token") != "secret" {
			return errors.New("admin events need a token")
		}
		return nil
	})))
	On(d, "chat", func(c *Context, _ struct{}) error { return nil }, WithMiddleware(RateLimit(0.001, 2)))
	srv := serve(t, d)
	guest := dial(t, srv, "/ws")
	admin := dial(t, srv, "/ws?token=secret")

	guest.SendEvent("admin", "1", map[string]any{"n": "not even a number"})
	if msg := guest.expectError("1", CodeForbidden); msg != "admin events need a token" {
		t.Fatalf("message %q", msg)
	}
	admin.SendEvent("admin", "2", map[string]any{"n": 1})
	admin.expect("admin.ack", "2")
	if n := decoded.Load(); n != 1 {
		t.Fatalf("the handler ran %d times", n)
	}
	for i := range 3 {
		guest.SendEvent("chat", fmt.Sprint("c", i), nil)
	}
	guest.expect("chat.ack", "c0")
	guest.expect("chat.ack", "c1")
	guest.expectError("c2", CodeRateLimited)
	// The limit is per connection.
	admin.SendEvent("chat", "a", nil)
	admin.expect("chat.ack", "a")

	if st := d.Stats(); st.Forbidden != 1 || st.RateLimited != 1 {
		t.Fatalf("Stats() = %+v", st)
	}
	if !strings.Contains(logs.String(), "event=chat id=c2") || !strings.Contains(logs.String(), "error=rate_limited") {
		t.Fatalf("log:\n%s", logs)
	}
}

type ctxKey struct{}

func (ctxKey) String() string { return "test key" }

func TestHooksAndConnectionContext(t *testing.T) {
	t.Parallel()
	h := newHub(t, hub.WithPresence("presence"))
	disconnected := make(chan string, 4)
	d := New(quiet(), WithHub(h),
		WithMeta(func(c *Context) map[string]string { return map[string]string{"user": c.Route().Query("user")} }),
		WithOnConnect(func(c *Context) error {
			if c.Route().Query("user") == "" {
				return NewError(CodeForbidden, "who are you?")
			}
			c.Set("greeting", "hello "+c.Route().Query("user"))
			return c.Join(c.Route().Param("room"))
		}),
		WithOnDisconnect(func(c *Context) { disconnected <- c.Route().Query("user") }))
	Emits[echoed](d, "greeting")
	On(d, "greet", func(c *Context, _ struct{}) error {
		// The connection's context keeps the values middleware stored in
		// the upgrade request, and lives on after the request.
		if c.ConnContext().Value(ctxKey{}) != "from middleware" || c.ConnContext().Err() != nil {
			return errors.New("connection context lost the request's values")
		}
		return c.Emit("greeting", echoed{Text: c.Get("greeting").(string)})
	})
	app := testmux.New(t)
	Route(app.Mux, "/ws/{room}", d, router.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "from middleware")))
		})
	}))
	srv := forgetest.Start(t, app)

	nobody := dial(t, srv, "/ws/lobby")
	nobody.expectError("", CodeForbidden)
	if reason := nobody.ExpectClose(int(connection.ClosePolicyViolation)); reason != "who are you?" {
		t.Fatalf("close reason %q", reason)
	}
	if u := <-disconnected; u != "" {
		t.Fatalf("disconnect hook for %q", u)
	}

	ann := dial(t, srv, "/ws/lobby?user=ann")
	ann.SendEvent("greet", "", nil)
	var g echoed
	json.Unmarshal(ann.expect("greeting", ""), &g)
	if g.Text != "hello ann" {
		t.Fatalf("greeting %q", g.Text)
	}
	bob := dial(t, srv, "/ws/lobby?user=bob")
	var p struct {
		Action string            `json:"action"`
		Meta   map[string]string `json:"meta"`
	}
	json.Unmarshal(ann.expect("presence", ""), &p)
	if p.Action != "join" || p.Meta["user"] != "bob" {
		t.Fatalf("presence %+v", p)
	}
	bob.Close()
	if u := <-disconnected; u != "bob" {
		t.Fatalf("disconnect hook for %q", u)
	}
	json.Unmarshal(ann.expect("presence", ""), &p)
	if p.Action != "leave" {
		t.Fatalf("presence %+v", p)
	}
}

func TestGoSafe(t *testing.T) {
	t.Parallel()
	d := New(quiet())
	Emits[echoed](d, "done")
	started := make(chan struct{})
	On(d, "work", func(c *Context, _ struct{}) error {
		c.GoSafe(c.ConnContext(), func(ctx context.Context) {
			close(started)
			<-ctx.Done() // runs until the connection ends, which waits for it
		})
		c.GoSafe(c.ConnContext(), func(context.Context) { panic("in a goroutine") })
		return nil
	})
	On(d, "ping", func(c *Context, _ struct{}) error { return c.Emit("done", echoed{}) })
	srv := serve(t, d)
	c := dial(t, srv, "/ws")
	c.SendEvent("work", "w", nil)
	c.expect("work.ack", "w")
	<-started
	c.SendEvent("ping", "", nil)
	c.expect("done", "")
	testkit.WaitFor(t, "the goroutine's panic", func() bool { return d.Stats().Panics == 1 })
	c.Close()
	testkit.WaitFor(t, "the connection to end", func() bool { return d.Stats().Connections == 0 })
	// goleak (TestMain) would find the first goroutine had it outlived
	// its connection.
}

func TestEmitChecks(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	d := New(quiet(), WithHub(h))
	Emits[echoed](d, "echo")
	Emits[any](d, "anything")
	results := make(chan error, 8)
	On(d, "try", func(c *Context, _ struct{}) error {
		results <- c.Emit("undeclared", echoed{})
		results <- c.Emit("echo", chatMessage{})
		results <- c.Emit("echo", &echoed{Text: "pointer is fine"})
		results <- c.Emit("anything", 42)
		results <- c.Broadcast("room", "undeclared", echoed{})
		return nil
	})
	srv := serve(t, d)
	c := dial(t, srv, "/ws")
	c.SendEvent("try", "", nil)
	for i, want := range []error{ErrUndeclared, ErrUndeclared, nil, nil, ErrUndeclared} {
		if err := <-results; !errors.Is(err, want) {
			t.Errorf("emit %d: %v, want %v", i, err, want)
		}
	}
	c.expect("echo", "")
	c.expect("anything", "")
	noHub := New(quiet())
	Emits[echoed](noHub, "echo")
	if err := noHub.Broadcast(context.Background(), "r", "echo", echoed{}); !errors.Is(err, ErrNoHub) {
		t.Fatalf("Broadcast without a hub: %v", err)
	}
}

func TestCloseCodesOnWrongUse(t *testing.T) {
	t.Parallel()
	d := New(quiet(), WithOnConnect(func(c *Context) error { panic("hook") }))
	srv := serve(t, d)
	c := dial(t, srv, "/ws")
	c.ExpectClose(int(connection.CloseInternalError))
	if st := d.Stats(); st.Panics != 1 {
		t.Fatalf("Stats() = %+v", st)
	}
}
