package router

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/connhook"
)

// Handler handles a REST request. A returned error becomes the response:
// see HTTPError.
type Handler func(ctx Context) error

// WebSocketHandler handles one WebSocket connection, from the upgrade until
// it returns. Returning nil closes the connection with 1000 (normal);
// returning an error closes it with 1011, or with the code of a
// *connection.CloseError it wraps, and logs it.
type WebSocketHandler func(ctx Context, conn connection.Connection) error

// Middleware wraps an http.Handler; any chi or net/http middleware fits.
type Middleware = func(http.Handler) http.Handler

// Router registers routes. Registration panics, with a "forge: " prefix, on
// programmer errors: an invalid path, a route registered twice, an option
// that does not apply. Register every route before serving.
type Router interface {
	GET(path string, h Handler, opts ...RESTOption)
	POST(path string, h Handler, opts ...RESTOption)
	PUT(path string, h Handler, opts ...RESTOption)
	PATCH(path string, h Handler, opts ...RESTOption)
	DELETE(path string, h Handler, opts ...RESTOption)
	HEAD(path string, h Handler, opts ...RESTOption)
	OPTIONS(path string, h Handler, opts ...RESTOption)

	// WebSocket registers a WebSocket route: a GET route that upgrades the
	// request and runs h on the connection.
	WebSocket(path string, h WebSocketHandler, opts ...WebSocketOption)

	// Group returns a router whose routes get the prefix and opts. Its Use
	// and WithMiddleware middleware runs only for its own routes, after the
	// middleware of enclosing routers. A prefix of "" or "/" groups routes
	// by options only.
	Group(prefix string, opts ...GroupOption) Router
	// Route is Group, with fn called on the group to register its routes.
	Route(prefix string, fn func(Router), opts ...GroupOption) Router

	// Use adds middleware to every route registered through this router
	// afterwards. It must come before the router's first route. On the root
	// router it runs before routing, for every request (unrouted ones too).
	Use(mw ...Middleware)
	// Mount serves h for path and everything under it. h sees the full
	// request path (wrap it with http.StripPrefix if needed); a chi router
	// mounted this way routes on the rest of the path.
	Mount(path string, h http.Handler)
}

// Config configures a Mux. The zero value is ready to use.
type Config struct {
	// Logger receives handler errors and connection logs; nil means
	// slog.Default().
	Logger *slog.Logger
	// Tracker, when set, follows every WebSocket connection for graceful
	// shutdown.
	Tracker *connection.Tracker
	// Defaults are route options applied to every route, before those of
	// its groups and its own.
	Defaults []GroupOption
	// Auth holds the auth providers WithAuth may name, by name.
	Auth map[string]auth.Provider
}

// Mux is the chi-backed Router and the http.Handler that serves its routes.
// Create it with New. Registration must happen before serving; Routes and
// ServeHTTP are safe for concurrent use.
type Mux struct {
	auth     map[string]auth.Provider // WithAuth's providers, by name
	chi      *chi.Mux
	logger   *slog.Logger
	tracker  *connection.Tracker
	defaults []GroupOption
	root     *group

	mu     sync.Mutex        // guards the fields below
	routes []apidoc.Route    // in registration order
	keys   map[string]string // conflict key of each method and path → its path
	names  map[string]string // route name → "METHOD path"
	mounts []mount           // Muxes mounted on this one, in mount order
}

// mount is a Mux mounted under a path, whose routes Routes lists.
type mount struct {
	at  parsedPath
	mux *Mux
}

var (
	_ Router       = (*Mux)(nil)
	_ Router       = (*group)(nil)
	_ http.Handler = (*Mux)(nil)
)

