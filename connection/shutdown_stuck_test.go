package connection

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgekit/forge/internal/testkit"
)

// TestShutdownLogsStuckHandlers: a handler that ignores its connection's
// end keeps Shutdown from finishing; Shutdown still returns with ctx's
// error once its deadline and the grace after the abort have passed, and
// logs that connection once, at Error, with its ID. A handler that returned
// is not logged.
func TestShutdownLogsStuckHandlers(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	release := make(chan struct{})
	ids := make(chan string, 2)
	var n atomic.Int32
	s := newServer(t, Config{Logger: logger}, func(c *Conn) error {
		ids <- c.ID()
		if n.Add(1) == 1 {
			<-release // ignores c.Context()
		}
		<-c.Context().Done()
		return nil
	})
	t.Cleanup(func() { close(release) })
	dial(t, s, nil)
	stuck := <-ids
	dial(t, s, nil)
	polite := <-ids
	for s.tracker.Stats().Open != 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.tracker.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v, want the deadline's error", err)
	}
	var records []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "did not return") {
			records = append(records, line)
		}
	}
	if len(records) != 1 || !strings.Contains(records[0], "conn_id="+stuck) || strings.Contains(records[0], polite) {
		t.Fatalf("records of handlers that did not return: %q, want one for %s", records, stuck)
	}
}
