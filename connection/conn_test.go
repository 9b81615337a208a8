package connection

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

func TestEcho(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, echo)
	ws := dial(t, s, nil)
	for i := range 100 {
		typ := websocket.TextMessage
		if i%2 == 1 {
			typ = websocket.BinaryMessage
		}
		want := fmt.Sprintf("message %d", i)
		if err := ws.WriteMessage(typ, []byte(want)); err != nil {
			t.Fatal(err)
		}
		gotTyp, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if gotTyp != typ || string(got) != want {
			t.Fatalf("got %d %q, want %d %q", gotTyp, got, typ, want)
		}
	}
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
	if code, _ := readClose(t, ws); code != 1000 {
		t.Fatalf("close code %d, want 1000 echoed", code)
	}
	if err := waitErr(t, s); CloseStatus(err) != CloseNormal {
		t.Fatalf("handler got %v, want the peer's CloseError 1000", err)
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	ids := make(chan string, 2)
	s := newServer(t, Config{}, func(c *Conn) error { ids <- c.ID(); return nil })
	dial(t, s, nil)
	dial(t, s, nil)
	a, b := <-ids, <-ids
	if !strings.HasPrefix(a, "ws_") || len(a) < 3+22 || a == b {
		t.Fatalf("ids %q and %q: want distinct ws_ + 128 random bits", a, b)
	}
}

func TestHandlerResultSetsCloseCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		h      func(*Conn) error
		code   int
		reason string
	}{
		{"nil", func(*Conn) error { return nil }, 1000, ""},
		{"error", func(*Conn) error { return errors.New("db down") }, 1011, "internal error"},
		{"close error", func(*Conn) error { return fmt.Errorf("auth: %w", &CloseError{Code: 4001, Reason: "token expired"}) }, 4001, "token expired"},
		{"panic", func(*Conn) error { panic("boom") }, 1011, "internal error"},
		{"decode error", func(c *Conn) error { var v struct{ A int }; return c.ReadJSON(&v) }, 1007, "invalid JSON"},
		{"close with", func(c *Conn) error { c.CloseWith(4100, "go away"); return nil }, 4100, "go away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{}, tt.h)
			ws := dial(t, s, nil)
			ws.WriteMessage(websocket.TextMessage, []byte(`{"A":"not a number"}`))
			code, reason := readClose(t, ws)
			if code != tt.code {
				t.Fatalf("close code %d (%s), want %d", code, reason, tt.code)
			}
			if tt.reason != "" && reason != tt.reason {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
		})
	}
}

