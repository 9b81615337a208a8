package forge

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/metrics"
)

// WithMetrics exports the application's WebSocket metrics to Prometheus,
// registered with reg: connections open and opened, handshakes refused by
// reason, messages and bytes in and out by route and declared event,
// drops and slow-consumer closes by policy, close codes, rate-limit hits,
// the outbound queue's bytes, handshake and event-handler latency, and
// the counters of the hubs given to App.Inspect (broker publish errors
// among them). Package metrics lists the series. Labels are route
// patterns and declared event names, never raw paths, room names or ids.
//
// WithMetrics serves nothing by itself: mount MetricsHandler where the
// scraper looks, usually /metrics:
//
//	reg := prometheus.NewRegistry()
//	app := forge.New(forge.WithMetrics(reg))
//	app.Router().Mount("/metrics", forge.MetricsHandler(reg))
//
// Without WithMetrics, connections call no metrics code at all. A nil reg
// panics, and so does New when reg refuses the metrics (registered twice).
func WithMetrics(reg prometheus.Registerer) Option {
	if reg == nil {
		panic("forge: WithMetrics: nil Registerer")
	}
	return func(c *config) { c.observe.metrics = reg }
}

// MetricsHandler serves the metrics gathered by g in Prometheus' formats
// (text, or protobuf and OpenMetrics when the scraper asks), for mounting
// at /metrics (see WithMetrics). A collector that fails is logged and left
// out; the others are still served.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	if g == nil {
		panic("forge: MetricsHandler: nil Gatherer")
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// observeConfig is what WithMetrics and WithAdmin ask for.
type observeConfig struct {
	metrics prometheus.Registerer
	admin   *adminConfig
}

// observe installs the application's observers on its tracker: the
// metrics collector and the inspector, or nothing.
func (a *App) observe(c observeConfig, logger *slog.Logger) {
	var obs []connection.Observer
	if c.metrics != nil {
		m, err := metrics.New(c.metrics, a.mux.Routes)
		if err != nil {
			panic(fmt.Sprintf("forge: WithMetrics: %v", err))
		}
		a.insp.metrics = m
		obs = append(obs, m)
	}
	if c.admin != nil {
		obs = append(obs, a.mountAdmin(c.admin, logger))
	}
	switch len(obs) {
	case 1:
		a.tracker.Observe(obs[0])
	case 2:
		a.tracker.Observe(observers{obs[0], obs[1]})
	}
}

// observers has two Observers watch the same connections.
type observers [2]connection.Observer

func (o observers) Refused(route string, why connection.Refusal) {
	o[0].Refused(route, why)
	o[1].Refused(route, why)
}

func (o observers) HeaderTimedOut() {
	for _, ob := range o {
		if h, ok := ob.(connection.HeaderTimeoutObserver); ok {
			h.HeaderTimedOut()
		}
	}
}

func (o observers) Opened(c *connection.Conn, info connection.OpenInfo) connection.ConnObserver {
	a, b := o[0].Opened(c, info), o[1].Opened(c, info)
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return connObservers{a, b}
}

// connObservers has two ConnObservers watch one connection; it passes
// the event layer's Handled on to those that implement it.
type connObservers [2]connection.ConnObserver

func (o connObservers) Message(in bool, typ connection.MessageType, data []byte) {
	o[0].Message(in, typ, data)
	o[1].Message(in, typ, data)
}

func (o connObservers) Queued(bytes int) {
	o[0].Queued(bytes)
	o[1].Queued(bytes)
}

func (o connObservers) Dropped(why connection.Drop) {
	o[0].Dropped(why)
	o[1].Dropped(why)
}

func (o connObservers) Closed(info connection.SessionInfo) {
	o[0].Closed(info)
	o[1].Closed(info)
}

func (o connObservers) Handled(event string, took time.Duration, err error) {
	for _, c := range o {
		if h, ok := c.(events.HandlerObserver); ok {
			h.Handled(event, took, err)
		}
	}
}
