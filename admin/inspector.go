package admin

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/hub"
)

// Config is what an Inspector inspects. Tracker is required; the rest may
// be left zero.
type Config struct {
	// Name and Version name the application on the pages and in Status.
	Name, Version string
	// Path is where the inspector is mounted, such as "/admin": the pages
	// link to their endpoints under it.
	Path string
	// Tracker holds the application's connections.
	Tracker *connection.Tracker
	// Routes lists the application's routes (the router's Routes).
	Routes func() []apidoc.Route
	// Hubs lists the hubs whose rooms the inspector shows.
	Hubs func() []*hub.Hub
}

// Inspector shows what an application holds: its connections, its rooms,
// per-route counters, and the live traffic of a connection or a room. It
// is a connection.Observer, installed on the application's Tracker, which
// keeps per-route counters and feeds the taps. Create it with New; its
// methods are safe for concurrent use.
type Inspector struct {
	cfg     Config
	started time.Time

	mu     sync.Mutex // guards routes and conns
	routes map[string]*routeStats
	conns  map[string]*watch // by connection id
	// watchers holds the taps streaming, for Close; closed refuses more.
	watchers map[*watcher]struct{}
	closed   bool

	roomTaps atomic.Int64 // room taps streaming
}

var _ connection.Observer = (*Inspector)(nil)

// New returns an Inspector of what cfg describes. It panics without a
// Tracker.
func New(cfg Config) *Inspector {
	if cfg.Tracker == nil {
		panic("forge: admin: New: nil Tracker")
	}
	return &Inspector{
		cfg:     cfg,
		started: time.Now(),
		routes:  make(map[string]*routeStats),
		conns:   make(map[string]*watch),

		watchers: make(map[*watcher]struct{}),
	}
}

// routeStats counts one route's connections and traffic.
type routeStats struct {
	open, opened                       atomic.Int64
	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64
	dropped, discarded, slow           atomic.Uint64
	rateLimited, refusals              atomic.Uint64

	mu      sync.Mutex // guards the maps
	refused map[string]uint64
	closes  map[string]uint64
}

func (in *Inspector) route(pattern string) *routeStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.routes[pattern]
	if r == nil {
		r = &routeStats{refused: make(map[string]uint64), closes: make(map[string]uint64)}
		in.routes[pattern] = r
	}
	return r
}

// Refused implements connection.Observer.
func (in *Inspector) Refused(route string, why connection.Refusal) {
	r := in.route(route)
	r.refusals.Add(1)
	r.mu.Lock()
	r.refused[why.String()]++
	r.mu.Unlock()
}

// Opened implements connection.Observer.
func (in *Inspector) Opened(c *connection.Conn, info connection.OpenInfo) connection.ConnObserver {
	r := in.route(info.Route)
	r.open.Add(1)
	r.opened.Add(1)
	w := &watch{in: in, conn: c, id: c.ID(), route: r}
	in.mu.Lock()
	in.conns[w.id] = w
	in.mu.Unlock()
	return w
}

// watch observes one connection: its route's counters, and its taps.
type watch struct {
	in    *Inspector
	conn  *connection.Conn
	id    string
	route *routeStats
	tap   atomic.Pointer[tapSet] // nil while nobody watches
}

func (w *watch) Message(in bool, typ connection.MessageType, data []byte) {
	if in {
		w.route.msgsIn.Add(1)
		w.route.bytesIn.Add(uint64(len(data)))
	} else {
		w.route.msgsOut.Add(1)
		w.route.bytesOut.Add(uint64(len(data)))
	}
	if ts := w.tap.Load(); ts != nil {
		dir := "out"
		if in {
			dir = "in"
		}
		ts.send(Frame{Dir: dir, Conn: w.id}, typ == connection.BinaryMessage, data)
	}
}

func (w *watch) Queued(int) {}

func (w *watch) Dropped(why connection.Drop) {
	switch why {
	case connection.DropSlowConsumer:
		w.route.slow.Add(1)
	case connection.DropRateLimited:
		w.route.rateLimited.Add(1)
	case connection.DropClosing:
		w.route.discarded.Add(1)
	default:
		w.route.dropped.Add(1)
	}
}