func TestReadJSONMalformedKeepsConnection(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		for {
			var v struct {
				N int `json:"n"`
			}
			err := c.ReadJSON(&v)
			var de *DecodeError
			switch {
			case errors.As(err, &de):
				c.WriteJSON(map[string]string{"error": err.Error()})
			case err != nil:
				return err
			default:
				c.WriteJSON(map[string]int{"n": v.N})
			}
		}
	})
	ws := dial(t, s, nil)
	ws.WriteMessage(websocket.TextMessage, []byte(`{"n": 1`))
	_, got, _ := ws.ReadMessage()
	if !strings.Contains(string(got), "unexpected end of JSON input") {
		t.Fatalf("got %s, want an error naming the problem", got)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"n": 7}`))
	_, got, _ = ws.ReadMessage()
	if string(got) != `{"n":7}` {
		t.Fatalf("got %s after a bad message, want the connection to work", got)
	}
}

func TestReadLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{ReadLimit: 1024}, echo)
	ws := dial(t, s, nil)
	ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 1024))
	if _, got, err := ws.ReadMessage(); err != nil || len(got) != 1024 {
		t.Fatalf("message at the limit: %d bytes, %v", len(got), err)
	}
	ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 100_000))
	if code, _ := readClose(t, ws); code != 1009 {
		t.Fatalf("close code %d, want 1009", code)
	}
}

func TestReadLimitDefault(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, echo)
	ws := dial(t, s, nil)
	ws.WriteMessage(websocket.BinaryMessage, make([]byte, DefaultReadLimit+1))
	if code, _ := readClose(t, ws); code != 1009 {
		t.Fatalf("close code %d, want 1009", code)
	}
}

// TestReadLimitOnTheWire: with permessage-deflate the read limit bounds
// the inflated message, and the message's frames on the wire too, so that
// deflate blocks that inflate to nothing cannot stream without end; the
// connection closes with 1009. Keepalive is off, so that nothing else
// would stop the stream.
func TestReadLimitOnTheWire(t *testing.T) {
	t.Parallel()
	const limit = 1024
	s := newServer(t, Config{ReadLimit: limit, Compression: true, PingInterval: -1, CloseTimeout: time.Hour}, echo)

	// Messages at the limit that deflate cannot shrink pass, in a burst.
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: hangGuard}
	ws, _, err := d.Dial(s.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.EnableWriteCompression(true)
	noise := make([]byte, limit)
	rand.NewChaCha8([32]byte{}).Read(noise)
	const burst = 50
	for range burst {
		if err := ws.WriteMessage(websocket.BinaryMessage, noise); err != nil {
			t.Fatal(err)
		}
	}
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	for i := range burst {
		if _, got, err := ws.ReadMessage(); err != nil || !bytes.Equal(got, noise) {
			t.Fatalf("echo %d of %d at the limit: %d bytes, %v", i, burst, len(got), err)
		}
	}

	c := dialRawDeflate(t, s)
	// Empty stored deflate blocks (BFINAL 0, BTYPE 00, LEN 0, NLEN
	// 0xffff): 500 bytes of them inflate to nothing.
	blocks := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, 100)
	stop := make(chan struct{})
	sent := make(chan int64, 1)
	go func() {
		var n int64
		defer func() { sent <- n }()
		frame := clientFragment(0x40|opText, blocks) // RSV1: compressed, not final
		for n < 1<<20 {                              // a thousand times the limit, at most
			select {
			case <-stop:
				return
			default:
			}
			if c.write(frame) != nil {
				return
			}
			n += int64(len(frame))
			frame = clientFragment(0x00, blocks) // continuation, not final
		}
	}()
	op, got, err := c.read()
	close(stop)
	n := <-sent
	if err != nil || op != opClose || len(got) < 2 {
		t.Fatalf("after %d bytes: opcode %#x %q, %v; want a close frame", n, op, got, err)
	}
	if code, reason := int(binary.BigEndian.Uint16(got)), string(got[2:]); code != 1009 || reason != "message too big" {
		t.Fatalf("close %d %q, want 1009 \"message too big\"", code, reason)
	}
	if op, got, err := c.read(); err != io.EOF {
		t.Fatalf("after the close frame: opcode %#x %q, %v; want the end of the stream", op, got, err)
	}
}

func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, echo)
	ws := dial(t, s, nil)
	ws.WriteMessage(websocket.TextMessage, []byte{'o', 'k', 0xff, 0xfe})
	if code, _ := readClose(t, ws); code != 1007 {
		t.Fatalf("close code %d, want 1007", code)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    Config
		header http.Header
		protos []string
		status int
	}{
		{"foreign origin", Config{}, http.Header{"Origin": {"https://evil.example"}}, nil, 403},
		{"origin not in list", Config{Origins: []string{"*.example.com"}}, http.Header{"Origin": {"https://example.org"}}, nil, 403},
		{"apex is not a subdomain", Config{Origins: []string{"*.example.com"}}, http.Header{"Origin": {"https://example.com"}}, nil, 403},
		{"scheme mismatch", Config{Origins: []string{"https://app.example.com"}}, http.Header{"Origin": {"http://app.example.com"}}, nil, 403},
		{"required subprotocol missing", Config{Subprotocols: []string{"chat.v1"}, RequireSubprotocol: true}, nil, []string{"other"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			called := make(chan struct{}, 1)
			s := newServer(t, tt.cfg, func(*Conn) error { called <- struct{}{}; return nil })
			d := websocket.Dialer{Subprotocols: tt.protos}
			_, resp, err := d.Dial(s.url(), tt.header)
			if err == nil {
				t.Fatal("dial succeeded, want a refusal")
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("resp %v, want status %d", resp, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			select {
			case <-called:
				t.Fatal("handler ran for a refused handshake")
			default:
			}
			if st := s.tracker.Stats(); st.Refused != 1 {
				t.Fatalf("refused counter %d, want 1", st.Refused)
			}
		})
	}
}

func TestOriginsAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		origins []string
		origin  string
	}{
		{"no origin header", nil, ""},
		{"same host", nil, "SAME"},
		{"wildcard subdomain", []string{"*.example.com"}, "https://app.example.com"},
		{"deep subdomain", []string{"*.example.com"}, "https://a.b.example.com"},
		{"any port", []string{"localhost:*"}, "http://localhost:3000"},
		{"with scheme", []string{"https://app.example.com"}, "https://app.example.com"},
		{"star", []string{"*"}, "https://anything.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{Origins: tt.origins}, func(*Conn) error { return nil })
			h := http.Header{}
			switch tt.origin {
			case "":
			case "SAME":
				h.Set("Origin", s.URL)
			default:
				h.Set("Origin", tt.origin)
			}
			ws := dial(t, s, h)
			if code, _ := readClose(t, ws); code != 1000 {
				t.Fatalf("close %d", code)
			}
		})
	}
}

func TestPlainGET(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(*Conn) error { return nil })
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := new(bytes.Buffer)
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusUpgradeRequired || !strings.Contains(buf.String(), "WebSocket") {
		t.Fatalf("status %d body %s, want 426 with a clear body", resp.StatusCode, buf)
	}
}

func TestSubprotocolNegotiated(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Subprotocols: []string{"chat.v2", "chat.v1"}}, func(c *Conn) error {
		return c.Write([]byte(c.Subprotocol()))
	})
	ws := dial(t, s, nil, "chat.v1")
	if ws.Subprotocol() != "chat.v1" {
		t.Fatalf("negotiated %q", ws.Subprotocol())
	}
	_, got, _ := ws.ReadMessage()
	if string(got) != "chat.v1" {
		t.Fatalf("server saw %q", got)
	}
	ws2 := dial(t, s, nil)
	if ws2.Subprotocol() != "" {
		t.Fatalf("negotiated %q without an offer", ws2.Subprotocol())
	}
}

func TestCompression(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("compress me ", 200)
	s := newServer(t, Config{Compression: true, CompressionMinSize: 100}, func(c *Conn) error {
		c.Write([]byte("tiny"))
		c.Write([]byte(big))
		return echo(c)
	})
	d := websocket.Dialer{EnableCompression: true}
	ws, resp, err := d.Dial(s.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("deflate not negotiated: %q", resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	for _, want := range []string{"tiny", big} {
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != want {
			t.Fatalf("got %d bytes, %v", len(got), err)
		}
	}
	ws.WriteMessage(websocket.TextMessage, []byte(big))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != big {
		t.Fatalf("echo of a compressed message: %d bytes, %v", len(got), err)
	}
}

func TestConcurrentWritersWithPingFlood(t *testing.T) {
	t.Parallel()
	const writers, perWriter = 8, 500
	s := newServer(t, Config{}, func(c *Conn) error {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					msg := fmt.Sprintf("w%d-%d-%s", w, i, strings.Repeat("x", i%300))
					if i%3 == 0 {
						c.WriteJSON(map[string]string{"m": msg})
					} else {
						c.Write([]byte(msg))
					}
				}
			})
		}
		wg.Wait()
		_, err := c.Read()
		return err
	})
	ws := dial(t, s, nil)
	stop := make(chan struct{})
	pingerDone := make(chan struct{})
	go func() {
		defer close(pingerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
				return
			}
		}
	}()
	next := make([]int, writers)
	for range writers * perWriter {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if strings.HasPrefix(s, `{"m":"`) {
			s = strings.TrimSuffix(strings.TrimPrefix(s, `{"m":"`), `"}`)
		}
		var w, i int
		if _, err := fmt.Sscanf(s, "w%d-%d-", &w, &i); err != nil {
			t.Fatalf("corrupt message %q", data)
		}
		if i != next[w] || !strings.HasSuffix(s, "-"+strings.Repeat("x", i%300)) {
			t.Fatalf("writer %d: got message %d (%q), want %d intact", w, i, data, next[w])
		}
		next[w]++
	}
	close(stop)
	<-pingerDone
}