// New returns an empty Mux. It panics, as registration mistakes do, if
// cfg.Defaults holds an option that cannot apply to every route, such as
// WithName.
func New(cfg Config) *Mux {
	if err := checkOptions(levelDefaults, cfg.Defaults); err != nil {
		panic(fmt.Sprintf("forge: route defaults: %v", err))
	}
	m := &Mux{
		chi:      chi.NewRouter(),
		logger:   cfg.Logger,
		tracker:  cfg.Tracker,
		defaults: slices.Clone(cfg.Defaults),
		keys:     make(map[string]string),
		names:    make(map[string]string),
		auth:     maps.Clone(cfg.Auth),
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	m.root = &group{mux: m}
	m.chi.NotFound(m.notFound)
	m.chi.MethodNotAllowed(m.methodNotAllowed)
	return m
}

// ServeHTTP routes the request to its handler.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.chi.ServeHTTP(w, r) }

// Routes returns the registered routes in registration order, followed by
// those of every Mux mounted on m (with the mount path as prefix). Other
// mounted handlers are not listed. A route's Request is a typed handler's
// input type or WithRequest's; its Responses a typed handler's and
// WithResponse's; its Security the schemes of its WithAuth providers; its
// Messages those of WithWebSocketMessages, WithMessages and the event
// layer, in declaration order.
func (m *Mux) Routes() []apidoc.Route {
	m.mu.Lock()
	out := make([]apidoc.Route, len(m.routes))
	for i, ri := range m.routes {
		ri.Params = slices.Clone(ri.Params)
		ri.Tags = slices.Clone(ri.Tags)
		ri.Subprotocols = slices.Clone(ri.Subprotocols)
		ri.Responses = slices.Clone(ri.Responses)
		ri.Security = slices.Clone(ri.Security)
		out[i] = ri
	}
	mounts := slices.Clone(m.mounts)
	m.mu.Unlock()
	for _, mt := range mounts {
		for _, ri := range mt.mux.Routes() {
			ri.Path = strings.TrimSuffix(mt.at.template, "/") + ri.Path
			ri.Pattern = strings.TrimSuffix(mt.at.pattern, "/") + ri.Pattern
			ri.Params = append(slices.Clip(mt.at.params), ri.Params...)
			out = append(out, ri)
		}
	}
	return out
}

// RouteCount returns the number of routes that Routes lists. It only
// grows, so a cache of what was built from Routes is stale when the count
// changed.
func (m *Mux) RouteCount() int {
	m.mu.Lock()
	n := len(m.routes)
	mounts := slices.Clone(m.mounts)
	m.mu.Unlock()
	for _, mt := range mounts {
		n += mt.mux.RouteCount()
	}
	return n
}

// The Router methods of the root router.

func (m *Mux) GET(path string, h Handler, opts ...RESTOption)    { m.root.GET(path, h, opts...) }
func (m *Mux) POST(path string, h Handler, opts ...RESTOption)   { m.root.POST(path, h, opts...) }
func (m *Mux) PUT(path string, h Handler, opts ...RESTOption)    { m.root.PUT(path, h, opts...) }
func (m *Mux) PATCH(path string, h Handler, opts ...RESTOption)  { m.root.PATCH(path, h, opts...) }
func (m *Mux) DELETE(path string, h Handler, opts ...RESTOption) { m.root.DELETE(path, h, opts...) }
func (m *Mux) HEAD(path string, h Handler, opts ...RESTOption)   { m.root.HEAD(path, h, opts...) }
func (m *Mux) OPTIONS(path string, h Handler, opts ...RESTOption) {
	m.root.OPTIONS(path, h, opts...)
}

// WebSocket registers a WebSocket route; see Router.
func (m *Mux) WebSocket(path string, h WebSocketHandler, opts ...WebSocketOption) {
	m.root.WebSocket(path, h, opts...)
}

// Group returns a group of routes; see Router.
func (m *Mux) Group(prefix string, opts ...GroupOption) Router { return m.root.Group(prefix, opts...) }

// Route returns a group of routes registered by fn; see Router.
func (m *Mux) Route(prefix string, fn func(Router), opts ...GroupOption) Router {
	return m.root.Route(prefix, fn, opts...)
}

// Use adds middleware that runs before routing, for every request. It must
// come before the first route.
func (m *Mux) Use(mw ...Middleware) { m.root.Use(mw...) }

// Mount serves h for path and everything under it; see Router.
func (m *Mux) Mount(path string, h http.Handler) { m.root.Mount(path, h) }

// group is a Router that registers on its Mux with a prefix, options and
// middleware of its own. The root group's middleware lives in chi instead.
type group struct {
	mux    *Mux
	parent *group // nil for the root
	prefix string // full, cleaned prefix
	opts   []GroupOption

	// mws and sealed are guarded by mux.mu.
	mws    []Middleware
	sealed bool // a route was registered through this group or a subgroup
}

func (g *group) GET(path string, h Handler, opts ...RESTOption) {
	g.rest(http.MethodGet, path, h, opts)
}

func (g *group) POST(path string, h Handler, opts ...RESTOption) {
	g.rest(http.MethodPost, path, h, opts)
}

func (g *group) PUT(path string, h Handler, opts ...RESTOption) {
	g.rest(http.MethodPut, path, h, opts)
}

func (g *group) PATCH(path string, h Handler, opts ...RESTOption) {
	g.rest(http.MethodPatch, path, h, opts)
}

func (g *group) DELETE(path string, h Handler, opts ...RESTOption) {
	g.rest(http.MethodDelete, path, h, opts)
}

func (g *group) HEAD(path string, h Handler, opts ...RESTOption) {
	g.rest(http.MethodHead, path, h, opts)
}

func (g *group) OPTIONS(path string, h Handler, opts ...RESTOption) {
	g.rest(http.MethodOptions, path, h, opts)
}

func (g *group) Group(prefix string, opts ...GroupOption) Router {
	p, err := cleanPrefix(prefix)
	if err != nil {
		panic("forge: " + err.Error())
	}
	if err := checkOptions(levelGroup, opts); err != nil {
		panic(fmt.Sprintf("forge: %v (group %q)", err, prefix))
	}
	return &group{mux: g.mux, parent: g, prefix: g.prefix + p, opts: slices.Clone(opts)}
}

func (g *group) Route(prefix string, fn func(Router), opts ...GroupOption) Router {
	if fn == nil {
		panic(fmt.Sprintf("forge: nil function (Route %q)", prefix))
	}
	sub := g.Group(prefix, opts...)
	fn(sub)
	return sub
}

func (g *group) Use(mw ...Middleware) {
	if slices.ContainsFunc(mw, isNil) {
		panic("forge: Use: nil middleware")
	}
	m := g.mux
	m.mu.Lock()
	defer m.mu.Unlock()
	if g.sealed {
		panic("forge: Use must come before the first route of its router")
	}
	if g.parent == nil {
		m.chi.Use(mw...)
		return
	}
	g.mws = append(g.mws, mw...)
}

func (g *group) Mount(path string, h http.Handler) {
	if h == nil {
		panic(fmt.Sprintf("forge: nil handler (Mount %q)", path))
	}
	pp, err := parsePath(joinPath(g.prefix, path))
	if err != nil {
		panic(fmt.Sprintf("forge: %v (Mount)", err))
	}
	if len(pp.params) > 0 && pp.params[len(pp.params)-1].Name == "*" {
		panic(fmt.Sprintf("forge: mount path must not end in '*' (Mount %q)", path))
	}
	var s settings
	mws := g.merge(&s, nil)
	if s.err != nil {
		panic(fmt.Sprintf("forge: %v (Mount %q)", s.err, path))
	}
	m := g.mux
	m.mu.Lock()
	defer m.mu.Unlock()
	g.seal()
	chiCall(func() { m.chi.Mount(pp.pattern, chain(mws, h)) })
	if sub, ok := h.(*Mux); ok && sub != m {
		m.mounts = append(m.mounts, mount{at: pp, mux: sub})
	}
}

// merge applies the defaults, the options of g and its enclosing
// groups, then opts at route level, and returns the middleware chain in the
// order it runs.
func (g *group) merge(s *settings, opts []GroupOption) []Middleware {
	var path []*group
	for p := g; p.parent != nil; p = p.parent {
		path = append(path, p)
	}
	slices.Reverse(path)

	applyOptions(s, levelDefaults, g.mux.defaults)
	g.mux.mu.Lock()
	for _, p := range path {
		applyOptions(s, levelGroup, p.opts)
		s.middleware = append(s.middleware, p.mws...)
	}
	g.mux.mu.Unlock()
	s.routeMW = len(s.middleware)
	applyOptions(s, levelRoute, opts)
	return s.middleware
}

// seal marks g and its ancestors as having routes. mux.mu must be held.
func (g *group) seal() {
	for p := g; p != nil && !p.sealed; p = p.parent {
		p.sealed = true
	}
}

func (g *group) rest(method, path string, h Handler, opts []RESTOption) {
	if h == nil {
		panic(fmt.Sprintf("forge: nil handler (%s %s)", method, path))
	}
	s := settings{}
	g.register(method, path, &s, groupOptions(opts), func(pattern string) http.Handler {
		return g.mux.restHandler(h, pattern, s.bodyLimit)
	})
}

func (g *group) WebSocket(path string, h WebSocketHandler, opts ...WebSocketOption) {
	if h == nil {
		panic(fmt.Sprintf("forge: nil handler (WebSocket %s)", path))
	}
	s := settings{websocket: true}
	g.register(http.MethodGet, path, &s, groupOptions(opts), func(pattern string) http.Handler {
		cfg := s.conn
		cfg.Logger = g.mux.logger.With(slog.String("route", pattern))
		cfg.Tracker = g.mux.tracker
		cfg.Route = pattern
		return g.mux.webSocketHandler(h, &cfg, &s)
	})
}

// register validates a route, records it, and adds it to chi with its
// middleware. handler builds the endpoint once the settings are known.
func (g *group) register(method, path string, s *settings, opts []GroupOption, handler func(pattern string) http.Handler) {
	kind := method
	if s.websocket {
		kind = "WebSocket"
	}
	if path == "" || path[0] != '/' {
		panic(fmt.Sprintf("forge: path %q must begin with '/' (%s)", path, kind))
	}
	full := joinPath(g.prefix, path)
	pp, err := parsePath(full)
	if err != nil {
		panic(fmt.Sprintf("forge: %v (%s)", err, kind))
	}
	mws := g.merge(s, opts)
	mws = g.mux.insertAuth(s, mws, pp.pattern)
	if s.err == nil && s.websocket {
		s.err = s.checkWebSocket()
	}
	if s.err == nil {
		s.err = s.checkDocs(method, pp)
	}
	if s.err == nil && s.websocket {
		s.err = s.enforceInbound()
	}
	if s.err != nil {
		panic(fmt.Sprintf("forge: %v (%s %s)", s.err, kind, full))
	}

	info := apidoc.Route{
		Method:      method,
		Path:        pp.template,
		Pattern:     pp.pattern,
		Params:      pp.params,
		Name:        s.name,
		Summary:     s.summary,
		Description: s.description,
		Tags:        s.tags,
		Deprecated:  s.deprecated,
		Hidden:      s.hidden,
		Request:     s.request,
		Responses:   s.documentedResponses(),
		Auth:        slices.Clone(s.auth),
		Scopes:      slices.Clone(s.scopes),
		Security:    g.mux.security(s.auth),
		WebSocket:   s.websocket,
	}
	if s.websocket {
		info.Messages = slices.Clone(s.messages)
		info.Subprotocols, info.RequireSubprotocol = s.conn.Subprotocols, s.conn.RequireSubprotocol
		if u := s.conn.Upgrader; u != nil {
			info.Subprotocols = slices.Clone(u.Subprotocols)
		}
	}
	endpoint := chain(mws, handler(pp.pattern))

	m := g.mux
	m.mu.Lock()
	defer m.mu.Unlock()
	key := method + " " + pp.key
	if prev, ok := m.keys[key]; ok {
		panic(fmt.Sprintf("forge: duplicate route: %s %s conflicts with %s %s", kind, full, method, prev))
	}
	if s.name != "" {
		if prev, ok := m.names[s.name]; ok {
			panic(fmt.Sprintf("forge: duplicate route name %q: used by %s and %s %s", s.name, prev, kind, full))
		}
	}
	chiCall(func() { m.chi.Method(method, pp.pattern, endpoint) })
	g.seal()
	m.keys[key] = pp.pattern
	if s.name != "" {
		m.names[s.name] = method + " " + pp.pattern
	}
	m.routes = append(m.routes, info)
}

func isNil(mw Middleware) bool { return mw == nil }

// groupOptions returns a route's options as a list of GroupOptions, the
// type every level's options are applied as.
func groupOptions[O GroupOption](opts []O) []GroupOption {
	out := make([]GroupOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

// chain wraps h in mws, the first one outermost.
func chain(mws []Middleware, h http.Handler) http.Handler {
	for _, mw := range slices.Backward(mws) {
		h = mw(h)
	}
	return h
}

// chiCall runs a chi registration, giving its panics forge's prefix.
func chiCall(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			msg := fmt.Sprint(v)
			if !strings.HasPrefix(msg, "forge: ") {
				msg = "forge: " + strings.TrimPrefix(msg, "chi: ")
			}
			panic(msg)
		}
	}()
	fn()
}

// allowed lists the methods routed for r's path, for the Allow header of a
// 405 response.
func (m *Mux) allowed(r *http.Request) string {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var allow []string
	for _, method := range []string{
		http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions,
	} {
		if m.chi.Match(chi.NewRouteContext(), method, path) {
			allow = append(allow, method)
		}
	}
	return strings.Join(allow, ", ")
}

// restHandler adapts a REST handler and maps its error to a response.
func (m *Mux) restHandler(h Handler, pattern string, bodyLimit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &responseWriter{ResponseWriter: w}
		if err := h(newContext(rw, w, r, bodyLimit)); err != nil {
			m.handleError(rw, r, pattern, err)
		}
	})
}

