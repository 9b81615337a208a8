// Package metrics exports what a forge application's WebSocket routes,
// event handlers and hubs do as Prometheus metrics.
//
// A Collector is a connection.Observer: the application's connection
// Tracker tells it about every handshake refused and every connection
// opened, and each connection tells it about its messages, drops and
// close. The root package wires it (forge.WithMetrics); connection, hub and
// events never import a metrics library, and a Tracker without an
// observer calls nothing, so an application without metrics pays nothing.
//
// # Labels
//
// Every series is labelled by route pattern ("/ws/chat/{room}"), never by
// the request's path, and messages by event name only when the route
// declares that event (package events declares every event it handles or
// sends): any other name counts as "other", and a route without an event
// envelope counts its messages under event "". Room names, connection ids
// and addresses are never labels. The number of series is therefore
// bounded by what the program declares, not by what clients send.
//
// # Series
//
//	forge_ws_connections_open{route}                       gauge
//	forge_ws_connections_total{route}                      counter
//	forge_ws_handshakes_refused_total{route,reason}        counter: origin, auth, bad_request, shutdown
//	forge_ws_handshake_duration_seconds{route}             histogram: from the upgrade's start to its end
//	forge_ws_messages_received_total{route,event}          counter
//	forge_ws_received_bytes_total{route,event}             counter
//	forge_ws_messages_sent_total{route,event}              counter: handed to the socket
//	forge_ws_sent_bytes_total{route,event}                 counter
//	forge_ws_dropped_messages_total{route,policy,reason}   counter: queue_full, closing
//	forge_ws_slow_consumer_closes_total{route,policy}      counter
//	forge_ws_closes_total{route,code}                      counter: the close code sent
//	forge_ws_rate_limited_total{route,layer}               counter: connection (WithMessageRateLimit), event (events.RateLimit)
//	forge_ws_queue_bytes{route}                            histogram: bytes queued when a message joins a queue
//	forge_events_handler_duration_seconds{route,event,outcome} histogram: ok, error
//	forge_hub_published_total{node}, forge_hub_delivered_total{node}, forge_hub_dropped_total{node},
//	forge_hub_broker_errors_total{node}, forge_hub_broker_dropped_total{node},
//	forge_hub_connections{node}, forge_hub_rooms{node}     from the hubs given to AddHub
package metrics

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
)

// Other is the event label of a message whose event the route does not
// declare.
const Other = "other"

// Collector holds an application's metrics and observes its connections.
// Create it with New; its methods are safe for concurrent use.
type Collector struct {
	routes func() []apidoc.Route

	open        *prometheus.GaugeVec
	opened      *prometheus.CounterVec
	refused     *prometheus.CounterVec
	handshake   *prometheus.HistogramVec
	msgsIn      *prometheus.CounterVec
	bytesIn     *prometheus.CounterVec
	msgsOut     *prometheus.CounterVec
	bytesOut    *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	slow        *prometheus.CounterVec
	closes      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	queue       *prometheus.HistogramVec
	handler     *prometheus.HistogramVec

	headerTimeouts prometheus.Counter

	mu     sync.Mutex // guards byPath
	byPath map[string]*route

	hubs hubCollector
}

var (
	_ connection.Observer              = (*Collector)(nil)
	_ connection.HeaderTimeoutObserver = (*Collector)(nil)
)