func TestBurstLargerThanQueueDeliveredInOrder(t *testing.T) {
	t.Parallel()
	const n = 5000
	s := newServer(t, Config{QueueBytes: 4096}, func(c *Conn) error {
		for i := range n {
			if err := c.Write([]byte(fmt.Sprintf("%06d%s", i, strings.Repeat("y", 200)))); err != nil {
				return err
			}
		}
		return nil
	})
	ws := dial(t, s, nil)
	for i := range n {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(data[:6]) != fmt.Sprintf("%06d", i) {
			t.Fatalf("got %s, want %06d", data[:6], i)
		}
	}
	if code, _ := readClose(t, ws); code != 1000 {
		t.Fatalf("close %d", code)
	}
	if st := s.tracker.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("slow consumers %d", st.SlowConsumers)
	}
}

func TestSlowConsumerClosed(t *testing.T) {
	t.Parallel()
	result := make(chan error, 1)
	s := newServer(t, Config{QueueBytes: 16 << 10, WriteTimeout: 300 * time.Millisecond}, func(c *Conn) error {
		payload := bytes.Repeat([]byte("z"), 8<<10)
		for {
			if err := c.Write(payload); err != nil {
				result <- err
				return err
			}
		}
	})
	ws := dial(t, s, nil) // never reads
	_ = ws
	select {
	case err := <-result:
		if !errors.Is(err, ErrSlowConsumer) {
			t.Fatalf("write error %v, want ErrSlowConsumer", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("writer to a peer that never reads was not stopped")
	}
	if st := s.tracker.Stats(); st.SlowConsumers != 1 {
		t.Fatalf("slow consumers %d, want 1", st.SlowConsumers)
	}
}

func TestWriteMessageTimeoutKeepsConnection(t *testing.T) {
	t.Parallel()
	gotErr := make(chan error, 1)
	s := newServer(t, Config{QueueBytes: 1 << 10, WriteTimeout: hangGuard}, func(c *Conn) error {
		// Fill queue and socket buffers, then ask for a short wait.
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			err := c.WriteMessage(ctx, BinaryMessage, make([]byte, 1<<10))
			cancel()
			if err != nil {
				gotErr <- err
				break
			}
		}
		_, err := c.Read()
		return err
	})
	ws := dial(t, s, nil)
	select {
	case err := <-gotErr:
		if !errors.Is(err, ErrWriteTimeout) {
			t.Fatalf("got %v, want ErrWriteTimeout", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("no timeout")
	}
	if st := s.tracker.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("a per-call timeout closed the connection as slow")
	}
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	if code, _ := readClose(t, ws); code != 1000 {
		t.Fatalf("close %d", code)
	}
}

func TestReadMessageTimeout(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, _, err := c.ReadMessage(ctx)
		cancel()
		if !errors.Is(err, ErrReadTimeout) {
			return fmt.Errorf("first read: %v", err)
		}
		c.Write([]byte("timed out"))
		data, err := c.Read() // the message that arrives later is not lost
		if err != nil {
			return err
		}
		return c.Write(data)
	})
	ws := dial(t, s, nil)
	if _, got, _ := ws.ReadMessage(); string(got) != "timed out" {
		t.Fatalf("got %q", got)
	}
	ws.WriteMessage(websocket.TextMessage, []byte("late"))
	if _, got, _ := ws.ReadMessage(); string(got) != "late" {
		t.Fatalf("got %q", got)
	}
	if code, reason := readClose(t, ws); code != 1000 {
		t.Fatalf("close %d %s", code, reason)
	}
}

