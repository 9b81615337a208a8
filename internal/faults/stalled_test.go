package faults

import (
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

// TestPeerStopsReading: a client that stops reading while the server
// writes to it fills the TCP window, then its queue; the server closes it
// as a slow consumer once its write timeout has passed, counts it, logs
// it once, and keeps serving the others.
func TestPeerStopsReading(t *testing.T) {
	t.Parallel()
	logs := &logSink{}
	app := forge.New(forge.WithAppName("faults"), forge.WithLogger(logs.logger()))
	sessions := make(chan connection.SessionInfo, 4)
	handlerErr := make(chan error, 1)
	observe := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := connection.ObserveSession(r.Context(), func(s connection.SessionInfo) { sessions <- s })
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	r := app.Router()
	r.WebSocket("/steady", echoHandler)
	r.WebSocket("/stream", func(_ forge.Context, conn forge.Connection) error {
		msg := make([]byte, 16<<10)
		for {
			if err := conn.Write(msg); err != nil {
				handlerErr <- err
				return err
			}
		}
	}, forge.WithWriteTimeout(500*time.Millisecond), forge.WithQueueBytes(64<<10), forge.WithMiddleware(observe))
	srv := &forgetest.Server{URL: serveOn(t, app, "127.0.0.1:0")}
	steady := srv.Dial(t, "/steady", nil)

	// The client reads nothing.
	stalled := srv.Dial(t, "/stream", nil)
	defer stalled.Close()

	var err error
	select {
	case err = <-handlerErr:
	case <-time.After(time.Minute):
		t.Fatalf("the server still writes to a client that reads nothing after a minute")
	}
	if !errors.Is(err, connection.ErrSlowConsumer) {
		t.Errorf("the handler's Write failed with %v, want ErrSlowConsumer", err)
	}
	var info connection.SessionInfo
	select {
	case info = <-sessions:
	case <-time.After(time.Minute):
		t.Fatalf("the stalled connection did not end")
	}
	t.Logf("session: code %d %q, %d messages (%d bytes) out", info.Code, info.Reason, info.MessagesOut, info.BytesOut)
	testkit.WaitWithin(t, "Stats().Open back to 1", forgetest.Timeout, func() bool { return app.Stats().Open == 1 })
	if st := app.Stats(); st.SlowConsumers != 1 {
		t.Errorf("Stats().SlowConsumers = %d, want 1", st.SlowConsumers)
	}
	recs := logs.find(slog.LevelWarn, nil)
	if len(recs) != 1 || recs[0].attrs["route"] != "/stream" {
		t.Errorf("want one Warn about the slow consumer of /stream, got:\n%s", joinRecords(recs))
	}
	echoOnce(t, steady, "after the stall")
}
