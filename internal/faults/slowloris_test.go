package faults

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

// headerTimeout is the test app's read-header timeout
// (forge.WithReadHeaderTimeout).
const headerTimeout = 2 * time.Second

// TestSlowloris: clients that send the upgrade request one byte at a time,
// or all of it but the blank line that ends it, are cut off by the
// server's header timeout (the test waits three times as long) and
// counted in Stats().HeaderTimeouts, while an echo client already
// connected keeps being served and new clients keep getting in.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	app := forge.New(forge.WithAppName("faults"), forge.WithLogger((&logSink{}).logger()),
		forge.WithReadHeaderTimeout(headerTimeout))
	app.Router().WebSocket("/echo", echoHandler)
	srv := &forgetest.Server{URL: serveOn(t, app, "127.0.0.1:0")}
	addr := strings.TrimPrefix(srv.URL, "http://")
	echo := srv.Dial(t, "/echo", nil)

	request := "GET /echo HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	const perKind = 20
	kinds := []struct {
		name string
		send func(c net.Conn, done <-chan struct{}) // returns when the server closes c or done closes
	}{
		{"one byte every 100 ms", func(c net.Conn, done <-chan struct{}) {
			full := request + "\r\n"
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i = (i + 1) % len(full) {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				if i == len(full)-1 {
					i = 0 // never the last byte: start the same header over
				}
				if _, err := c.Write([]byte{full[i]}); err != nil {
					return
				}
			}
		}},
		{"all but the blank line", func(c net.Conn, done <-chan struct{}) {
			if _, err := io.WriteString(c, request); err != nil {
				return
			}
			<-done
		}},
	}

	type result struct {
		kind   string
		closed bool   // the server closed the connection
		answer string // what it sent first, if anything
		after  time.Duration
	}
	results := make(chan result, perKind*len(kinds))
	var wg sync.WaitGroup
	start := time.Now()
	for _, k := range kinds {
		for range perKind {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			var sendWG sync.WaitGroup
			done := make(chan struct{}) // the reader has finished
			sendWG.Go(func() { k.send(c, done) })
			wg.Go(func() {
				defer func() { close(done); c.Close(); sendWG.Wait() }()
				c.SetReadDeadline(time.Now().Add(3 * headerTimeout))
				buf := make([]byte, 512)
				n, err := c.Read(buf)
				r := result{kind: k.name, answer: string(buf[:n]), after: time.Since(start)}
				for err == nil {
					_, err = c.Read(buf)
				}
				if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
					r.closed = true
				}
				results <- r
			})
		}
	}

	// While they trickle, the server serves.
	var echoes atomic.Int64
	for time.Since(start) < headerTimeout/2 {
		echoOnce(t, echo, "during the slowloris")
		echoes.Add(1)
		newcomer := srv.Dial(t, "/echo", nil)
		echoOnce(t, newcomer, "a newcomer")
		newcomer.Close()
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	close(results)
	byKind := map[string]int{}
	for r := range results {
		if !r.closed {
			t.Errorf("%s: the server had not closed the connection after %v", r.kind, r.after)
			continue
		}
		// net/http closes in silence, or with 400 when the timeout cut a
		// header line in two.
		if r.answer != "" && !strings.HasPrefix(r.answer, "HTTP/1.1 400 ") && !strings.HasPrefix(r.answer, "HTTP/1.1 408 ") {
			t.Errorf("%s: the server answered %q", r.kind, r.answer)
		}
		byKind[fmt.Sprintf("%s: closed, answer %q", r.kind, firstLine(r.answer))]++
	}
	t.Logf("%d echoes and as many newcomers served during the slowloris; %v", echoes.Load(), byKind)
	// The server counts each once it has closed it, which its client may
	// see first.
	want := uint64(perKind * len(kinds))
	testkit.WaitFor(t, "the header timeouts to be counted", func() bool { return app.Stats().HeaderTimeouts >= want })
	if got := app.Stats().HeaderTimeouts; got != want {
		t.Errorf("Stats().HeaderTimeouts = %d, want %d", got, want)
	}
	echoOnce(t, echo, "after the slowloris")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