func TestFlushBeforeClose(t *testing.T) {
	t.Parallel()
	const n = 2000
	s := newServer(t, Config{}, func(c *Conn) error {
		for i := range n {
			c.Write([]byte(fmt.Sprint(i)))
		}
		return &CloseError{Code: 4000, Reason: "done"}
	})
	ws := dial(t, s, nil)
	for i := range n {
		_, got, err := ws.ReadMessage()
		if err != nil || string(got) != fmt.Sprint(i) {
			t.Fatalf("message %d: %q %v", i, got, err)
		}
	}
	if code, _ := readClose(t, ws); code != 4000 {
		t.Fatalf("close %d", code)
	}
}

func TestContextCancelledOnEveryEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		end  func(ws *websocket.Conn, c *Conn, s *server)
	}{
		{"peer close", func(ws *websocket.Conn, _ *Conn, _ *server) {
			ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
		}},
		{"tcp drop", func(ws *websocket.Conn, _ *Conn, _ *server) { ws.NetConn().Close() }},
		{"server close", func(_ *websocket.Conn, c *Conn, _ *server) { c.Close() }},
		{"shutdown", func(_ *websocket.Conn, _ *Conn, s *server) {
			go s.tracker.Shutdown(context.Background())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conns := make(chan *Conn, 1)
			ended := make(chan struct{})
			s := newServer(t, Config{}, func(c *Conn) error {
				conns <- c
				// Not reading: the context must still end.
				<-c.Context().Done()
				close(ended)
				return nil
			})
			ws := dial(t, s, nil)
			c := <-conns
			tt.end(ws, c, s)
			select {
			case <-ended:
			case <-time.After(hangGuard):
				t.Fatal("context not cancelled")
			}
		})
	}
}

