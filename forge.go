package forge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/problem"
	"github.com/forgekit/forge/router"
)

// App is a forge application: a router for REST and WebSocket routes, and
// the servers and connections that serve it. Create it with New; its
// methods are safe for concurrent use.
type App struct {
	name, version   string
	addr            string
	logger          *slog.Logger
	shutdownTimeout time.Duration
	headerTimeout   time.Duration
	err             error // deployment settings that cannot work, returned by Run and Serve

	mux     *router.Mux
	tracker connection.Tracker
	insp    inspection // WithMetrics, WithAdmin, Inspect

	docCfg    docConfig
	docCache  docCache
	startOnce sync.Once
	startErr  error // from start: the document routes could not be installed

	mu       sync.Mutex // guards servers and closing
	servers  map[*http.Server]struct{}
	closing  bool          // Shutdown has been called
	closed   chan struct{} // closed when the first Shutdown returns
	doneOnce sync.Once
}

// New returns an App configured by opts. A mistake in the options, such
// as a zero shutdown timeout or two auth providers under one name, panics
// with a "forge: " message, as a mistake in a route registration does (see
// "Mistakes and errors" in the package documentation). The settings a
// deployment supplies, the listen address (WithAddr, PORT) and the public
// URL (WithPublicURL), are reported by Run, Serve and Handler instead;
// until then the App works as if they had not been given.
func New(opts ...Option) *App {
	c := config{shutdownTimeout: DefaultShutdownTimeout, headerTimeout: DefaultReadHeaderTimeout, docs: docConfig{
		openapiPath: DefaultOpenAPIPath, asyncapiPath: DefaultAsyncAPIPath, uiPath: DefaultDocsPath,
	}}
	for _, o := range opts {
		if o == nil {
			panic("forge: New: nil Option")
		}
		o(&c)
	}
	if !c.addrSet {
		c.addr = DefaultAddr
		if port := os.Getenv("PORT"); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				c.fail(fmt.Errorf("forge: PORT environment variable %q is not a port number", port))
			} else {
				c.addr = ":" + port
			}
		}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	a := &App{
		name:            c.name,
		version:         c.version,
		addr:            c.addr,
		logger:          c.logger,
		shutdownTimeout: c.shutdownTimeout,
		headerTimeout:   c.headerTimeout,
		servers:         make(map[*http.Server]struct{}),
		closed:          make(chan struct{}),
		docCfg:          c.docs,
		docCache:        docCache{count: -1},
	}
	rc := router.Config{Logger: a.logger, Tracker: &a.tracker, Defaults: c.routeDefaults, Auth: c.auth}
	a.mux = router.New(rc)
	a.insp.started = time.Now()
	a.observe(c.observe, a.logger)
	a.err = errors.Join(c.errs...)
	return a
}

// Name returns the name set by WithAppName.
func (a *App) Name() string { return a.name }

// Version returns the version set by WithVersion.
func (a *App) Version() string { return a.version }

// Router returns the application's router, to register routes on before
// serving.
func (a *App) Router() Router { return a.mux }

// Handler returns the application as an http.Handler, for serving it with
// a server of one's own. Its WebSocket connections are still closed by
// Shutdown. If a deployment setting (WithPublicURL, WithAddr, PORT) was
// invalid, every request gets 500 and the error is logged.
func (a *App) Handler() http.Handler {
	if err := errors.Join(a.err, a.start()); err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.logger.LogAttrs(r.Context(), slog.LevelError, "forge app misconfigured", slog.Any("error", err))
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		})
	}
	return a.mux
}

// Stats returns a snapshot of the WebSocket connection counters; see
// connection.Stats for what each counts (Refused includes the handshakes
// refused by a route's auth, and Dropped every outbound message a
// connection was given and never sent).
func (a *App) Stats() connection.Stats { return a.tracker.Stats() }

