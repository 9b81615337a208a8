//go:build unix

package forge_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

type sayPayload struct {
	Text string `json:"text"`
}

// TestMetrics drives real WebSocket traffic through an app with metrics
// (connections, events, refused handshakes, a rate limit on each layer, a
// slow consumer's drops, close codes), scrapes /metrics over HTTP, parses
// it with Prometheus' text parser and checks that every series moved as
// the traffic says, labelled by route pattern and declared event only.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	keys := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{"k-1": {Subject: "robot"}})
	app := forge.New(
		forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		forge.WithMetrics(reg),
		forge.WithAuthProvider("key", keys),
	)
	r := app.Router()
	r.Mount("/metrics", forge.MetricsHandler(reg))
	h, err := hub.New()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	app.Inspect(h)

	// An events route: "say" is declared, anything else is "other".
	d := events.New(events.WithHub(h), events.WithOnConnect(func(c *events.Context) error {
		return c.Join(c.Route().Param("room"))
	}))
	events.OnRequest(d, "say", func(c *events.Context, p sayPayload) (sayPayload, error) { return p, nil },
		events.WithMiddleware(events.RateLimit(0.001, 1)))
	events.Route(r, "/ws/chat/:room", d)

	// A raw echo route whose rate limit closes the connection (1008).
	r.WebSocket("/ws/echo", func(_ forge.Context, conn forge.Connection) error {
		return testkit.Echo(conn)
	}, forge.WithMessageRateLimit(0.001, 1, true))

	// A route whose members never read, dropping what does not fit.
	joined := make(chan struct{}, 1)
	r.WebSocket("/ws/slow", joinAndWait(h, "slow", joined), forge.WithQueueBytes(8<<10), forge.WithSlowConsumerPolicy(connection.PolicyDropNewest))

	r.WebSocket("/ws/private", func(forge.Context, forge.Connection) error { return nil }, forge.WithAuth("key"))
	srv := forgetest.Start(t, app)

	// Refused: a foreign origin, missing credentials.
	if _, resp, err := srv.DialErr("/ws/echo", http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v; want 403", err)
	}
	if _, resp, err := srv.DialErr("/ws/private", nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials: %v; want 401", err)
	}

	// Events: say (handled), say (over the event rate limit), an
	// undeclared event.
	chat := srv.Dial(t, "/ws/chat/lobby", nil)
	chat.SendText(`{"event":"say","id":"1","payload":{"text":"hi"}}`)
	if got := chat.ReadText(); !strings.Contains(got, `"say.ack"`) {
		t.Fatalf("got %s, want the ack", got)
	}
	chat.SendText(`{"event":"say","id":"2","payload":{"text":"again"}}`)
	if got := chat.ReadText(); !strings.Contains(got, `"rate_limited"`) {
		t.Fatalf("got %s, want a rate-limit error", got)
	}
	chat.SendText(`{"event":"nope-` + "lobby" + `"}`)
	if got := chat.ReadText(); !strings.Contains(got, `"unknown_event"`) {
		t.Fatalf("got %s, want an unknown-event error", got)
	}

	// Echo: one echoed, one over the connection's rate limit, which
	// closes it.
	echo := srv.Dial(t, "/ws/echo", nil)
	echo.SendText("one")
	if got := echo.ReadText(); got != "one" {
		t.Fatalf("echo %q", got)
	}
	echo.SendText("two")
	echo.ExpectClose(int(connection.ClosePolicyViolation))

	// Slow: a member that never reads, until the hub sees a drop.
	testkit.DialTiny(t, srv.WebSocketURL("/ws/slow"))
	<-joined
	big := hub.Message{Data: []byte(strings.Repeat("x", 2<<10))}
	for i := 0; h.Status().Dropped == 0; i++ {
		if i == 100_000 {
			t.Fatalf("no drop after %d broadcasts", i)
		}
		if err := h.Broadcast(context.Background(), "slow", big); err != nil {
			t.Fatal(err)
		}
	}

	const chatRoute, echoRoute, slowRoute = "/ws/chat/{room}", "/ws/echo", "/ws/slow"
	var fams map[string]*dto.MetricFamily
	// The echo connection's close is counted once its closing handshake
	// is over: wait for it.
	testkit.WaitFor(t, "the 1008 close to be counted", func() bool {
		fams = scrape(t, srv.URL+"/metrics")
		return value(fams, "forge_ws_closes_total", "route", echoRoute, "code", "1008") == 1
	})
	want := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"forge_ws_connections_total", []string{"route", chatRoute}, 1},
		{"forge_ws_connections_total", []string{"route", echoRoute}, 1},
		{"forge_ws_connections_open", []string{"route", chatRoute}, 1},
		{"forge_ws_connections_open", []string{"route", echoRoute}, 0},
		{"forge_ws_handshakes_refused_total", []string{"route", echoRoute, "reason", "origin"}, 1},
		{"forge_ws_handshakes_refused_total", []string{"route", "/ws/private", "reason", "auth"}, 1},
		{"forge_ws_handshake_duration_seconds", []string{"route", chatRoute}, 1},
		{"forge_ws_messages_received_total", []string{"route", chatRoute, "event", "say"}, 2},
		{"forge_ws_messages_received_total", []string{"route", chatRoute, "event", "other"}, 1},
		{"forge_ws_received_bytes_total", []string{"route", chatRoute, "event", "other"}, float64(len(`{"event":"nope-lobby"}`))},
		{"forge_ws_messages_sent_total", []string{"route", chatRoute, "event", "say.ack"}, 1},
		{"forge_ws_messages_sent_total", []string{"route", chatRoute, "event", "error"}, 2},
		{"forge_ws_messages_received_total", []string{"route", echoRoute, "event", ""}, 2},
		{"forge_ws_messages_sent_total", []string{"route", echoRoute, "event", ""}, 1},
		{"forge_ws_rate_limited_total", []string{"route", chatRoute, "layer", "event"}, 1},
		{"forge_ws_rate_limited_total", []string{"route", echoRoute, "layer", "connection"}, 1},
		{"forge_events_handler_duration_seconds", []string{"route", chatRoute, "event", "say", "outcome", "ok"}, 1},
		{"forge_events_handler_duration_seconds", []string{"route", chatRoute, "event", "say", "outcome", "error"}, 1},
		{"forge_hub_dropped_total", []string{"node", h.Node()}, float64(h.Status().Dropped)},
	}
	for _, w := range want {
		if got := value(fams, w.name, w.labels...); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
	if got := value(fams, "forge_ws_dropped_messages_total", "route", slowRoute, "policy", "drop_newest", "reason", "queue_full"); got < 1 {
		t.Errorf("dropped on %s = %v, want at least one", slowRoute, got)
	}
	if got := value(fams, "forge_ws_queue_bytes", "route", slowRoute); got < 1 {
		t.Errorf("queue bytes observations on %s = %v, want some", slowRoute, got)
	}
	if got := value(fams, "forge_hub_published_total", "node", h.Node()); got < 2 {
		t.Errorf("hub published = %v", got)
	}
	// Without the inspector, the app still lists its connections (with
	// their rooms in the inspected hub) and its status.
	var inLobby int
	for _, c := range app.Connections() {
		if c.Route == chatRoute && len(c.Rooms) == 1 && c.Rooms[0] == "lobby" && c.MessagesIn == 3 {
			inLobby++
		}
	}
	if st := app.Status(); inLobby != 1 || len(st.Hubs) != 1 || st.Hubs[0].Node != h.Node() || st.Connections.Refused != 2 || st.Routes != nil {
		t.Errorf("Connections() = %+v, Status() = %+v", app.Connections(), st)
	}
	// No label carries a room name, a raw path or an undeclared event.
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "lobby") || strings.Contains(l.GetValue(), "nope") {
					t.Errorf("%s has label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// scrape gets url and parses it as Prometheus' text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(testkit.Get(t, url)))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// value returns the value of the series of name with the given label
// pairs (a histogram's sample count), or -1 if there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := make(map[string]string)
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}
