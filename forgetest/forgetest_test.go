package forgetest_test

import (
	"io"
	"log/slog"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/forgetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type text struct {
	Text string `json:"text"`
}

// TestEvents checks SendEvent and ExpectEvent against an events route.
func TestEvents(t *testing.T) {
	app := forge.New(forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	d := events.New()
	events.OnRequest(d, "shout", func(_ *events.Context, p text) (text, error) {
		return text{Text: p.Text + "!"}, nil
	})
	events.Route(app.Router(), "/ws", d)
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