func (w *watch) Closed(info connection.SessionInfo) {
	w.route.open.Add(-1)
	w.route.mu.Lock()
	w.route.closes[strconv.Itoa(int(info.Code))]++
	w.route.mu.Unlock()
	w.in.mu.Lock()
	delete(w.in.conns, w.id)
	ts := w.tap.Swap(nil) // no watcher joins once the id is gone
	w.in.mu.Unlock()
	if ts != nil {
		ts.send(Frame{Dir: "close", Conn: w.id, Code: int(info.Code), Reason: info.Reason}, false, nil)
		ts.end()
	}
}

// Connection describes one open connection.
type Connection struct {
	connection.Info
	// Principal is the subject of the principal the connection's route
	// authenticated; "" on a route without auth.
	Principal string `json:"principal,omitempty"`
	// Rooms lists the rooms the connection is in, in the hubs inspected,
	// sorted.
	Rooms []string `json:"rooms"`
	// Meta is the connection's metadata in the hubs (hub.WithMeta).
	Meta map[string]string `json:"meta,omitempty"`
	// Age is how long the connection has been open, in seconds.
	Age float64 `json:"age_seconds"`
}

// Connections returns the open connections of t, sorted by route and
// age (oldest first), with their rooms and metadata in hubs. Programs use
// it without an Inspector (forge's App.Connections).
func Connections(t *connection.Tracker, hubs []*hub.Hub) []Connection {
	members := make(map[string]hub.MemberInfo)
	for _, h := range hubs {
		for _, m := range h.Connections() {
			if prev, ok := members[m.ID]; ok {
				m.Rooms = slices.Concat(prev.Rooms, m.Rooms)
				slices.Sort(m.Rooms)
				m.Rooms = slices.Compact(m.Rooms)
				if m.Meta == nil {
					m.Meta = prev.Meta
				}
			}
			members[m.ID] = m
		}
	}
	now := time.Now()
	conns := t.Conns()
	out := make([]Connection, 0, len(conns))
	for _, c := range conns {
		ci := Connection{Info: connection.InfoOf(c), Rooms: []string{}}
		if p, ok := auth.PrincipalFrom(c.Context()); ok {
			ci.Principal = p.Subject
		}
		if m, ok := members[ci.ID]; ok {
			ci.Rooms, ci.Meta = m.Rooms, maps.Clone(m.Meta)
		}
		ci.Age = now.Sub(ci.Opened).Seconds()
		out = append(out, ci)
	}
	slices.SortFunc(out, func(a, b Connection) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), a.Opened.Compare(b.Opened), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// RouteStats counts one WebSocket route's connections and traffic since
// the inspector started.
type RouteStats struct {
	Route          string            `json:"route"` // the pattern
	Open           int64             `json:"open"`
	Opened         uint64            `json:"opened"`
	Refused        uint64            `json:"refused"`
	RefusedBy      map[string]uint64 `json:"refused_by"` // origin, auth, bad_request, shutdown
	MessagesIn     uint64            `json:"messages_in"`
	BytesIn        uint64            `json:"bytes_in"`
	MessagesOut    uint64            `json:"messages_out"`
	BytesOut       uint64            `json:"bytes_out"`
	Dropped        uint64            `json:"dropped"`        // as in connection.Stats.Dropped
	Discarded      uint64            `json:"discarded"`      // as in connection.Stats.Discarded
	SlowConsumers  uint64            `json:"slow_consumers"` // closed as slow consumers
	RateLimited    uint64            `json:"rate_limited"`   // messages over the route's MessageRate
	CloseCodes     map[string]uint64 `json:"close_codes"`    // by the code sent
	Summary        string            `json:"summary,omitempty"`
	DeclaredEvents []string          `json:"declared_events,omitempty"`
}

// Routes returns the counters of every WebSocket route, sorted by
// pattern: the routes declared (with zeros until their first connection)
// and any other that saw a connection.
func (in *Inspector) Routes() []RouteStats {
	byRoute := make(map[string]*RouteStats)
	if in.cfg.Routes != nil {
		for _, ri := range in.cfg.Routes() {
			if !ri.WebSocket {
				continue
			}
			rs := &RouteStats{Route: ri.Pattern, Summary: ri.Summary, RefusedBy: map[string]uint64{}, CloseCodes: map[string]uint64{}}
			for _, m := range ri.Messages {
				if m.Name != "" && m.Direction == apidoc.ClientToServer {
					rs.DeclaredEvents = append(rs.DeclaredEvents, m.Name)
				}
			}
			byRoute[ri.Pattern] = rs
		}
	}
	in.mu.Lock()
	routes := maps.Clone(in.routes)
	in.mu.Unlock()
	for pattern, r := range routes {
		rs := byRoute[pattern]
		if rs == nil {
			rs = &RouteStats{Route: pattern}
			byRoute[pattern] = rs
		}
		rs.Open, rs.Opened = r.open.Load(), uint64(r.opened.Load())
		rs.Refused = r.refusals.Load()
		rs.MessagesIn, rs.BytesIn = r.msgsIn.Load(), r.bytesIn.Load()
		rs.MessagesOut, rs.BytesOut = r.msgsOut.Load(), r.bytesOut.Load()
		rs.Dropped, rs.Discarded = r.dropped.Load(), r.discarded.Load()
		rs.SlowConsumers, rs.RateLimited = r.slow.Load(), r.rateLimited.Load()
		r.mu.Lock()
		rs.RefusedBy, rs.CloseCodes = maps.Clone(r.refused), maps.Clone(r.closes)
		r.mu.Unlock()
	}
	out := make([]RouteStats, 0, len(byRoute))
	for _, rs := range byRoute {
		out = append(out, *rs)
	}
	slices.SortFunc(out, func(a, b RouteStats) int { return cmp.Compare(a.Route, b.Route) })
	return out
}

// Room describes a room of an inspected hub.
type Room struct {
	Hub  string `json:"hub"` // the hub's node id
	Name string `json:"name"`
	// Members are the room's members on this node.
	Members []hub.MemberInfo `json:"members"`
	// Presence lists the room's members on every node when the hub's
	// broker keeps presence, and on this node otherwise.
	Presence []hub.Member `json:"presence"`
}

// Rooms lists the rooms with members on this node, in every inspected
// hub, by hub and name.
func (in *Inspector) Rooms(ctx context.Context) []Room {
	out, _ := in.rooms(ctx, 0)
	return out
}

// rooms lists the first n rooms (all for n <= 0) and counts them all: a
// room's presence may cost a call to the broker.
func (in *Inspector) rooms(ctx context.Context, n int) ([]Room, int) {
	var (
		out   []Room
		total int
	)
	for _, h := range in.hubs() {
		for _, ri := range h.Rooms() {
			total++
			if n > 0 && len(out) >= n {
				continue
			}
			r := Room{Hub: h.Node(), Name: ri.Name, Members: h.ConnectionsIn(ri.Name)}
			if p, err := h.Members(ctx, ri.Name); err == nil {
				r.Presence = p
			}
			if r.Presence == nil {
				r.Presence = []hub.Member{}
			}
			out = append(out, r)
		}
	}
	if out == nil {
		out = []Room{}
	}
	return out, total
}

func (in *Inspector) hubs() []*hub.Hub {
	if in.cfg.Hubs == nil {
		return nil
	}
	return in.cfg.Hubs()
}

// Status is a snapshot of an application, in the spirit of a service's
// status page: who it is, how long it has run, and its counters.
type Status struct {
	Name    string    `json:"name,omitempty"`
	Version string    `json:"version,omitempty"`
	Started time.Time `json:"started"`
	Uptime  float64   `json:"uptime_seconds"`
	// Connections holds the connection counters (connection.Stats):
	// open, accepted, refused, slow consumers, dropped, rate limited.
	Connections connection.Stats `json:"connections"`
	Hubs        []hub.Status     `json:"hubs"`
	// Routes holds per-route counters, kept by an Inspector only.
	Routes []RouteStats `json:"routes,omitempty"`
	// Taps counts the inspector's taps streaming now.
	Taps int `json:"taps"`
}

// Status returns a snapshot of the application.
func (in *Inspector) Status() Status {
	st := StatusOf(in.cfg.Name, in.cfg.Version, in.started, in.cfg.Tracker, in.hubs())
	st.Routes = in.Routes()
	st.Taps = in.connTaps() + int(in.roomTaps.Load())
	return st
}

// StatusOf returns a snapshot of an application without an Inspector,
// without per-route counters (forge's App.Status).
func StatusOf(name, version string, started time.Time, t *connection.Tracker, hubs []*hub.Hub) Status {
	cs := t.Stats()
	st := Status{
		Name: name, Version: version, Started: started, Uptime: time.Since(started).Seconds(),
		Connections: cs, Hubs: []hub.Status{},
	}
	for _, h := range hubs {
		st.Hubs = append(st.Hubs, h.Status())
	}
	return st
}
