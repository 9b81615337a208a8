package events

import (
	"encoding/json"
	"testing"

	"github.com/forgekit/forge/router"
)

// TestMessageRateLimitInRouteEnvelope: a message dropped by the route's
// WithMessageRateLimit is answered in the dispatcher's envelope, commands
// included.
func TestMessageRateLimitInRouteEnvelope(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		opts    []DispatcherOption
		send    string
		event   string // the member that names the event
		payload string // the member that carries the payload
	}{
		{"events", nil, `{"event":"ping","id":"1"}`, "event", "payload"},
		{"commands", []DispatcherOption{WithCommandEnvelope()}, `{"cmd":"ping","id":"1","channel":"c"}`, "cmd", "param"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := New(append([]DispatcherOption{quiet()}, tt.opts...)...)
			On(d, "ping", func(*Context, struct{}) error { return nil })
			// One message per 1,000 s: the second is over the limit.
			c := dial(t, serve(t, d, router.WithMessageRateLimit(0.001, 1, false)), "/ws")
			c.SendText(tt.send)
			c.SendText(tt.send)
			for _, want := range []string{"ping" + ackSuffix, "error"} {
				var m map[string]json.RawMessage
				c.ReadJSON(&m)
				var event string
				json.Unmarshal(m[tt.event], &event)
				if event != want {
					t.Fatalf("got %v, want %s %q", m, tt.event, want)
				}
				if want != "error" {
					continue
				}
				var e Error
				if err := json.Unmarshal(m[tt.payload], &e); err != nil || e.Code != CodeRateLimited {
					t.Fatalf("rate-limit answer %v", m)
				}
			}
		})
	}
}