// hijacked is the ResponseWriter of a WebSocket handler's Context once the
// request is upgraded: writing fails, as it would on net/http's writer
// after a hijack.
type hijacked struct{}

func (hijacked) Header() http.Header       { return http.Header{} }
func (hijacked) Write([]byte) (int, error) { return 0, http.ErrHijacked }
func (hijacked) WriteHeader(int)           {}

// webSocketHandler upgrades the request; connection.Serve runs the handler
// in the connection's own goroutine. The Context copied the path parameters
// already, and the connection's context answers chi's key with a copy of
// its own (routeContext), so chi may reuse its route context once
// ServeHTTP returns.
func (m *Mux) webSocketHandler(h WebSocketHandler, cfg *connection.Config, s *settings) http.Handler {
	guard, expiry := s.guard, s.authExpiry
	route := &chiRoute{patterns: []string{cfg.Route}, routes: m.chi}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := newContext(w, w, r, 0)
		if guard != nil {
			c.auth = &authSession{guard: guard, expiry: expiry}
		}
		// The connection's context is made from r's: it must not lead to
		// chi's pooled route context (see routeContext). It keeps the
		// parameters for as long as the connection lives: chi's values
		// are substrings of the request's path, whose bytes are those of
		// the whole request line, query included, so it keeps copies.
		for i := 1; i < len(c.params); i += 2 {
			c.params[i] = strings.Clone(c.params[i])
		}
		rc := &routeContext{Context: r.Context(), params: c.params, route: route.of(chi.RouteContext(r.Context()))}
		r = r.WithContext(rc)
		connection.Serve(w, r, cfg, func(conn *connection.Conn) error {
			// The request's own context is no use once the connection is
			// hijacked: the handler gets the connection's, with the same
			// values and the connection's lifetime.
			c.conn, c.r = conn, r.WithContext(conn.Context())
			// net/http's writer would keep its connection's buffers (8
			// KB) alive for as long as the handler holds c.
			c.w, c.raw = hijacked{}, hijacked{}
			a := c.auth // the deferred func must not keep c alive either
			a.watch(conn)
			listening := false
			defer func() {
				if listening && a != nil {
					// The connection lives on without the handler; a
					// route without auth registers nothing.
					connhook.AfterEnd(conn, a.stop)
				} else {
					a.stop()
				}
			}()
			err := h(c, conn)
			listening = errors.Is(err, connection.ErrListening)
			return err
		})
	})
}