// New returns a Collector whose metrics are registered with reg. routes
// lists the application's routes, for the events each declares; it is
// called once per route pattern, at the route's first connection. New
// returns the registration's error (a metric of the same name registered
// already, for one).
func New(reg prometheus.Registerer, routes func() []apidoc.Route) (*Collector, error) {
	byRoute := []string{"route"}
	routeEvent := []string{"route", "event"}
	c := &Collector{
		routes: routes,
		byPath: make(map[string]*route),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "forge_ws_connections_open", Help: "WebSocket connections open now.",
		}, byRoute),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_connections_total", Help: "WebSocket connections opened (upgrades completed).",
		}, byRoute),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_handshakes_refused_total", Help: "WebSocket handshakes refused before the upgrade, by reason: origin, auth, bad_request, shutdown.",
		}, []string{"route", "reason"}),
		handshake: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "forge_ws_handshake_duration_seconds", Help: "Time from the start of a WebSocket upgrade to its end.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, byRoute),
		msgsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_messages_received_total", Help: "WebSocket data messages read from clients, by declared event (other: undeclared).",
		}, routeEvent),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_received_bytes_total", Help: "Payload bytes of the WebSocket messages read from clients.",
		}, routeEvent),
		msgsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_messages_sent_total", Help: "WebSocket data messages handed to clients' sockets, by declared event (other: undeclared).",
		}, routeEvent),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_sent_bytes_total", Help: "Payload bytes of the WebSocket messages handed to clients' sockets.",
		}, routeEvent),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_dropped_messages_total", Help: "Outbound WebSocket messages never sent: the queue was full (queue_full) or the connection closing (closing); by the route's slow-consumer policy.",
		}, []string{"route", "policy", "reason"}),
		slow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_slow_consumer_closes_total", Help: "WebSocket connections closed because their outbound queue stayed full, by the route's slow-consumer policy.",
		}, []string{"route", "policy"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_closes_total", Help: "WebSocket connections ended, by the close code sent (1006: none could be).",
		}, []string{"route", "code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_ws_rate_limited_total", Help: "Incoming WebSocket messages over a rate limit: the route's (layer connection) or an event handler's (layer event).",
		}, []string{"route", "layer"}),
		queue: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "forge_ws_queue_bytes", Help: "Bytes waiting in a WebSocket connection's outbound queue when a message joins it.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 9), // 256 B to 16 MiB
		}, byRoute),
		headerTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forge_http_header_timeouts_total", Help: "Connections closed because their request headers did not arrive within the read-header timeout (forge.WithReadHeaderTimeout), such as slowloris clients.",
		}),
		handler: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "forge_events_handler_duration_seconds", Help: "Time an event handler took, by declared event and outcome (ok, error).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "event", "outcome"}),
	}
	c.hubs.init()
	for _, col := range []prometheus.Collector{
		c.open, c.opened, c.refused, c.handshake, c.msgsIn, c.bytesIn, c.msgsOut, c.bytesOut,
		c.dropped, c.slow, c.closes, c.rateLimited, c.queue, c.handler, c.headerTimeouts, &c.hubs,
	} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// AddHub exports h's counters (hub.Status) under its node id.
func (c *Collector) AddHub(h *hub.Hub) { c.hubs.add(h) }

// Refused implements connection.Observer.
func (c *Collector) Refused(route string, why connection.Refusal) {
	c.refused.WithLabelValues(route, why.String()).Inc()
}

// HeaderTimedOut implements connection.HeaderTimeoutObserver.
func (c *Collector) HeaderTimedOut() { c.headerTimeouts.Inc() }

// Opened implements connection.Observer.
func (c *Collector) Opened(_ *connection.Conn, info connection.OpenInfo) connection.ConnObserver {
	r := c.route(info.Route)
	r.opened.Inc()
	r.open.Inc()
	r.handshake.Observe(info.Handshake.Seconds())
	policy := policyName(info.Policy)
	return &connObserver{c: c, r: r, drops: r.drops(c, policy)}
}

// route returns the series of one route, made at its first connection.
func (c *Collector) route(pattern string) *route {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.byPath[pattern]; r != nil {
		return r
	}
	r := &route{
		pattern:   pattern,
		open:      c.open.WithLabelValues(pattern),
		opened:    c.opened.WithLabelValues(pattern),
		handshake: c.handshake.WithLabelValues(pattern),
		queue:     c.queue.WithLabelValues(pattern),
		connRate:  c.rateLimited.WithLabelValues(pattern, "connection"),
		eventRate: c.rateLimited.WithLabelValues(pattern, "event"),
		in:        make(map[string]*traffic),
		out:       make(map[string]*traffic),
		closes:    make(map[connection.StatusCode]prometheus.Counter),
		byPolicy:  make(map[string]*drops),
		handlers:  make(map[string]*outcomes),
	}
	var declared []apidoc.Message
	if c.routes != nil {
		for _, ri := range c.routes() {
			if ri.WebSocket && ri.Pattern == pattern {
				declared = ri.Messages
				break
			}
		}
	}
	r.key = envelopeKey(declared)
	add := func(m map[string]*traffic, msgs, bytes *prometheus.CounterVec, name string) {
		if _, ok := m[name]; !ok {
			m[name] = &traffic{msgs: msgs.WithLabelValues(pattern, name), bytes: bytes.WithLabelValues(pattern, name)}
		}
	}
	if r.key == "" {
		add(r.in, c.msgsIn, c.bytesIn, "")
		add(r.out, c.msgsOut, c.bytesOut, "")
	} else {
		add(r.in, c.msgsIn, c.bytesIn, Other)
		add(r.out, c.msgsOut, c.bytesOut, Other)
		for _, m := range declared {
			for msg := &m; msg != nil; msg = msg.Reply {
				if msg.Direction == apidoc.ClientToServer {
					add(r.in, c.msgsIn, c.bytesIn, msg.Name)
				} else {
					add(r.out, c.msgsOut, c.bytesOut, msg.Name)
				}
			}
		}
		for name := range r.in {
			r.handlers[name] = &outcomes{
				ok:  c.handler.WithLabelValues(pattern, name, "ok"),
				err: c.handler.WithLabelValues(pattern, name, "error"),
			}
		}
	}
	c.byPath[pattern] = r
	return r
}

