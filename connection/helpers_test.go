package connection

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

// hangGuard bounds the waits of tests. It is not a timing assertion: what
// a test waits for comes in milliseconds, even on a busy machine, and the
// guard only turns a hang into a failure with a message.
const hangGuard = time.Minute

// server runs h behind connection.Serve on a loopback httptest server.
type server struct {
	*httptest.Server
	tracker *Tracker
	errs    chan error // handler results
}

func newServer(t *testing.T, cfg Config, h func(*Conn) error) *server {
	t.Helper()
	s := &server{tracker: &Tracker{}, errs: make(chan error, 64)}
	if cfg.Tracker == nil {
		cfg.Tracker = s.tracker
	} else {
		s.tracker = cfg.Tracker
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, &cfg, func(c *Conn) error {
			err := h(c)
			select {
			case s.errs <- err:
			default:
			}
			return err
		})
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.tracker.Shutdown(ctx)
		s.Server.Close()
	})
	return s
}

func (s *server) url() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func dial(t *testing.T, s *server, header http.Header, protos ...string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: protos, HandshakeTimeout: hangGuard}
	ws, resp, err := d.Dial(s.url(), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// readClose reads until the connection ends and returns the close code the
// server sent (or -1 for no close frame).
// expectInOrder reads n messages from ws and fails unless the i-th is
// want(i).
func expectInOrder(t *testing.T, ws *websocket.Conn, n int, want func(i int) []byte) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	for i := range n {
		_, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if w := want(i); !bytes.Equal(got, w) {
			t.Fatalf("message %d: %d bytes %.20q, want %d (first difference at %d)", i, len(got), got, len(w), firstDiff(got, w))
		}
	}
}

func readClose(t *testing.T, ws *websocket.Conn) (int, string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	code, reason, err := testkit.ReadClose(ws)
	if err != nil {
		return -1, err.Error()
	}
	return code, reason
}

func waitErr(t *testing.T, s *server) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	case <-time.After(hangGuard):
		t.Fatal("handler did not return")
		return nil
	}
}

func echo(c *Conn) error {
	for {
		typ, msg, err := c.ReadMessage(context.Background())
		if err != nil {
			return err
		}
		if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
			return err
		}
	}
}

// rawClient speaks WebSocket frame by frame over a plain TCP connection, so
// that a test sees every frame the server sends, in order, and the client
// answers nothing on its own (gorilla's client answers pings and close
// frames by itself).
type rawClient struct {
	t          *testing.T
	nc         net.Conn
	br         *bufio.Reader
	extensions string // the server's Sec-WebSocket-Extensions answer
}

// rawHandshake dials addr and sends a WebSocket handshake with the extra
// header lines (each ending in CRLF). It returns the connection, which
// closes when the test ends, its reader and the server's answer.
func rawHandshake(t *testing.T, addr net.Addr, extra string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(hangGuard))
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", addr, extra)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return nc, br, resp
}

// dialRaw opens a rawClient; header lines ("Name: value") are added to
// the handshake.
func dialRaw(t *testing.T, s *server, header ...string) *rawClient {
	t.Helper()
	var extra string
	for _, h := range header {
		extra += h + "\r\n"
	}
	nc, br, resp := rawHandshake(t, s.Listener.Addr(), extra)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: status %d", resp.StatusCode)
	}
	return &rawClient{t: t, nc: nc, br: br, extensions: resp.Header.Get("Sec-WebSocket-Extensions")}
}

// dialRawDeflate opens a rawClient that offers permessage-deflate, and
// checks that the server accepts it.
func dialRawDeflate(t *testing.T, s *server) *rawClient {
	t.Helper()
	c := dialRaw(t, s, "Sec-WebSocket-Extensions: permessage-deflate")
	if !strings.HasPrefix(c.extensions, "permessage-deflate") {
		t.Fatalf("handshake: permessage-deflate declined (answer %q)", c.extensions)
	}
	return c
}

// clientFrame encodes one final client frame, masked with a zero key
// (which leaves the payload as it is).
func clientFrame(opcode byte, payload []byte) []byte {
	return clientFragment(0x80|opcode, payload)
}

// clientFragment encodes a client frame whose first byte (FIN, RSV and
// opcode bits) is b0, masked with a zero key.
func clientFragment(b0 byte, payload []byte) []byte {
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, payload...)
}

// write sends frames, in one write so that the server reads them together.
func (c *rawClient) write(frames ...[]byte) error {
	_, err := c.nc.Write(bytes.Join(frames, nil))
	return err
}

// read returns the next frame the server sent; io.EOF means the server
// closed the TCP connection.
func (c *rawClient) read() (opcode byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return 0, nil, err
	}
	if hdr[0]&0x80 == 0 || hdr[1]&0x80 != 0 {
		c.t.Fatalf("server frame %x: want FIN set and no mask", hdr)
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0] & 0x0f, payload, nil
}

// Frame opcodes, for rawClient.
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xa
)

// pipeResponse is the server end of a net.Pipe as an http.ResponseWriter
// that can be hijacked, for Serve.
type pipeResponse struct {
	conn   net.Conn
	br     *bufio.Reader
	header http.Header
}

func (p *pipeResponse) Header() http.Header         { return p.header }
func (p *pipeResponse) Write(b []byte) (int, error) { return p.conn.Write(b) }
func (p *pipeResponse) WriteHeader(int)             {}
func (p *pipeResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return p.conn, bufio.NewReadWriter(p.br, bufio.NewWriter(p.conn)), nil
}

// servePipe runs h behind Serve over net.Pipe and returns a gorilla client
// of it. Inside a testing/synctest bubble its time is the bubble's, so
// keepalive tests need no wall-clock margins. The connection is shut down
// when the test ends.
func servePipe(t *testing.T, cfg Config, h func(*Conn) error) *websocket.Conn {
	t.Helper()
	srv, cli := net.Pipe()
	cfg.Tracker = &Tracker{}
	cfg.Logger = slog.New(slog.DiscardHandler)
	go func() {
		br := bufio.NewReader(srv)
		r, err := http.ReadRequest(br)
		if err != nil {
			srv.Close()
			return
		}
		Serve(&pipeResponse{conn: srv, br: br, header: http.Header{}}, r, &cfg, h)
	}()
	d := websocket.Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) { return cli, nil }}
	ws, _, err := d.Dial("ws://pipe/", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		ws.Close()
		cfg.Tracker.Shutdown(context.Background())
	})
	return ws
}
