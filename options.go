package forge

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/forgekit/forge/auth"
)

// Option configures an App. An option whose value no program should pass
// panics where it is built (WithShutdownTimeout(0)); options that conflict
// panic in New. The deployment's settings, WithAddr and WithPublicURL, are
// checked when the app starts serving: their errors are returned by Run
// and Serve.
type Option func(*config)

// Default settings of an App.
const (
	DefaultAddr            = ":8080"
	DefaultShutdownTimeout = 15 * time.Second
	// DefaultReadHeaderTimeout is how long a client has to send a
	// request's headers, the WebSocket handshake's among them.
	DefaultReadHeaderTimeout = 10 * time.Second
	// IdleTimeout is how long App.Serve's servers keep a keep-alive
	// connection open between two requests (a WebSocket is not idle in
	// this sense: it has left the HTTP server). A program that needs
	// another value serves App.Handler with an http.Server of its own.
	IdleTimeout = 2 * time.Minute
)

type config struct {
	name, version   string
	addr            string
	addrSet         bool
	logger          *slog.Logger
	shutdownTimeout time.Duration
	headerTimeout   time.Duration
	routeDefaults   []GroupOption
	docs            docConfig
	auth            map[string]auth.Provider
	observe         observeConfig // WithMetrics, WithAdmin
	errs            []error       // deployment settings that cannot work
}

// fail records an error of a deployment setting, for Run and Serve.
func (c *config) fail(err error) { c.errs = append(c.errs, err) }

// WithAppName sets the application's name, as shown in logs and documents.
func WithAppName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithVersion sets the application's version, as shown in logs and
// documents.
func WithVersion(version string) Option {
	return func(c *config) { c.version = version }
}

// WithAddr sets the TCP address Run listens on, "host:port". Without it, Run
// listens on ":$PORT" when the PORT environment variable is set, and on
// DefaultAddr otherwise. An address is the deployment's to give (a flag,
// the environment), so an invalid one is an error returned by Run and
// Serve, as net.Listen would return it, not a panic.
func WithAddr(addr string) Option {
	return func(c *config) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			c.fail(fmt.Errorf("forge: WithAddr %q: %w", addr, err))
			return
		}
		c.addr, c.addrSet = addr, true
	}
}

// WithLogger sets the logger of the application, its router and its
// connections; nil means slog.Default(). A hub or an events dispatcher
// logs to the logger given to its own WithLogger (hub.WithLogger,
// events.WithLogger), not to this one.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithShutdownTimeout bounds the graceful shutdown that Run performs on
// SIGINT or SIGTERM. Default DefaultShutdownTimeout; d must be positive.
func WithShutdownTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("forge: WithShutdownTimeout: timeout must be positive")
	}
	return func(c *config) { c.shutdownTimeout = d }
}

// WithReadHeaderTimeout bounds the time a client has to send a request's
// headers once it has connected, the WebSocket handshake included (the
// http.Server's ReadHeaderTimeout). A client that sends them too slowly,
// such as a slowloris holding connections open a byte at a time, is cut
// off and counted in App.Stats().HeaderTimeouts. Default
// DefaultReadHeaderTimeout; d must be positive.
func WithReadHeaderTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("forge: WithReadHeaderTimeout: timeout must be positive")
	}
	return func(c *config) { c.headerTimeout = d }
}

// WithRouteDefaults sets route options for every route of the application,
// such as WebSocket settings; groups and routes override them.
// WebSocket-only options here apply to WebSocket routes only. WithName
// cannot be a default: New panics.
func WithRouteDefaults(opts ...GroupOption) Option {
	opts = slices.Clone(opts)
	return func(c *config) { c.routeDefaults = append(c.routeDefaults, opts...) }
}
