package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/router"
)

// Dispatcher routes the messages of WebSocket connections to handlers by
// event name, and sends events back. Register handlers (On, OnRequest,
// OnAny, Controller), declare what the server sends (Emits, Requests),
// then serve it with Route, which also declares every message for the
// route's AsyncAPI document. Registering after Route panics, so the
// documents never miss an event.
//
// Each connection's messages are handled one at a time, in order (by the
// connection's listener, or its goroutine with WithDedicatedReader); a
// handler that wants to work in the background uses Context.GoSafe. Its
// methods are safe for concurrent use once serving.
type Dispatcher struct {
	cfg settings
	env *envelope
	log *slog.Logger

	mu           sync.Mutex // guards registration; the fields below are read-only once sealed
	sealed       bool
	handlers     map[string]*entry
	fallback     *entry
	emits        map[string]reflect.Type // declared server events and their payload types
	transient    map[string]bool         // server events kept out of room histories
	msgs         []apidoc.Message
	subprotocols []string

	stats counters
}

// entry holds the handlers of one event name.
type entry struct {
	all   *handler            // for any subprotocol
	bySub map[string]*handler // for one subprotocol
}

// handler is one registered handler, its middleware included.
type handler struct {
	name    string
	run     Next
	timeout time.Duration
}

// New returns a Dispatcher configured by opts. Options that cannot work
// together panic, like other registration mistakes.
func New(opts ...DispatcherOption) *Dispatcher {
	var s settings
	s.dispatcherOptions(opts)
	if s.err != "" {
		panic("forge: events: New: " + s.err)
	}
	if s.meta != nil && s.hub == nil {
		panic("forge: events: New: WithMeta needs WithHub")
	}
	if s.commands && s.hub != nil && s.hub.PresenceEvent() != "" {
		panic("forge: events: New: the hub's presence messages use the event envelope, not WithCommandEnvelope's")
	}
	if s.reqTimeout == 0 {
		s.reqTimeout = DefaultRequestTimeout
	}
	d := &Dispatcher{
		cfg:       s,
		env:       eventEnvelope,
		log:       s.log,
		handlers:  make(map[string]*entry),
		emits:     make(map[string]reflect.Type),
		transient: make(map[string]bool),
	}
	if s.commands {
		d.env = commandEnvelope
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.declare("New", "error", reflect.TypeFor[*Error](), nil, settings{
		summary: "The answer to a message that could not be handled; it carries the message's id, if it had one.",
	})
	d.registerSubscriptions()
	if s.hub != nil && s.hub.KeepsHistory() && !s.commands {
		d.registerHistory()
	}
	if p := s.hub; p != nil && p.PresenceEvent() != "" {
		d.declare("New", p.PresenceEvent(), reflect.TypeFor[hub.Presence](), nil, settings{
			summary: "A member joined or left a room the connection is in.",
		})
	}
	return d
}

// eventName matches the event names the documents can carry as message
// keys.
var eventName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// checkName panics unless name can be registered.
func (d *Dispatcher) checkName(fn, name string) {
	switch {
	case !eventName.MatchString(name):
		panic(fmt.Sprintf("forge: events: %s: event name %q must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", fn, name))
	case strings.HasSuffix(name, ackSuffix):
		panic(fmt.Sprintf("forge: events: %s: event name %q: the suffix %q is reserved for replies", fn, name, ackSuffix))
	case name == "error":
		panic(fmt.Sprintf("forge: events: %s: event name %q is reserved for error events", fn, name))
	}
}

// ackSuffix makes the event name of a reply: the reply to "join" is
// "join.ack".
const ackSuffix = ".ack"

// spec is what a registration function hands to register.
type spec struct {
	fn      string       // the registering function, for panics
	name    string       // "" for the fallback
	in      reflect.Type // payload type; nil for none
	out     reflect.Type // reply payload type; nil for an empty ack
	core    Next         // decodes and calls the handler
	opts    []HandlerOption
	summary string // default summary
}

// register adds a client event's handler and declares it.
func (d *Dispatcher) register(sp spec) {
	var s settings
	s.timeout = d.cfg.timeout
	s.handlerOptions(sp.opts)
	if s.err != "" {
		panic(fmt.Sprintf("forge: events: %s(%q): %s", sp.fn, sp.name, s.err))
	}
	h := &handler{name: sp.name, timeout: s.timeout, run: sp.core}
	mws := append(slices.Clone(d.cfg.middleware), s.middleware...)
	for _, mw := range slices.Backward(mws) {
		next := h.run
		h.run = func(c *Context) (any, error) { return mw(c, next) }
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	d.mustOpen(sp.fn, sp.name)
	var e *entry
	if sp.name == "" {
		if d.fallback == nil {
			d.fallback = &entry{}
		}
		e = d.fallback
	} else {
		if e = d.handlers[sp.name]; e == nil {
			e = &entry{}
			d.handlers[sp.name] = e
		}
	}
	if s.subprotocol == "" {
		if e.all != nil {
			panic(fmt.Sprintf("forge: events: %s: event %q has a handler already", sp.fn, sp.name))
		}
		e.all = h
	} else {
		if e.bySub[s.subprotocol] != nil {
			panic(fmt.Sprintf("forge: events: %s: event %q has a handler for subprotocol %q already", sp.fn, sp.name, s.subprotocol))
		}
		if e.bySub == nil {
			e.bySub = make(map[string]*handler)
		}
		e.bySub[s.subprotocol] = h
		if !slices.Contains(d.subprotocols, s.subprotocol) {
			d.subprotocols = append(d.subprotocols, s.subprotocol)
		}
	}

	summary := s.summary
	if summary == "" {
		summary = sp.summary
	}
	if s.subprotocol != "" {
		summary = strings.TrimSpace(summary + " (subprotocol " + s.subprotocol + ")")
	}
	if sp.name == "" {
		d.msgs = append(d.msgs, apidoc.Message{
			Name: d.anyName(), Direction: apidoc.ClientToServer, Payload: d.anyPayload(false),
			Summary: summary, Description: s.description,
			Reply: &apidoc.Message{
				Name: d.anyName() + ackSuffix, Direction: apidoc.ServerToClient, Payload: d.anyPayload(true),
				Summary: "The reply to a message with an id: its name with " + ackSuffix + " appended, and its id.",
			},
		})
		return
	}
	replyName := sp.name + ackSuffix
	reply := &apidoc.Message{
		Name: replyName, Direction: apidoc.ServerToClient, Payload: d.payload(replyName, sp.out, true),
		Envelope: d.envelope(false), Summary: "The reply to " + sp.name + ", sent when the message has an id.",
	}
	d.msgs = append(d.msgs, apidoc.Message{
		Name: sp.name, Direction: apidoc.ClientToServer, Payload: d.payload(sp.name, sp.in, false),
		Envelope: d.envelope(false), Reply: reply, Summary: summary, Description: s.description,
	})
}

// declare records a server event, with the reply a client sends to it
// when it is a request (reply != nil), and declares its message.
func (d *Dispatcher) declare(fn, name string, typ, reply reflect.Type, s settings) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mustOpen(fn, name)
	if _, dup := d.emits[name]; dup {
		panic(fmt.Sprintf("forge: events: %s: server event %q is declared already", fn, name))
	}
	d.emits[name] = typ
	if s.transient {
		d.transient[name] = true
	}
	m := apidoc.Message{
		Name: name, Direction: apidoc.ServerToClient, Payload: d.payload(name, typ, false),
		Summary: s.summary, Description: s.description,
		Envelope: d.envelope(!s.transient && d.cfg.hub != nil && d.cfg.hub.KeepsHistory()),
	}
	if reply != nil {
		replyName := name + ackSuffix
		m.Reply = &apidoc.Message{
			Name: replyName, Direction: apidoc.ClientToServer, Payload: d.payload(replyName, reply, true),
			Envelope: d.envelope(false), Summary: "The client's reply to " + name + ", with the request's id.",
		}
	}
	d.msgs = append(d.msgs, m)
}

func (d *Dispatcher) mustOpen(fn, name string) {
	if d.sealed {
		panic(fmt.Sprintf("forge: events: %s(%q) after Route: register every event before routing the dispatcher", fn, name))
	}
}

// Route registers the dispatcher as the WebSocket route path on r, with
// every message it handles and sends declared (router.WithMessages) for
// the route's documents, and the subprotocols of scoped handlers
// (router.WithSubprotocols, before opts so that opts may override them;
// with router.WithUpgrader in opts, configure the upgrader's subprotocols
// instead, as the two cannot be combined). A message dropped by
// router.WithMessageRateLimit is answered with the error event
// CodeRateLimited in the dispatcher's envelope (router.WithRateLimitReply,
// which opts may replace).
// After Route, the dispatcher takes no more registrations; it may be
// routed on several paths.
func Route(r router.Router, path string, d *Dispatcher, opts ...router.WebSocketOption) {
	d.mu.Lock()
	d.sealed = true
	msgs := slices.Clone(d.msgs)
	protos := slices.Clone(d.subprotocols)
	d.mu.Unlock()
	var all []router.WebSocketOption
	if len(protos) > 0 {
		all = append(all, router.WithSubprotocols(protos...))
	}
	// A message over router.WithMessageRateLimit is answered in the
	// dispatcher's envelope. Before opts, which may replace it.
	reply, _ := d.encode("error", "", "", &Error{Code: CodeRateLimited, Message: "message rate exceeded; the message was dropped"})
	all = append(all, router.WithRateLimitReply(reply))
	all = append(all, opts...)
	all = append(all, router.WithMessages(msgs...))
	r.WebSocket(path, d.serve, all...)
}

// Messages returns the messages the dispatcher declares, as Route declares
// them, in registration order.
func (d *Dispatcher) Messages() []apidoc.Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.msgs)
}

