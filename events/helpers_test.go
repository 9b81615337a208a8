package events

import (
	"encoding/json"
	"flag"
	"log/slog"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

// The tests run twice: with the dispatchers' connections listening (the
// default), then with WithDedicatedReader (serve gives it to every
// dispatcher), so that both ways of reading pass every test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(bothReaders{m}) }

type bothReaders struct{ m *testing.M }

func (b bothReaders) Run() int {
	code := b.m.Run()
	if code != 0 || flag.Lookup("test.bench").Value.String() != "" {
		return code
	}
	dedicatedReaders = true
	return b.m.Run()
}

// dedicatedReaders has serve route dispatchers with WithDedicatedReader.
var dedicatedReaders bool

// serve routes d on /ws and starts the server.
func serve(t testing.TB, d *Dispatcher, opts ...router.WebSocketOption) *forgetest.Server {
	t.Helper()
	if dedicatedReaders {
		d.cfg.dedicatedReader = true
	}
	app := testmux.New(t)
	Route(app.Mux, "/ws", d, opts...)
	return forgetest.Start(t, app)
}

func quiet() DispatcherOption { return WithLogger(slog.New(slog.DiscardHandler)) }

// client is a test client speaking forge's envelope.
type client struct {
	*forgetest.Conn
	t testing.TB
}

func dial(t testing.TB, srv *forgetest.Server, path string, protos ...string) *client {
	t.Helper()
	return &client{Conn: srv.Dial(t, path, nil, protos...), t: t}
}

func (c *client) recv() forgetest.Event {
	c.t.Helper()
	var o forgetest.Event
	c.ReadJSON(&o)
	return o
}

// expect reads the next message, which must be event with id, and
// returns its payload.
func (c *client) expect(event, id string) json.RawMessage {
	c.t.Helper()
	o := c.recv()
	if o.Event != event || o.ID != id {
		c.t.Fatalf("got %s %q %s, want event %q id %q", o.Event, o.ID, o.Payload, event, id)
	}
	return o.Payload
}

// expectError reads an error event with id and code and returns its
// message.
func (c *client) expectError(id, code string) string {
	c.t.Helper()
	var e Error
	if err := json.Unmarshal(c.expect("error", id), &e); err != nil {
		c.t.Fatal(err)
	}
	if e.Code != code {
		c.t.Fatalf("error %+v, want code %q", e, code)
	}
	return e.Message
}

func newHub(t testing.TB, opts ...hub.Option) *hub.Hub {
	t.Helper()
	h, err := hub.New(append([]hub.Option{hub.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
