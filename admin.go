package forge

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/forgekit/forge/admin"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/problem"
	"github.com/forgekit/forge/metrics"
	"github.com/forgekit/forge/router"
)

// AdminOption configures the inspector (WithAdmin).
type AdminOption func(*adminConfig)

type adminConfig struct {
	path      string
	providers []string
	scopes    []string
	localOnly bool
}

// WithAdmin mounts forge's inspector at path (such as "/admin"): pages
// that list the connections (id, route, remote address, principal, rooms,
// queue bytes, messages in and out, age), the rooms of the hubs given to
// App.Inspect with their members and presence, per-route counters
// (refusals, drops, slow consumers, rate limits, close codes), with
// actions to close a connection with a code, evict a member from a room
// and send a test message, and a live tap of a connection's or a room's
// messages. Under path/api, the same as JSON for programs (see
// admin.Inspector.Endpoints). Everything is embedded: no CDN.
//
// The inspector sees and acts on every connection, so it needs auth:
// AdminAuth names the providers (registered with WithAuthProvider) and
// scopes that admit an operator. For the pages, pick credentials a
// browser presents by itself: basic auth (auth.Basic) or a cookie
// (auth.JWTConfig's Cookie); programs may use any provider on the JSON
// endpoints. New panics when neither AdminAuth nor AdminInsecureLocalOnly
// is given. The inspector's routes are hidden from the documents.
//
//	app := forge.New(
//		forge.WithAuthProvider("ops", auth.Basic("ops", checkOperator)),
//		forge.WithAdmin("/admin", forge.AdminAuth("ops")),
//	)
//	app.Inspect(rooms) // a *hub.Hub, for the rooms page
func WithAdmin(path string, opts ...AdminOption) Option {
	if path == "" || path[0] != '/' || path == "/" {
		panic(fmt.Sprintf("forge: WithAdmin: path %q must begin with '/' and name something", path))
	}
	cfg := &adminConfig{path: strings.TrimSuffix(path, "/")}
	for _, o := range opts {
		if o == nil {
			panic("forge: WithAdmin: nil AdminOption")
		}
		o(cfg)
	}
	if len(cfg.providers) == 0 && !cfg.localOnly {
		panic("forge: WithAdmin: the inspector needs auth: give AdminAuth(provider), or AdminInsecureLocalOnly() to serve it to loopback clients without any")
	}
	return func(c *config) { c.observe.admin = cfg }
}

// AdminAuth admits to the inspector the requests that the auth provider
// registered as provider authenticates (401 otherwise) and whose
// principal holds every scope given (403 otherwise). Several AdminAuth
// options name providers tried in order; their scopes add up.
func AdminAuth(provider string, scopes ...string) AdminOption {
	if provider == "" || slices.Contains(scopes, "") {
		panic("forge: AdminAuth: name a provider, and no empty scope")
	}
	scopes = slices.Clone(scopes)
	return func(c *adminConfig) {
		c.providers = append(c.providers, provider)
		c.scopes = append(c.scopes, scopes...)
	}
}

// AdminInsecureLocalOnly serves the inspector without auth, to clients on
// the loopback interface only: a request from any other address gets 403.
// It is meant for a developer's machine. Behind a proxy on the same host
// every request comes from loopback, so there it admits everyone the
// proxy admits: use AdminAuth instead. With AdminAuth too, both apply.
func AdminInsecureLocalOnly() AdminOption {
	return func(c *adminConfig) { c.localOnly = true }
}

// inspection is what the App knows for its inspector and metrics.
type inspection struct {
	started   time.Time
	metrics   *metrics.Collector
	inspector *admin.Inspector

	mu   sync.Mutex // guards hubs
	hubs []*hub.Hub
}

// Inspect has the inspector (WithAdmin) list h's rooms, members and
// presence and act on them, the metrics (WithMetrics) export h's counters,
// and Connections show each connection's rooms in h. The application does
// not own h: close it as before. Inspect may be called before or after
// serving starts; a hub given twice is listed once.
func (a *App) Inspect(hubs ...*hub.Hub) {
	a.insp.mu.Lock()
	defer a.insp.mu.Unlock()
	for _, h := range hubs {
		if h == nil {
			panic("forge: Inspect: nil hub")
		}
		if slices.Contains(a.insp.hubs, h) {
			continue
		}
		a.insp.hubs = append(a.insp.hubs, h)
		if a.insp.metrics != nil {
			a.insp.metrics.AddHub(h)
		}
	}
}

// shutdown ends the inspector's taps, for Shutdown.
func (i *inspection) shutdown() {
	if i.inspector != nil {
		i.inspector.Close()
	}
}

func (a *App) inspectedHubs() []*hub.Hub {
	a.insp.mu.Lock()
	defer a.insp.mu.Unlock()
	return slices.Clone(a.insp.hubs)
}

// Connections returns a snapshot of the application's open WebSocket
// connections, by route and age: each one's id, route pattern, addresses,
// principal subject, rooms and metadata in the hubs given to Inspect,
// bytes waiting in its outbound queue, messages in and out, and age.
func (a *App) Connections() []admin.Connection {
	return admin.Connections(&a.tracker, a.inspectedHubs())
}

// Status returns a snapshot of the application: its name, version and
// uptime, the connection counters (Stats), the status of the hubs given
// to Inspect, and, with WithAdmin, per-route counters.
func (a *App) Status() admin.Status {
	if a.insp.inspector != nil {
		return a.insp.inspector.Status()
	}
	return admin.StatusOf(a.name, a.version, a.insp.started, &a.tracker, a.inspectedHubs())
}

// mountAdmin registers the inspector's routes and returns it, to observe
// the connections.
func (a *App) mountAdmin(c *adminConfig, logger *slog.Logger) *admin.Inspector {
	in := admin.New(admin.Config{
		Name: a.name, Version: a.version, Path: c.path, Tracker: &a.tracker,
		Routes: a.mux.Routes, Hubs: a.inspectedHubs,
	})
	a.insp.inspector = in
	opts := []GroupOption{router.WithHidden()}
	if c.localOnly {
		opts = append(opts, router.WithMiddleware(loopbackOnly(logger)))
	}
	if len(c.providers) > 0 {
		opts = append(opts, router.WithAuth(c.providers...))
		if len(c.scopes) > 0 {
			opts = append(opts, router.WithScopes(c.scopes...))
		}
	}
	g := a.mux.Group(c.path, opts...)
	for _, e := range in.Endpoints() {
		h := e.Handler
		fn := func(ctx Context) error {
			h(ctx.ResponseWriter(), ctx.Request())
			return nil
		}
		switch e.Method {
		case http.MethodGet:
			g.GET(e.Path, fn)
		case http.MethodPost:
			g.POST(e.Path, fn)
		default:
			panic("forge: WithAdmin: endpoint method " + e.Method)
		}
	}
	return in
}

// loopbackOnly refuses, with 403, requests that do not come from the
// loopback interface.
func loopbackOnly(logger *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				logger.LogAttrs(r.Context(), slog.LevelWarn, "inspector refused a non-loopback client",
					slog.String("remote_addr", r.RemoteAddr))
				problem.Write(w, http.StatusForbidden, "the inspector serves loopback clients only")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