// lookup finds the handler of an event for a connection's subprotocol.
func (d *Dispatcher) lookup(in *inbound, subprotocol string) *handler {
	var e *entry
	if in.escaped {
		e = d.handlers[in.eventName()]
	} else {
		e = d.handlers[string(in.event)] // no allocation
	}
	if e == nil {
		e = d.fallback
		if e == nil {
			return nil
		}
	}
	if e.bySub != nil {
		if h := e.bySub[subprotocol]; h != nil {
			return h
		}
	}
	return e.all
}

// checkEmit reports whether event may be sent with payload v.
func (d *Dispatcher) checkEmit(event string, v any) error {
	want, ok := d.emits[event]
	if !ok {
		return fmt.Errorf("%w %q: declare it with Emits", ErrUndeclared, event)
	}
	if !typeFits(want, v) {
		return fmt.Errorf("%w %q with a payload of type %T: it is declared with %s", ErrUndeclared, event, v, want)
	}
	return nil
}

func typeFits(want reflect.Type, v any) bool {
	got := reflect.TypeOf(v)
	switch {
	case got == nil:
		k := want.Kind()
		return k == reflect.Interface || k == reflect.Pointer || k == reflect.Map || k == reflect.Slice
	case got == want:
		return true
	case got.Kind() == reflect.Pointer && got.Elem() == want:
		return true
	case want.Kind() == reflect.Pointer && want.Elem() == got:
		return true
	case want.Kind() == reflect.Interface:
		return got.Implements(want)
	}
	return false
}

