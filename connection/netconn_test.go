package connection

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/problem"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// TestSocketConnTryWritesKeepOrder fills a socket whose peer does not read
// with rounds that must not wait, then writes more the ordinary way while
// the peer drains: the peer must get every byte, in order, whether each
// round writes its frames one by one or gathers them (corked).
func TestSocketConnTryWritesKeepOrder(t *testing.T) {
	t.Parallel()
	for _, corked := range []bool{false, true} {
		t.Run(fmt.Sprintf("corked=%v", corked), func(t *testing.T) {
			t.Parallel()
			testTryWritesKeepOrder(t, corked)
		})
	}
}

func testTryWritesKeepOrder(t *testing.T, corked bool) {
	srv, cli := tcpPair(t)
	srv.(*net.TCPConn).SetWriteBuffer(16 << 10)
	cli.(*net.TCPConn).SetReadBuffer(16 << 10)
	sc := newSocketConn(srv, time.Second)
	if sc.raw == nil {
		t.Skip("this platform cannot write without waiting")
	}
	perRound := 1
	if corked {
		perRound = 40 // more than a cork holds, with the larger chunks
	}
	var want bytes.Buffer
	chunk := func(i int) []byte { return []byte(fmt.Sprintf("<%06d:%s>", i, strings.Repeat("x", i%500))) }
	i := 0
	// writeRound writes perRound chunks as the writer's round does: a
	// chunk after which bytes are pending ends it.
	writeRound := func() (left bool, err error) {
		return sc.round(true, corked, func() error {
			for range perRound {
				if sc.hasPending() {
					return nil
				}
				i++
				p := chunk(i)
				want.Write(p)
				n, err := sc.Write(p)
				if err == nil && n != len(p) {
					err = fmt.Errorf("Write took %d of %d bytes", n, len(p))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	start := time.Now()
	for {
		left, err := writeRound()
		if err != nil {
			t.Fatalf("round: %v", err)
		}
		if left {
			break // the socket is full: the rest is pending
		}
		if time.Since(start) > hangGuard {
			t.Fatal("a socket whose peer does not read never filled")
		}
	}
	// The peer takes some of what the socket holds (bytes the socket took,
	// so they are there to read), so it has room again; writes in a round
	// must still go behind the pending bytes, not ahead of them.
	head := make([]byte, min(want.Len()-int(sc.npend.Load()), 16<<10))
	if _, err := io.ReadFull(cli, head); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		i++
		p := chunk(i)
		want.Write(p)
		if left, err := sc.round(true, corked, func() error { _, err := sc.Write(p); return err }); err != nil || !left {
			t.Fatalf("round behind pending bytes: left %v, err %v", left, err)
		}
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(cli)
		got <- b
	}()
	// An ordinary write flushes what is pending first.
	i++
	p := chunk(i)
	want.Write(p)
	sc.SetWriteDeadline(time.Now().Add(hangGuard))
	if _, err := sc.Write(p); err != nil {
		t.Fatal(err)
	}
	if sc.hasPending() {
		t.Fatal("bytes still pending after an ordinary write")
	}
	srv.Close()
	b := append(head, <-got...)
	if !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("peer got %d bytes, want %d (first difference at %d)", len(b), want.Len(), firstDiff(b, want.Bytes()))
	}
}

// countWrites counts the writes that reach the connection under it.
type countWrites struct {
	net.Conn
	n atomic.Int64
}

func (c *countWrites) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// TestSocketConnCorkedRound: a corked round's frames reach the peer in
// order, in about one write per corkSize bytes, and a frame larger than
// the cork goes out on its own after what was gathered before it.
func TestSocketConnCorkedRound(t *testing.T) {
	t.Parallel()
	srv, cli := tcpPair(t)
	under := &countWrites{Conn: srv}
	sc := newSocketConn(under, time.Second) // no raw socket: writes wait
	var want bytes.Buffer
	frames := 0
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(cli)
		got <- b
	}()
	left, err := sc.round(false, true, func() error {
		for i := range 1000 {
			p := []byte(fmt.Sprintf("<%04d:%s>", i, strings.Repeat("y", i%150)))
			if i == 500 {
				p = bytes.Repeat([]byte("z"), corkSize+1)
			}
			want.Write(p)
			frames++
			if _, err := sc.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || left {
		t.Fatalf("left %v, err %v", left, err)
	}
	writes := under.n.Load()
	srv.Close()
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("peer got %d bytes, want %d (first difference at %d)", len(b), want.Len(), firstDiff(b, want.Bytes()))
	}
	// One write per corkSize bytes, one for the large frame and one for
	// the part-filled cork before it.
	if most := int64(want.Len()/corkSize + 3); writes > most {
		t.Fatalf("%d frames took %d writes, want at most %d", frames, writes, most)
	}
	if sc.cork != nil {
		t.Fatal("the connection still holds a cork after its round")
	}
}

// TestCorkedRoundKeepsReadersClose: a close frame that gorilla's reader
// sends (after a protocol error or a read limit) while the writer's round
// is corked joins the frames the round gathered, and the pong the round
// owes after it, which gorilla then refuses (ErrCloseSent), does not fail
// the round: the peer gets the frames before the close frame, then the
// close frame, as it would without the cork. The reader's write is placed
// between the round's two pongs, where it may come at any time.
func TestCorkedRoundKeepsReadersClose(t *testing.T) {
	t.Parallel()
	conns := make(chan *Conn, 1)
	release := make(chan struct{})
	s := newServer(t, Config{PingInterval: -1}, func(c *Conn) error {
		conns <- c
		<-release
		return nil
	})
	cl := dialRaw(t, s)
	c := <-conns
	defer close(release)
	if c.nc == nil {
		t.Skip("the connection is not on a socketConn")
	}
	c.wmu.Lock()
	if c.writing {
		c.wmu.Unlock()
		t.Fatal("a writer runs on a connection that was given nothing to write")
	}
	c.writing = true // the writer role, as a flusher takes it
	c.wmu.Unlock()

	try := c.nc.raw != nil
	_, err := c.nc.round(try, true, func() error {
		if _, err := c.writeFrames(&writeRound{pongs: [][]byte{[]byte("before")}}, try); err != nil {
			return err
		}
		// What gorilla's reader does on a protocol error.
		c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseProtocolError, "bad frame"), time.Now().Add(hangGuard))
		_, err := c.writeFrames(&writeRound{pongs: [][]byte{[]byte("after")}}, try)
		return err
	})
	if err != nil {
		c.writeFailed(err)
		t.Errorf("round: %v", err)
	} else {
		if err := c.nc.flush(time.Now().Add(hangGuard)); err != nil {
			t.Errorf("flush: %v", err)
		}
		c.wmu.Lock()
		c.writing = false
		c.wmu.Unlock()
	}

	op, payload, err := cl.read()
	if err != nil || op != opPong || string(payload) != "before" {
		t.Fatalf("first frame: opcode %d, %q, %v; want the pong", op, payload, err)
	}
	op, payload, err = cl.read()
	if err != nil || op != opClose || len(payload) < 2 || int(payload[0])<<8|int(payload[1]) != websocket.CloseProtocolError {
		t.Fatalf("second frame: opcode %d, %q, %v; want the reader's close frame (1002)", op, payload, err)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSocketConnFlush: pending bytes reach the peer through flush alone.
func TestSocketConnFlush(t *testing.T) {
	t.Parallel()
	srv, cli := tcpPair(t)
	srv.(*net.TCPConn).SetWriteBuffer(8 << 10)
	sc := newSocketConn(srv, time.Second)
	if sc.raw == nil {
		t.Skip("this platform cannot write without waiting")
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: more than the socket takes at once
	left, err := sc.round(true, false, func() error { _, err := sc.Write(big); return err })
	if err != nil || !left {
		t.Fatalf("left %v, err %v", left, err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(cli)
		got <- b
	}()
	if err := sc.flush(time.Now().Add(hangGuard)); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("peer got %d bytes, want %d", len(b), len(big))
	}
}

// rawRecorder keeps every byte the client reads off the socket.
type rawRecorder struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *rawRecorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.buf.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

// dialRecorded dials s with a client that records what it reads off the
// socket.
func dialRecorded(t *testing.T, s *server, compression bool) (*websocket.Conn, *rawRecorder) {
	t.Helper()
	rec := &rawRecorder{}
	d := websocket.Dialer{EnableCompression: compression, NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		rec.Conn = c
		return rec, err
	}}
	ws, _, err := d.Dial(s.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, rec
}

type rawFrame struct {
	rsv1   bool
	opcode byte
	length int
}

// frames parses the server's (unmasked) frames, skipping the handshake.
func (r *rawRecorder) frames(t *testing.T) []rawFrame {
	t.Helper()
	r.mu.Lock()
	b := bytes.Clone(r.buf.Bytes())
	r.mu.Unlock()
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatal("no handshake response recorded")
	}
	b = b[i+4:]
	var out []rawFrame
	for len(b) >= 2 {
		f := rawFrame{rsv1: b[0]&0x40 != 0, opcode: b[0] & 0x0f}
		n, hdr := int(b[1]&0x7f), 2
		switch n {
		case 126:
			n, hdr = int(b[2])<<8|int(b[3]), 4
		case 127:
			n, hdr = 0, 10
			for _, c := range b[2:10] {
				n = n<<8 | int(c)
			}
		}
		if b[1]&0x80 != 0 {
			t.Fatal("server frame is masked")
		}
		f.length = n
		out = append(out, f)
		b = b[min(len(b), hdr+n):]
	}
	return out
}

// TestCompressionMinSizePerFrame checks the frames on the wire: with
// deflate negotiated, messages of at least the minimum size are sent
// compressed (RSV1 set), smaller ones as they are, for plain writes and for
// prepared (broadcast) messages alike.
func TestCompressionMinSizePerFrame(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("compress me ", 200)
	s := newServer(t, Config{Compression: true, CompressionMinSize: 100}, func(c *Conn) error {
		c.Write([]byte("tiny"))
		c.Write([]byte(big))
		for _, m := range []string{"tiny prepared", big} {
			pm, err := NewPreparedMessage(TextMessage, []byte(m))
			if err != nil {
				return err
			}
			c.Offer(pm)
		}
		_, err := c.Read()
		return err
	})
	ws, rec := dialRecorded(t, s, true)
	for _, want := range []string{"tiny", big, "tiny prepared", big} {
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != want {
			t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
	}
	fs := rec.frames(t)
	if len(fs) != 4 {
		t.Fatalf("got %d frames, want 4: %+v", len(fs), fs)
	}
	for i, wantRSV1 := range []bool{false, true, false, true} {
		if fs[i].rsv1 != wantRSV1 || fs[i].opcode != 1 {
			t.Errorf("frame %d: rsv1 %v opcode %d, want rsv1 %v opcode 1", i, fs[i].rsv1, fs[i].opcode, wantRSV1)
		}
		if fs[i].rsv1 && fs[i].length >= len(big) {
			t.Errorf("frame %d: compressed frame of %d bytes for a %d-byte message", i, fs[i].length, len(big))
		}
	}
}

// TestOverTLS runs writes, offers and a burst through a TLS server, whose
// socket forge cannot write to without waiting: every message must still
// arrive, in order.
func TestOverTLS(t *testing.T) {
	t.Parallel()
	tracker := &Tracker{}
	const n = 1000 // 700 KB: within the default 1 MiB queue, which Offer does not wait for
	payload := strings.Repeat("y", 700)
	cfg := Config{Tracker: tracker, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, &cfg, func(c *Conn) error {
			for i := range n {
				msg := []byte(fmt.Sprintf("%d:%s", i, payload))
				if i%2 == 0 {
					if err := c.Write(msg); err != nil {
						return err
					}
					continue
				}
				pm, _ := NewPreparedMessage(TextMessage, msg)
				if !c.Offer(pm) {
					return fmt.Errorf("offer %d refused", i)
				}
			}
			_, err := c.Read()
			return err
		})
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tracker.Shutdown(ctx)
		srv.Close()
	})
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
	ws, _, err := d.Dial("wss"+strings.TrimPrefix(srv.URL, "https"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	expectInOrder(t, ws, n, func(i int) []byte { return fmt.Appendf(nil, "%d:%s", i, payload) })
}

// TestNoDataAfterTooBigClose: once an oversized message is answered with
// 1009, the broadcasts still queued must not follow that close frame on
// the wire.
func TestNoDataAfterTooBigClose(t *testing.T) {
	t.Parallel()
	pm, err := NewPreparedMessage(TextMessage, bytes.Repeat([]byte("d"), 4096))
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{ReadLimit: 1024, QueueBytes: 16 << 20, SlowConsumer: PolicyDropNewest, CloseTimeout: 200 * time.Millisecond}, func(c *Conn) error {
		for i := 0; i < 4000 && c.Context().Err() == nil; i++ {
			c.Offer(pm)
		}
		_, err := c.Read()
		return err
	})
	ws, rec := dialRecorded(t, s, false)
	// The oversized message goes out while the server's broadcasts queue
	// up behind a socket this client does not read yet.
	if err := ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 100_000)); err != nil {
		t.Fatal(err)
	}
	rec.SetReadDeadline(time.Now().Add(hangGuard))
	buf := make([]byte, 64<<10)
	for {
		if _, err := rec.Read(buf); err != nil {
			break
		}
	}
	fs := rec.frames(t)
	closeAt := -1
	for i, f := range fs {
		if f.opcode == 8 {
			closeAt = i
			break
		}
	}
	if closeAt < 0 {
		t.Fatalf("no close frame among %d frames", len(fs))
	}
	if after := len(fs) - closeAt - 1; after > 0 {
		t.Fatalf("%d frames after the close frame (frame %d of %d)", after, closeAt, len(fs))
	}
	rec.mu.Lock()
	raw := rec.buf.Bytes()
	code := int(raw[len(raw)-fs[closeAt].length])<<8 | int(raw[len(raw)-fs[closeAt].length+1])
	rec.mu.Unlock()
	if code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want %d", code, websocket.CloseMessageTooBig)
	}
}

// TestFlusherTurnsAreFair keeps every flusher busy with connections whose
// handlers offer without pause to peers that read as fast as they can: a
// message offered to another connection must still get its turn. Fairness
// is judged by counts, not by time: a flusher serves the connections in
// turn, each turn writes at most a queue's worth, so the other message must
// be written before any busy connection has had many queues' worth
// written after it was offered. The queues are long enough that a busy
// handler refills its queue while a batch is written, which a flusher that
// stayed with a connection while it had more would never leave.
func TestFlusherTurnsAreFair(t *testing.T) {
	t.Parallel()
	const (
		queue = 16 << 10
		after = 16 * queue // what a busy connection may get queued after the other message was offered
	)
	hotPM, _ := NewPreparedMessage(TextMessage, []byte("hot"))
	var (
		started     sync.WaitGroup
		coldOffered = make(chan struct{})
		coldWritten = make(chan struct{})
	)
	nhot := runtime.GOMAXPROCS(0) + 1
	started.Add(nhot)
	results := make(chan error, nhot)
	hot := newServer(t, Config{QueueBytes: queue, SlowConsumer: PolicyDropNewest}, func(c *Conn) error {
		for !c.Offer(hotPM) {
		}
		started.Done()
		for busy := true; busy; {
			select {
			case <-coldOffered:
				busy = false
			default:
				c.Offer(hotPM)
			}
		}
		for queued := 0; queued < after; {
			select {
			case <-coldWritten:
				results <- nil
				return nil
			default:
			}
			if c.Offer(hotPM) {
				queued += len("hot")
			}
		}
		results <- fmt.Errorf("a busy connection had %d bytes queued after the other message was offered, and that message is not written yet", after)
		return nil
	})
	for range nhot {
		ws := dial(t, hot, nil)
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	started.Wait()
	coldPM, _ := NewPreparedMessage(TextMessage, []byte("cold"))
	cold := newServer(t, Config{}, func(c *Conn) error {
		c.Offer(coldPM)
		close(coldOffered)
		for {
			c.wmu.Lock()
			written := !c.writing && len(c.queue) == 0 // its turn is over
			c.wmu.Unlock()
			if written {
				close(coldWritten)
				break
			}
			if c.Context().Err() != nil {
				return nil
			}
			runtime.Gosched()
		}
		_, err := c.Read()
		return err
	})
	ws := dial(t, cold, nil)
	for range nhot {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "cold" {
		t.Fatalf("the other connection's message: %q, %v", msg, err)
	}
}

// TestQueueRoomAfterPendingFlushed fills a socket (a flusher leaves a
// frame pending in it and a writer goroutine flushes it) and the queue
// behind it through Offer, until the queue refuses; once the peer has read
// everything, the queue must be back to empty, its whole room free again.
func TestQueueRoomAfterPendingFlushed(t *testing.T) {
	t.Parallel()
	const queue = 256 << 10
	pm, _ := NewPreparedMessage(TextMessage, bytes.Repeat([]byte("p"), 4000))
	offered := make(chan int, 1)
	read := make(chan struct{})
	result := make(chan error, 1)
	s := newServer(t, Config{QueueBytes: queue, SlowConsumer: PolicyDropNewest, WriteTimeout: hangGuard}, func(c *Conn) error {
		if tc, ok := c.nc.Conn.(*net.TCPConn); ok {
			tc.SetWriteBuffer(32 << 10)
		}
		// Offer until the queue refuses: the socket is full by then, since
		// only bytes it has not taken count against the queue.
		n := 0
		for c.Offer(pm) {
			n++
		}
		offered <- n
		<-read
		err := func() error {
			deadline := time.Now().Add(hangGuard)
			for {
				c.wmu.Lock()
				q, h, w := c.qbytes, c.handed.Load(), c.writing
				c.wmu.Unlock()
				p := c.nc.hasPending()
				if q == 0 && h == 0 && !w && !p {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("after the peer read everything: qbytes %d, handed %d, writing %v, pending %v", q, h, w, p)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		result <- err
		if err != nil {
			return err
		}
		// The whole room is free: a message of the queue's size is taken
		// without waiting for the peer.
		return c.WriteMessage(context.Background(), BinaryMessage, make([]byte, queue))
	})
	ws := dial(t, s, nil)
	n := <-offered
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	for i := range n {
		if _, _, err := ws.ReadMessage(); err != nil {
			t.Fatalf("message %d of %d: %v", i, n, err)
		}
	}
	close(read)
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || len(msg) != queue {
		t.Fatalf("last message: %d bytes, %v", len(msg), err)
	}
}

// TestHijackUnwrapsProblemListener: a connection accepted through
// problem.Listener (as forge.App serves) reaches socketConn without the
// wrapper, which only has work to do before the hijack and would
// otherwise check every frame written.
func TestHijackUnwrapsProblemListener(t *testing.T) {
	t.Parallel()
	got := make(chan net.Conn, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, &Config{Logger: slog.New(slog.DiscardHandler)}, func(c *Conn) error {
			got <- c.nc.Conn
			return nil
		})
	}))
	srv.Listener = problem.Listener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if c := <-got; reflect.TypeOf(c) != reflect.TypeFor[*net.TCPConn]() {
		t.Fatalf("socketConn writes through %T, want *net.TCPConn", c)
	}
}
