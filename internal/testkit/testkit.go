package testkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Timeout bounds every wait of the helpers here: dialing, reading, polling.
// It guards against a hang; it asserts nothing about time.
const Timeout = 10 * time.Second

// Buffer is a bytes.Buffer safe for concurrent use: the output of a logger
// or a process, written from other goroutines while the test reads it.
// Its zero value is empty and ready to use.
type Buffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TextLogger returns a logger that writes text records, Debug and up, to w.
func TextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// WaitFor polls cond until it holds, and fails the test, naming what it
// waited for, when it does not hold within Timeout. It waits for
// asynchronous effects.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll(t, what, Timeout, 2*time.Millisecond, cond)
}

// WaitWithin is WaitFor with bound in place of Timeout, for what takes
// long by design (a flood draining, a process starting), and a slower
// poll. Like Timeout, bound is a guard against a hang.
func WaitWithin(t testing.TB, what string, bound time.Duration, cond func() bool) {
	t.Helper()
	poll(t, what, bound, 10*time.Millisecond, cond)
}

// poll checks cond every pause until it holds, failing the test once
// bound has passed.
func poll(t testing.TB, what string, bound, pause time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting %v for %s", bound, what)
		}
		time.Sleep(pause)
	}
}

// Must fails the test when err is not nil.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Expect calls read once for each of want and fails the test at the first
// result that differs: testkit.Expect(t, conn.ReadText, "a", "b").
func Expect(t testing.TB, read func() string, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := read(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}

// Dial opens a WebSocket connection to url ("ws://…"), sending header
// and offering subprotocols, and fails the test with the handshake's status
// when it cannot. The connection is closed when the test ends, and its
// reads time out after Timeout.
func Dial(t testing.TB, url string, header http.Header, subprotocols ...string) *websocket.Conn {
	t.Helper()
	return dial(t, &websocket.Dialer{HandshakeTimeout: Timeout, Subprotocols: subprotocols}, url, header)
}

// dial is Dial with d.
func dial(t testing.TB, d *websocket.Dialer, url string, header http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
	return c
}

// Inbox collects the messages a subscription's callback receives, for a
// test that waits for them on another goroutine. Make it with NewInbox.
type Inbox struct {
	mu   sync.Mutex // guards msgs
	msgs [][]byte
	more chan struct{} // signalled after every message
}

// NewInbox returns an empty Inbox.
func NewInbox() *Inbox { return &Inbox{more: make(chan struct{}, 1)} }

// Receive stores a copy of data; pass it as the subscription's callback.
func (in *Inbox) Receive(data []byte) {
	in.mu.Lock()
	in.msgs = append(in.msgs, bytes.Clone(data))
	in.mu.Unlock()
	select {
	case in.more <- struct{}{}:
	default:
	}
}

// Messages returns the messages received so far, in order.
func (in *Inbox) Messages() [][]byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([][]byte(nil), in.msgs...)
}

// Len returns how many messages were received so far.
func (in *Inbox) Len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.msgs)
}

// Wait waits until the inbox holds n messages and returns them, failing
// the test when they do not arrive within Timeout.
func (in *Inbox) Wait(t testing.TB, n int) [][]byte {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		if msgs := in.Messages(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-in.more:
		case <-deadline.C:
			t.Fatalf("%d of %d messages arrived within %v", in.Len(), n, Timeout)
		}
	}
}

// Do sends req, requires the response's status to be status, and returns
// the response, its body read and closed, and the body.
func Do(t testing.TB, req *http.Request, status int) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %s, want %d: %.500s", req.Method, req.URL, resp.Status, status, body)
	}
	return resp, body
}

// Get GETs url, requires 200 OK, and returns the body.
func Get(t testing.TB, url string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, body := Do(t, req, http.StatusOK)
	return body
}

// Post POSTs body to url as JSON, requires status, and returns the
// response's body.
func Post(t testing.TB, url, body string, status int) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	_, b := Do(t, req, status)
	return b
}

// GetJSON GETs url, requires 200 OK, and decodes the JSON body into v.
func GetJSON(t testing.TB, url string, v any) {
	t.Helper()
	if err := json.Unmarshal(Get(t, url), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// MustPanic runs fn and fails the test unless it panics with a message
// that starts with prefix and contains want.
func MustPanic(t testing.TB, prefix, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if msg := fmt.Sprint(v); v == nil || !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, want) {
			t.Fatalf("panic = %v, want one starting %q and mentioning %q", v, prefix, want)
		}
	}()
	fn()
}

// Echo writes back every message it reads from conn, a connection.Conn or
// forge.Connection, until a read or write fails, and returns that error:
// the body of an echo handler.
func Echo(conn interface {
	Read() ([]byte, error)
	Write([]byte) error
}) error {
	for {
		msg, err := conn.Read()
		if err != nil {
			return err
		}
		if err := conn.Write(msg); err != nil {
			return err
		}
	}
}

// ReadClose reads from c, discarding data messages, until the connection
// ends, and returns the code and reason of the server's close frame, or
// the error when it ended without one. It may run on any goroutine.
func ReadClose(c *websocket.Conn) (code int, reason string, err error) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				return -1, "", err
			}
			return ce.Code, ce.Text, nil
		}
	}
}

// PanicCase is a call, Fn, that must panic with a message containing Want.
// It is an alias of a struct type, so that tables may list cases without
// the field names: {"name", func() { ... }, "want"}.
type PanicCase = struct {
	Name string
	Fn   func()
	Want string
}

// MustPanicCases runs MustPanic with prefix on each case, in parallel
// subtests named by the cases.
func MustPanicCases(t *testing.T, prefix string, cases []PanicCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			MustPanic(t, prefix, c.Want, c.Fn)
		})
	}
}

// Golden compares got with the golden file at path, first writing got
// there when update is set (the tests' -update flag), and fails the test
// when they differ.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (go test -update rewrites it if the change is intended); now:\n%.4000s", path, got)
	}
}

// FreeAddr returns a loopback address whose port was free a moment ago,
// for a server in another process to listen on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