// encode builds one message in the dispatcher's format.
func (d *Dispatcher) encode(event, id, channel string, v any) ([]byte, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("forge: encode %q payload: %w", event, err)
	}
	n := len(payload) + len(event) + len(id) + len(channel) + 48
	return d.env.appendEnvelope(make([]byte, 0, n), event, id, channel, payload), nil
}

// Broadcast sends event with payload to every member of room (on every
// node, with a broker), except the connections listed, encoded once. For
// the command envelope the message's channel is the room. Members that did
// not subscribe to event are skipped without any encoding.
func (d *Dispatcher) Broadcast(ctx context.Context, room, event string, payload any, except ...string) error {
	h, data, err := d.prepareHub(event, room, payload)
	if err != nil {
		return err
	}
	return h.Broadcast(ctx, room, hub.Message{Data: data, Event: event, Except: except, Transient: d.transient[event]})
}

// BroadcastAll sends event with payload to every connection of the hub,
// on every node.
func (d *Dispatcher) BroadcastAll(ctx context.Context, event string, payload any) error {
	h, data, err := d.prepareHub(event, "", payload)
	if err != nil {
		return err
	}
	return h.BroadcastAll(ctx, hub.Message{Data: data, Event: event})
}

// EmitTo sends event with payload to the connection id, on this node or,
// with a broker, on another, without waiting (see hub.Hub.Send).
func (d *Dispatcher) EmitTo(id, event string, payload any) error {
	h, data, err := d.prepareHub(event, "", payload)
	if err != nil {
		return err
	}
	return h.Send(id, hub.Message{Data: data, Event: event})
}