func TestContextKeepsRequestValues(t *testing.T) {
	t.Parallel()
	type key struct{}
	got := make(chan any, 1)
	s := newServer(t, Config{}, func(c *Conn) error {
		got <- c.Context().Value(key{})
		return nil
	})
	// Wrap the handler to add a value to the request context.
	inner := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, "principal")))
	})
	dial(t, s, nil)
	if v := <-got; v != "principal" {
		t.Fatalf("value %v", v)
	}
}

// TestCloseIsPromptAndExplained: when the server closes because of what
// the peer sent (or because its handler failed), the close frame goes out
// at once with a short reason, and once the peer answers it the server
// closes TCP without sitting out the close timeout (an hour here).
func TestCloseIsPromptAndExplained(t *testing.T) {
	t.Parallel()
	readThenFail := func(c *Conn) error {
		if _, err := c.Read(); err != nil {
			return err
		}
		return errors.New("database unavailable")
	}
	tests := []struct {
		name   string
		cfg    Config
		h      func(*Conn) error
		send   [][]byte
		code   int
		reason string
	}{
		{"too big", Config{}, echo, [][]byte{clientFrame(opText, bytes.Repeat([]byte("a"), 100_000))}, 1009, "message too big"},
		{"far too big", Config{}, echo, [][]byte{clientFrame(opText, bytes.Repeat([]byte("a"), 10<<20))}, 1009, "message too big"},
		{"too big in fragments", Config{ReadLimit: 1000}, echo, [][]byte{
			{0x01, 0x80 | 126, 0x02, 0x00, 0, 0, 0, 0}, bytes.Repeat([]byte("a"), 512), // text, not final
			{0x80, 0x80 | 126, 0x02, 0x00, 0, 0, 0, 0}, bytes.Repeat([]byte("b"), 512), // final continuation
		}, 1009, "message too big"},
		{"invalid UTF-8", Config{}, echo, [][]byte{clientFrame(opText, []byte{'o', 'k', 0xff})}, 1007, "text message is not valid UTF-8"},
		{"over the rate", Config{MessageRate: 0.001, MessageBurst: 1, RateLimitClose: true}, echo,
			[][]byte{clientFrame(opText, []byte("a")), clientFrame(opText, []byte("b"))}, 1008, "message rate exceeded"},
		{"handler error", Config{}, readThenFail, [][]byte{clientFrame(opText, []byte("a"))}, 1011, "internal error"},
		{"bad JSON", Config{}, readJSON, [][]byte{clientFrame(opText, []byte(`{"text":`))}, 1007, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.CloseTimeout = time.Hour
			s := newServer(t, tt.cfg, tt.h)
			c := dialRaw(t, s)
			sent := make(chan error, 1)
			go func() { sent <- c.write(tt.send...) }() // may block until the server discards
			var op byte
			var got []byte
			for {
				var err error
				if op, got, err = c.read(); err != nil {
					t.Fatalf("before a close frame: %v", err)
				}
				if op != opText { // echoes of the messages that passed
					break
				}
			}
			if op != opClose || len(got) < 2 {
				t.Fatalf("opcode %#x %q, want a close frame with a code", op, got)
			}
			if code, reason := int(binary.BigEndian.Uint16(got)), string(got[2:]); code != tt.code || reason != tt.reason {
				t.Fatalf("close %d %q, want %d %q", code, reason, tt.code, tt.reason)
			}
			if err := <-sent; err != nil {
				t.Fatalf("sending: %v", err)
			}
			if err := c.write(clientFrame(opClose, got[:2])); err != nil {
				t.Fatal(err)
			}
			if op, got, err := c.read(); err != io.EOF {
				t.Fatalf("after the closing handshake: opcode %#x %q, %v; want the server to close TCP", op, got, err)
			}
		})
	}
}

