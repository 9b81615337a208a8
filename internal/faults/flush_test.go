package faults

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/internal/testkit"
)

// TestShutdownFlushesWrites: handlers write a burst as fast as their
// small queues take it while the app shuts down. Every message whose
// Write returned nil reaches its client, in order, before the 1001.
func TestShutdownFlushesWrites(t *testing.T) {
	// Not parallel: the load is the test's alone.
	conns := 200
	if full() {
		conns = 500
	}
	raiseFileLimit(t, uint64(2*conns+1024))
	logs := &logSink{}
	app := forge.New(forge.WithAppName("faults"), forge.WithLogger(logs.logger()))
	written := make([]atomic.Int64, conns) // by client number: Writes that returned nil
	ended := make([]atomic.Bool, conns)    // by client number: the handler returned
	const burst = 5000
	var started sync.WaitGroup
	started.Add(conns)
	begin := make(chan struct{}) // closed just before Shutdown
	app.Router().WebSocket("/burst", func(ctx forge.Context, conn forge.Connection) error {
		n, err := strconv.Atoi(ctx.Query("n"))
		if err != nil || n < 0 || n >= conns {
			return errors.New("bad client number")
		}
		defer ended[n].Store(true)
		started.Done()
		<-begin
		for i := 1; i <= burst; i++ {
			if err := conn.Write([]byte(strconv.Itoa(i))); err != nil {
				return err
			}
			written[n].Store(int64(i))
		}
		<-conn.Context().Done()
		return nil
	}, forge.WithQueueBytes(4096))

	srv, served := serveManual(t, app)
	type outcome struct {
		got  int64 // messages received, all in order
		code int
		text string // the close reason
		err  error
	}
	results := make([]outcome, conns)
	var readers sync.WaitGroup
	for n := range conns {
		ws, _, err := srv.DialErr("/burst?n="+strconv.Itoa(n), nil)
		if err != nil {
			t.Fatalf("dial %d: %v", n, err)
		}
		answerClose(ws)
		readers.Go(func() {
			defer ws.Close()
			res := &results[n]
			ws.SetReadDeadline(time.Now().Add(time.Minute))
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						res.code, res.text = ce.Code, ce.Text
					} else {
						res.err = err
					}
					return
				}
				if string(data) != strconv.FormatInt(res.got+1, 10) {
					res.err = errors.New("message " + string(data) + " after " + strconv.FormatInt(res.got, 10))
					return
				}
				res.got++
			}
		})
	}
	started.Wait()
	close(begin)
	// Shut down while every handler is mid-burst (or ended: a client too
	// slow for the write timeout is closed, and the check below says so).
	defer func() {
		if t.Failed() { // what the server said, for the connections that ended otherwise
			for _, r := range logs.find(slog.LevelDebug, func(r logRecord) bool {
				return r.level >= slog.LevelInfo || r.msg == "websocket write failed" || (r.msg == "websocket closed" && r.attrs["code"] != "1001")
			}) {
				t.Logf("log: %s", r)
			}
		}
	}()
	testkit.WaitWithin(t, "every handler writing", time.Minute, func() bool {
		for n := range written {
			if written[n].Load() < 20 && !ended[n].Load() {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	readers.Wait()
	var total, cut int64
	for n, res := range results {
		if res.got < burst {
			cut++
		}
		want := written[n].Load()
		total += res.got
		// A close for another reason (keepalive timeout, slow consumer)
		// means the clients could not keep up: the test's load is too
		// much for the machine.
		if res.err != nil || res.code != websocket.CloseGoingAway || res.text != "server shutting down" || res.got != want {
			t.Errorf("client %d: %d messages then close %d %q (error %v); the handler's Write returned nil %d times, want them all and then 1001 \"server shutting down\"",
				n, res.got, res.code, res.text, res.err, want)
		}
	}
	t.Logf("%d connections received %d messages, every one written, before their 1001; %d bursts were cut short by the shutdown", conns, total, cut)
}