// prepareHub checks that event is declared with payload's type and encodes
// it once for the hub; channel is the command envelope's channel.
func (d *Dispatcher) prepareHub(event, channel string, payload any) (*hub.Hub, []byte, error) {
	h := d.cfg.hub
	if h == nil {
		return nil, nil, ErrNoHub
	}
	if err := d.checkEmit(event, payload); err != nil {
		return nil, nil, err
	}
	data, err := d.encode(event, "", channel, payload)
	if err != nil {
		return nil, nil, err
	}
	return h, data, nil
}

// Stats is a snapshot of a dispatcher's counters since it was created.
type Stats struct {
	Connections int64  `json:"connections"` // open now
	Received    uint64 `json:"received"`    // messages read, replies included
	Handled     uint64 `json:"handled"`     // messages whose handler succeeded
	// Error events sent, by cause.
	Malformed      uint64 `json:"malformed"`
	Unsupported    uint64 `json:"unsupported"`
	UnknownEvent   uint64 `json:"unknown_event"`
	InvalidPayload uint64 `json:"invalid_payload"`
	Forbidden      uint64 `json:"forbidden"`
	RateLimited    uint64 `json:"rate_limited"`
	Timeouts       uint64 `json:"timeouts"`
	Busy           uint64 `json:"busy"`
	Failed         uint64 `json:"failed"` // handler errors: CodeInternal and handlers' own codes
	Panics         uint64 `json:"panics"` // recovered from handlers, hooks and GoSafe goroutines
	// Filtered counts the events not sent to a connection because it did
	// not subscribe to them (Context.Emit; hub broadcasts are counted by
	// the hub).
	Filtered uint64 `json:"filtered"`
}

type counters struct {
	conns                                                                  atomic.Int64
	received, handled, malformed, unsupported, unknown, invalid, forbidden atomic.Uint64
	rateLimited, timeouts, busy, failed, panics, filtered                  atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (d *Dispatcher) Stats() Stats {
	c := &d.stats
	return Stats{
		Connections: c.conns.Load(), Received: c.received.Load(), Handled: c.handled.Load(),
		Malformed: c.malformed.Load(), Unsupported: c.unsupported.Load(), UnknownEvent: c.unknown.Load(),
		InvalidPayload: c.invalid.Load(), Forbidden: c.forbidden.Load(), RateLimited: c.rateLimited.Load(),
		Timeouts: c.timeouts.Load(), Busy: c.busy.Load(), Failed: c.failed.Load(), Panics: c.panics.Load(),
		Filtered: c.filtered.Load(),
	}
}

func (c *counters) countError(code string) {
	switch code {
	case CodeMalformed:
		c.malformed.Add(1)
	case CodeUnsupported:
		c.unsupported.Add(1)
	case CodeUnknownEvent:
		c.unknown.Add(1)
	case CodeInvalidPayload:
		c.invalid.Add(1)
	case CodeForbidden:
		c.forbidden.Add(1)
	case CodeRateLimited:
		c.rateLimited.Add(1)
	case CodeTimeout:
		c.timeouts.Add(1)
	case CodeBusy:
		c.busy.Add(1)
	default:
		c.failed.Add(1)
	}
}

var _ router.WebSocketHandler = (*Dispatcher)(nil).serve
