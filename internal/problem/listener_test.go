package problem

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestListenerRewritesEarlyErrors: the refusals net/http writes before any
// handler come as problem+json through Listener; a handler's own answers,
// plain text included, pass as they are.
func TestListenerRewritesEarlyErrors(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		MaxHeaderBytes: 1 << 10,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "HTTP/1.1 431 not from net/http", http.StatusTeapot)
		}),
	}
	done := make(chan struct{})
	go func() { srv.Serve(Listener(l)); close(done) }()
	t.Cleanup(func() {
		// Shutdown waits for the connections net/http lingers on after
		// an error.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})

	tests := []struct {
		name, request string
		status        int
		problem       bool
		detail        string
	}{
		{"header too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge, true, "the request's header is larger than the server accepts"},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest, true, "missing required Host header"},
		{"malformed", "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", http.StatusBadRequest, true, "the request is not valid HTTP"},
		{"version", "GET / HTTP/9.9\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported, true, "unsupported protocol version"},
		{"handler's own", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusTeapot, false, ""},
	}
	for _, tt := range tests {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(time.Minute)) // a hang guard
		fmt.Fprint(c, tt.request)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: status %d %s", tt.name, resp.StatusCode, body)
		}
		if !tt.problem {
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || string(body) != "HTTP/1.1 431 not from net/http\n" {
				t.Fatalf("%s: %q %q changed", tt.name, ct, body)
			}
			continue
		}
		var d Details
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(body, &d) != nil {
			t.Fatalf("%s: %q %s", tt.name, ct, body)
		}
		if d.Status != tt.status || d.Title != http.StatusText(tt.status) || d.Type != "about:blank" || d.Detail != tt.detail {
			t.Fatalf("%s: %+v", tt.name, d)
		}
	}
}

// TestListenerConnKeepsTheSocket: the connections still offer the raw
// socket and half-closing that connection and net/http use.
func TestListenerConnKeepsTheSocket(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pl := Listener(l)
	go func() {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	c, err := pl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatal("no syscall.Conn")
	}
	if _, err := sc.SyscallConn(); err != nil {
		t.Fatal(err)
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
}

// TestListenerNotesHeaderTimeouts: a connection cut off by the server's
// header timeout is TimedOut when it closes; one that sent its request in
// time is not, though net/http aborts its own background read on it with
// a deadline in the past.
func TestListenerNotesHeaderTimeouts(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan bool, 8) // TimedOut of each connection that closed
	srv := &http.Server{
		ReadHeaderTimeout: 200 * time.Millisecond,
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				closed <- TimedOut(c)
			}
		},
	}
	done := make(chan struct{})
	go func() { srv.Serve(Listener(l)); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })

	send := func(req string) string {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, req)
		c.SetReadDeadline(time.Now().Add(time.Minute))
		answer, _ := io.ReadAll(c) // until the server closes
		return string(answer)
	}
	tests := []struct {
		name, req string
		timedOut  bool
	}{
		{"a whole request", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false},
		{"bare line feeds", "GET / HTTP/1.1\nHost: x\nConnection: close\n\n", false},
		{"headers without their end", "GET / HTTP/1.1\r\nHost: x\r\n", true},
		{"nothing at all", "", true},
	}
	for _, tt := range tests {
		answer := send(tt.req)
		if got := <-closed; got != tt.timedOut {
			t.Errorf("%s (answered %q): TimedOut = %v, want %v", tt.name, firstLine(answer), got, tt.timedOut)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
