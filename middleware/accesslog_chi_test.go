package middleware_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/middleware"
)

// chiRouteHandler is a slog.Handler that adds the route chi routed the
// record's request on, as handlers that label logs by route do.
type chiRouteHandler struct{ slog.Handler }

func (h chiRouteHandler) Handle(ctx context.Context, r slog.Record) error {
	if rc := chi.RouteContext(ctx); rc != nil {
		r.AddAttrs(slog.String("chi_route", rc.RoutePattern()), slog.String("chi_room", rc.URLParam("room")))
	}
	return h.Handler.Handle(ctx, r)
}

// TestAccessLogSessionLineRoute checks the context the session line of a
// WebSocket connection is logged with, long after the handshake's
// ServeHTTP returned: a slog.Handler that reads chi's route from it must
// see the connection's route, not that of a later request to which chi
// gave its pooled route context.
func TestAccessLogSessionLineRoute(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	logger := slog.New(chiRouteHandler{logs.logger().Handler()})
	app := forge.New(forge.WithLogger(slog.New(slog.DiscardHandler)))
	r := app.Router()
	r.Use(middleware.AccessLog(logger))
	r.WebSocket("/ws/{room}", func(_ forge.Context, conn forge.Connection) error {
		for {
			if _, err := conn.Read(); err != nil {
				return err
			}
		}
	})
	r.GET("/rest/{id}", func(ctx forge.Context) error { return ctx.String(http.StatusOK, "ok") })
	srv := forgetest.Start(t, app)

	ws := srv.Dial(t, "/ws/lobby", nil)
	// Later requests take chi's pooled route contexts, the handshake's
	// among them.
	for range 200 {
		resp, err := http.Get(srv.URL + "/rest/x")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ws.Close()
	s := logs.waitLines(t, "websocket session", 1)[0]
	if s["chi_route"] != "/ws/{room}" || s["chi_room"] != "lobby" {
		t.Errorf("session line logged with chi route %v, room %v; want /ws/{room}, lobby", s["chi_route"], s["chi_room"])
	}
}
