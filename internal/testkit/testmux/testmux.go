// Package testmux serves a router.Mux on a real listener, for
// forgetest.Start, in the tests of packages that sit below the root
// package (hub, events) and so cannot use forge.App.
package testmux

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/router"
)

// App is a router with the tracker of its WebSocket connections, which
// Shutdown closes. Register routes on Mux before forgetest.Start.
type App struct {
	Mux     *router.Mux
	Tracker *connection.Tracker
	srv     *http.Server
}

// New returns an App whose router logs nothing and applies defaults to
// every route.
func New(t testing.TB, defaults ...router.GroupOption) *App {
	t.Helper()
	tracker := &connection.Tracker{}
	mux := router.New(router.Config{Logger: slog.New(slog.DiscardHandler), Tracker: tracker, Defaults: defaults})
	return &App{Mux: mux, Tracker: tracker, srv: &http.Server{Handler: mux}}
}

// Serve serves on l until Shutdown.
func (a *App) Serve(l net.Listener) error {
	if err := a.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown closes the WebSocket connections and stops the server.
func (a *App) Shutdown(ctx context.Context) error {
	return errors.Join(a.Tracker.Shutdown(ctx), a.srv.Shutdown(ctx))
}
