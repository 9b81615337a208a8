package forgetest_test

import (
	"log/slog"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit/testmux"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type text struct {
	Text string `json:"text"`
}

// TestEvents checks SendEvent and ExpectEvent against an events route.
func TestEvents(t *testing.T) {
	app := testmux.New(t)
	d := events.New(events.WithLogger(slog.New(slog.DiscardHandler)))
	events.OnRequest(d, "shout", func(_ *events.Context, p text) (text, error) {
		return text{Text: p.Text + "!"}, nil
	})
	events.Route(app.Mux, "/ws", d)
	srv := forgetest.Start(t, app)

	ws := srv.Dial(t, "/ws", nil)
	ws.SendEvent("shout", "1", text{Text: "hi"})
	var got text
	ws.ExpectEvent("shout.ack", "1", &got)
	if got.Text != "hi!" {
		t.Fatalf("shout.ack payload %+v", got)
	}
	ws.SendEvent("shout", "2", text{Text: "again"})
	ws.ExpectEvent("shout.ack", "2", nil)
}
