//go:build unix

package forge_test

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

// TestHeaderTimeoutCounted: a client that connects and never finishes its
// request is cut off by WithReadHeaderTimeout, and counted once in
// Stats().HeaderTimeouts and in forge_http_header_timeouts_total; a REST
// request and a WebSocket that were served in time are not counted.
func TestHeaderTimeoutCounted(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	app := forge.New(
		forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		forge.WithReadHeaderTimeout(300*time.Millisecond),
		forge.WithMetrics(reg),
	)
	app.Router().Mount("/metrics", forge.MetricsHandler(reg))
	app.Router().WebSocket("/ws", func(_ forge.Context, conn forge.Connection) error {
		_, err := conn.Read()
		return err
	})
	srv := forgetest.Start(t, app)

	// Served in time: a scrape (REST) and a WebSocket that comes and goes.
	if got := value(scrape(t, srv.URL+"/metrics"), "forge_http_header_timeouts_total"); got != 0 {
		t.Fatalf("before any slow client: forge_http_header_timeouts_total = %v, want 0", got)
	}
	srv.Dial(t, "/ws", nil).Close()

	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	c.SetReadDeadline(time.Now().Add(testkit.Timeout))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("the server did not close the slow client: %v", err)
	}
	testkit.WaitFor(t, "the timeout to be counted", func() bool { return app.Stats().HeaderTimeouts > 0 })
	if got := app.Stats().HeaderTimeouts; got != 1 {
		t.Errorf("Stats().HeaderTimeouts = %d, want 1", got)
	}
	if got := value(scrape(t, srv.URL+"/metrics"), "forge_http_header_timeouts_total"); got != 1 {
		t.Errorf("forge_http_header_timeouts_total = %v, want 1", got)
	}
}