// TestProtocolErrorFailsPromptly: after a protocol error (or frame lengths
// that overflow) gorilla's reader is dead and the peer's answer cannot be
// read, so the connection is failed (RFC 6455 §7.1.7): the close frame
// goes out, then the end of the stream, and the connection is released
// although the peer never closes its side and the close timeout is an
// hour.
func TestProtocolErrorFailsPromptly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		frame   []byte
		code    int
		deflate bool // negotiate permessage-deflate first
	}{
		{"unmasked", []byte{0x81, 0x01, 'a'}, 1002, false},
		{"reserved opcode", clientFrame(0x3, nil), 1002, false},
		{"reserved bits", append([]byte{0xc1}, clientFrame(opText, []byte("a"))[1:]...), 1002, false},
		{"negative length", []byte{0x82, 0x80 | 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 1009, false},
		// Refused by forge's frameCheck, under gorilla's reader.
		{"close with a 1-byte body", clientFrame(opClose, []byte{0x03}), 1002, false},
		{"RSV1 on a continuation", cat(clientFragment(opText, []byte("plain")), clientFragment(0x80|0x40, []byte(" text"))), 1002, true},
		{"RSV1 on a ping", clientFragment(0x80|0x40|opPing, []byte("x")), 1002, true},
		{"RSV1 on a pong", clientFragment(0x80|0x40|opPong, []byte("x")), 1002, true},
		{"RSV1 on a close", clientFragment(0x80|0x40|opClose, []byte{0x03, 0xe8}), 1002, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{CloseTimeout: time.Hour, Compression: tt.deflate}, echo)
			dial := dialRaw
			if tt.deflate {
				dial = func(t *testing.T, s *server, _ ...string) *rawClient { return dialRawDeflate(t, s) }
			}
			c := dial(t, s)
			if err := c.write(tt.frame); err != nil {
				t.Fatal(err)
			}
			op, got, err := c.read()
			if err != nil || op != opClose || len(got) < 2 {
				t.Fatalf("opcode %#x %q, %v; want a close frame with a code", op, got, err)
			}
			if code := int(binary.BigEndian.Uint16(got)); code != tt.code {
				t.Fatalf("close %d %q, want %d", code, got[2:], tt.code)
			}
			if op, got, err := c.read(); err != io.EOF {
				t.Fatalf("after the close frame: opcode %#x %q, %v; want the end of the stream", op, got, err)
			}
			waitErr(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			if err := s.tracker.Shutdown(ctx); err != nil { // waits for the connection to be released
				t.Fatalf("shutdown: %v; the failed connection was not released", err)
			}
		})
	}
}

// readJSON reads one message into a struct and returns the error.
func readJSON(c *Conn) error {
	var say struct {
		Text string `json:"text"`
	}
	return c.ReadJSON(&say)
}

// TestDecodeErrorDetailStaysInLog: a message that does not decode closes
// with 1007 and a neutral reason; what encoding/json said about it (Go type
// and field names) goes to the server's log only.
func TestDecodeErrorDetailStaysInLog(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s := newServer(t, Config{Logger: logger}, readJSON)
	ws := dial(t, s, nil)
	ws.WriteMessage(websocket.TextMessage, []byte(`{"text": 5}`))
	if code, reason := readClose(t, ws); code != 1007 || reason != "invalid JSON" {
		t.Fatalf("close %d %q, want 1007 \"invalid JSON\"", code, reason)
	}
	waitErr(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.tracker.Shutdown(ctx) // waits for the connection to finish
	if out := logs.String(); !strings.Contains(out, "cannot unmarshal number") {
		t.Fatalf("the log lacks the decoding error:\n%s", out)
	}
}

// TestKeepingUpIsNeverSlow: a member that reads broadcasts as they come is
// never closed as a slow consumer, however much passes through it. It never
// has more than three quarters of its queue's cap offered and unread, so
// whatever the writer and the sockets hold, the bytes not yet handed to
// the socket (the only ones that count) stay under the cap.
func TestKeepingUpIsNeverSlow(t *testing.T) {
	t.Parallel()
	const (
		queue  = 16 << 10
		size   = 512
		unread = 3 * queue / 4 / size // messages offered and not yet read, at most
		total  = 20 * queue / size
	)
	credits := make(chan struct{}, unread)
	result := make(chan error, 1)
	s := newServer(t, Config{QueueBytes: queue}, func(c *Conn) error {
		pm, _ := NewPreparedMessage(BinaryMessage, bytes.Repeat([]byte("m"), size))
		for i := range total {
			select {
			case credits <- struct{}{}: // waits while unread messages are outstanding
			case <-c.Context().Done():
				result <- fmt.Errorf("closed after %d of %d offers", i, total)
				return nil
			}
			if !c.Offer(pm) {
				result <- fmt.Errorf("offer %d of %d refused", i, total)
				return nil
			}
		}
		result <- nil
		_, err := c.Read()
		return err
	})
	ws := dial(t, s, nil)
	for i := range total {
		if _, _, err := ws.ReadMessage(); err != nil {
			t.Fatalf("message %d of %d: %v (%v)", i, total, err, <-result)
		}
		<-credits
	}
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	if st := s.tracker.Stats(); st.SlowConsumers != 0 || st.Dropped != 0 {
		t.Fatalf("slow consumers %d, dropped %d; want none", st.SlowConsumers, st.Dropped)
	}
}