// envelopeKey returns the member of a route's messages that names their
// event: "event" for package events' envelope, "cmd" for its command
// envelope, "" for a route whose messages are not in an envelope.
func envelopeKey(msgs []apidoc.Message) string {
	for _, m := range msgs {
		if m.Envelope != nil {
			return "event"
		}
	}
	for _, m := range msgs {
		t := reflect.TypeOf(m.Payload)
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			continue
		}
		for f := range t.Fields() {
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == "cmd" {
				return "cmd"
			}
		}
	}
	return ""
}

func policyName(p connection.Policy) string {
	switch p {
	case connection.PolicyDropOldest:
		return "drop_oldest"
	case connection.PolicyDropNewest:
		return "drop_newest"
	}
	return "close"
}

// route holds the series of one route pattern, resolved once, so that a
// message costs a map lookup and two atomic adds.
type route struct {
	pattern             string
	key                 string // see envelopeKey
	open                prometheus.Gauge
	opened              prometheus.Counter
	handshake, queue    prometheus.Observer
	connRate, eventRate prometheus.Counter
	in, out             map[string]*traffic // by event label; read-only once made
	handlers            map[string]*outcomes
	mu                  sync.Mutex // guards closes and byPolicy
	closes              map[connection.StatusCode]prometheus.Counter
	byPolicy            map[string]*drops
}

type traffic struct{ msgs, bytes prometheus.Counter }

type outcomes struct{ ok, err prometheus.Observer }

// traffic returns the counters of a message, by the event it names.
func (r *route) traffic(m map[string]*traffic, data []byte) *traffic {
	if r.key == "" {
		return m[""]
	}
	name, ok := eventOf(data, r.key)
	if ok {
		if t := m[string(name)]; t != nil { // no allocation
			return t
		}
	}
	return m[Other]
}

// connObserver watches one connection for a Collector.
type connObserver struct {
	c     *Collector
	r     *route
	drops *drops
}

// drops holds a route's drop counters under one slow-consumer policy.
type drops struct {
	queueFull, closing, slow prometheus.Counter
}

// drops returns the drop counters of r under policy, made once.
func (r *route) drops(c *Collector, policy string) *drops {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := r.byPolicy[policy]; d != nil {
		return d
	}
	d := &drops{
		queueFull: c.dropped.WithLabelValues(r.pattern, policy, connection.DropQueueFull.String()),
		closing:   c.dropped.WithLabelValues(r.pattern, policy, connection.DropClosing.String()),
		slow:      c.slow.WithLabelValues(r.pattern, policy),
	}
	r.byPolicy[policy] = d
	return d
}

var _ connection.ConnObserver = (*connObserver)(nil)

func (o *connObserver) Message(in bool, _ connection.MessageType, data []byte) {
	m := o.r.out
	if in {
		m = o.r.in
	}
	t := o.r.traffic(m, data)
	t.msgs.Inc()
	t.bytes.Add(float64(len(data)))
}

func (o *connObserver) Queued(bytes int) { o.r.queue.Observe(float64(bytes)) }

func (o *connObserver) Dropped(why connection.Drop) {
	switch why {
	case connection.DropRateLimited:
		o.r.connRate.Inc()
	case connection.DropSlowConsumer:
		o.drops.slow.Inc()
	case connection.DropClosing:
		o.drops.closing.Inc()
	default:
		o.drops.queueFull.Inc()
	}
}

func (o *connObserver) Closed(info connection.SessionInfo) {
	o.r.open.Dec()
	r := o.r
	r.mu.Lock()
	ctr := r.closes[info.Code]
	if ctr == nil {
		ctr = o.c.closes.WithLabelValues(r.pattern, strconv.Itoa(int(info.Code)))
		r.closes[info.Code] = ctr
	}
	r.mu.Unlock()
	ctr.Inc()
}

// Handled is called by package events after an event's handler returned:
// its time, by declared event, and whether it failed. A handler refused by
// events.RateLimit counts as a rate-limit hit of layer "event".
func (o *connObserver) Handled(event string, took time.Duration, err error) {
	oc := o.r.handlers[event]
	if oc == nil {
		oc = o.r.handlers[Other]
	}
	var e *events.Error
	if errors.As(err, &e) && e.Code == events.CodeRateLimited {
		o.r.eventRate.Inc()
	}
	if oc == nil { // a route without events
		return
	}
	if err != nil {
		oc.err.Observe(took.Seconds())
	} else {
		oc.ok.Observe(took.Seconds())
	}
}