// Serve serves the application on l until Shutdown, then returns nil once
// the shutdown is complete. It always closes l. Serve fails at once when a
// deployment setting (WithPublicURL, WithAddr, PORT) is invalid, and with
// http.ErrServerClosed after Shutdown was called.
func (a *App) Serve(l net.Listener) error {
	if err := errors.Join(a.err, a.start()); err != nil {
		_ = l.Close()
		return err
	}
	srv := &http.Server{
		Handler:           a.mux,
		ReadHeaderTimeout: a.headerTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
		// A connection closed after a read timed out before its first
		// request's headers were whole (problem.TimedOut), and never
		// handed to a WebSocket (those are not reported), was cut off by
		// the header timeout.
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateClosed && problem.TimedOut(c) {
				a.tracker.CountHeaderTimeout()
			}
		},
	}
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		_ = l.Close()
		return http.ErrServerClosed
	}
	a.servers[srv] = struct{}{}
	a.mu.Unlock()

	// The refusals net/http writes by itself (431 for oversized headers,
	// 400 for a request it cannot read) come as problem+json, as forge's
	// others do.
	err := srv.Serve(problem.Listener(l))
	if !errors.Is(err, http.ErrServerClosed) {
		a.mu.Lock()
		delete(a.servers, srv)
		a.mu.Unlock()
		return err
	}
	// srv.Serve returns as soon as Shutdown starts; wait for it to finish.
	<-a.closed
	return nil
}

// Run listens on the configured address and serves the application until
// SIGINT or SIGTERM, then shuts down gracefully within the shutdown timeout.
// It returns nil after a clean shutdown, including one started by calling
// Shutdown. When the environment variable FORGE_WRITE_DOCS names a
// directory, Run writes the documents there instead (see WriteDocuments)
// and returns without serving.
func (a *App) Run() error {
	if a.err != nil {
		return a.err
	}
	if ok, err := a.writeDocsFromEnv(); ok {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	l, err := net.Listen("tcp", a.addr)
	if err != nil {
		return fmt.Errorf("forge: listen: %w", err)
	}
	a.logger.LogAttrs(ctx, slog.LevelInfo, "listening",
		slog.String("app", a.name), slog.String("version", a.version), slog.String("addr", l.Addr().String()))

	served := make(chan error, 1)
	go func() { served <- a.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal now ends the process at once
	a.logger.LogAttrs(context.Background(), slog.LevelInfo, "shutting down",
		slog.Duration("timeout", a.shutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), a.shutdownTimeout)
	defer cancel()
	err = a.Shutdown(sctx)
	return errors.Join(err, <-served)
}

// Shutdown stops the application gracefully: its servers stop accepting and
// finish their requests, and every WebSocket connection, including those
// served through Handler, is closed with 1001 (going away) and its handler
// waited for. When they have not all finished shortly before ctx's
// deadline (see connection.Tracker.Shutdown), or when ctx is canceled, the
// remaining connections are dropped, and Shutdown returns by the deadline
// with context.DeadlineExceeded (or ctx's error). After Shutdown, Serve
// and Run fail with http.ErrServerClosed.
func (a *App) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	a.closing = true
	servers := make([]*http.Server, 0, len(a.servers))
	for srv := range a.servers {
		servers = append(servers, srv)
	}
	a.mu.Unlock()
	defer a.doneOnce.Do(func() { close(a.closed) })
	a.insp.shutdown() // the inspector's taps would hold their servers open

	// Servers and connections shut down together: a REST request that takes
	// its time must not delay closing the WebSockets. The tracker refuses
	// upgrades from the start, so none slips through.
	var (
		wg   sync.WaitGroup
		emu  sync.Mutex // guards errs
		errs []error
	)
	record := func(err error) {
		if err != nil {
			emu.Lock()
			errs = append(errs, err)
			emu.Unlock()
		}
	}
	for _, srv := range servers {
		wg.Go(func() {
			err := srv.Shutdown(ctx)
			if err != nil {
				_ = srv.Close() // drop the requests that did not finish in time
			}
			record(err)
		})
	}
	wg.Go(func() { record(a.tracker.Shutdown(ctx)) })
	wg.Wait()
	if len(errs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}
