package connection

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forgekit/forge/internal/problem"
)

// hijacker hands gorilla a wrapped net.Conn on Hijack, so that every byte
// the connection writes goes through socketConn.
//
// With ownReader (the Upgrader leaves ReadBufferSize zero, so gorilla reads
// frames through the hijacked bufio.Reader) and a socket that socketConn
// can read without waiting, it also hands gorilla a small reader of its
// own in place of net/http's 4 KiB one: socketConn then reads ahead into
// pooled chunks only once input has arrived (see socketConn.fill), and an
// idle connection holds no read buffer but that small one.
type hijacker struct {
	http.ResponseWriter
	slack     time.Duration // for socketConn
	ownReader bool
}

// frameReaderSize is the size of the bufio.Reader that gorilla reads frames
// through when hijacker supplies it: gorilla keeps a hijacked reader larger
// than 256 bytes, and it peeks at most a frame header and a control frame's
// payload (14 + 125 bytes). 288 is the allocation size class above 256.
const frameReaderSize = 288

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	sc := newSocketConn(problem.Unwrap(c), h.slack)
	// Input that net/http read ahead stays in its reader, which gorilla
	// then refuses ("client sent data before handshake is complete").
	if h.ownReader && sc.raw != nil && brw.Reader.Buffered() == 0 {
		sc.gbr = bufio.NewReaderSize(sc, frameReaderSize)
		brw = bufio.NewReadWriter(sc.gbr, brw.Writer)
	}
	return sc, brw, nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (h *hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// socketConn is the net.Conn under gorilla. It does three things for the
// write side.
//
// It passes a write deadline down to the socket only when it moved by more
// than slack (or was cleared). gorilla sets the write deadline before every
// frame, and every change reprograms a runtime timer; forge moves it with
// every frame, so without this each message would pay for a timer. A
// deadline may thus fire up to slack before the one asked for; slack is at
// most a quarter of the write timeout.
//
// And it can write without waiting (see round): a write the socket
// cannot take at once is kept in pending and the call succeeds, so that a
// few shared flushers can write the queues of many connections without one
// full socket holding up the others. Every later write, and flush, sends
// pending first, so the byte stream keeps its order.
//
// And it gathers the frames of one writer round into few writes (see
// round), so that a backlog costs a system call per corkSize bytes, not
// one per message.
type socketConn struct {
	net.Conn
	slack time.Duration
	raw   syscall.RawConn // nil when the socket is not a plain fd (TLS)
	try   atomic.Bool     // writes do not wait; see round
	rawN  int32           // guarded by mu; rawWrite's result: at most what the socket's buffer takes

	mu      sync.Mutex   // serializes writes
	wd      time.Time    // guarded by mu; the write deadline the socket has
	pending []byte       // guarded by mu; accepted but not yet written
	npend   atomic.Int64 // len(pending), for readers without mu

	cork   *[]byte // guarded by mu; while a writer round runs corked (see round), the frames not yet written
	writes int64   // guarded by mu; writes made to the socket (system calls, or Writes to Conn without raw)

	rawFn  func(fd uintptr) bool // c.rawWrite, made once
	rawP   []byte                // guarded by mu; rawWrite's argument
	rawErr error                 // guarded by mu; rawWrite's error

	gbr     *bufio.Reader         // owned by the reader; gorilla's frame reader, when hijacker supplied it
	ahead   *[]byte               // owned by the reader; a pooled chunk of input read ahead, or nil
	apos    int16                 // owned by the reader; ahead's unread bytes are (*ahead)[apos:alen] (readChunkSize fits)
	alen    int16                 // owned by the reader
	nowait  bool                  // owned by the reader; rawFill returns at once when there is no input (see poll)
	inFrame bool                  // owned by the reader; gorilla's reader may stand inside a frame (see nextControl)
	short   bool                  // owned by the reader; all input held is the start of a ping or pong (see nextControl)
	drained bool                  // owned by the reader; the last read from the socket took less than it could: it had no more
	fillFn  func(fd uintptr) bool // c.rawFill, made once
	rbudget int64                 // owned by the reader; bytes reads may still return (see limitReads), or -1: no bound
	readErr error                 // owned by the reader; the last error the socket's Read returned
	frames  frameCheck            // owned by the reader
}

func newSocketConn(c net.Conn, slack time.Duration) *socketConn {
	s := &socketConn{Conn: c, slack: slack, rbudget: -1}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil && canTryWrite {
			s.raw = raw
			s.rawFn = s.rawWrite
			s.fillFn = s.rawFill
		}
	}
	return s
}

func (c *socketConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setWriteDeadlineLocked(t)
}

func (c *socketConn) setWriteDeadlineLocked(t time.Time) error {
	if !t.IsZero() && !c.wd.IsZero() && t.After(c.wd) && t.Sub(c.wd) < c.slack {
		return nil
	}
	c.wd = t
	return c.Conn.SetWriteDeadline(t)
}

// round runs write, one round of the connection's writer, and reports
// whether some bytes are left in pending for a flush. Only the holder of
// the connection's writer role calls it.
//
// With try (only when raw is set), writes do not wait for the socket: what
// it does not take at once is kept in pending and the write succeeds.
//
// With corked, the round's frames are gathered into one buffer of
// corkSize bytes and reach the socket together: a member that fell behind
// under a burst gets its backlog in one write(2) per corkSize bytes
// instead of one per frame. A frame that does not fit in what is left of
// the buffer has the buffer written first. After an error nothing is
// written: the connection fails with it.
func (c *socketConn) round(try, corked bool, write func() error) (left bool, err error) {
	if corked {
		c.mu.Lock()
		c.cork = corks.Get().(*[]byte)
		c.mu.Unlock()
	}
	c.try.Store(try)
	err = write()
	if corked {
		c.mu.Lock()
		if err == nil {
			err = c.uncorkLocked()
		}
		*c.cork = (*c.cork)[:0]
		corks.Put(c.cork)
		c.cork = nil
		c.mu.Unlock()
	}
	c.try.Store(false)
	return c.hasPending(), err
}

// corkSize is the size of the buffer a corked round gathers frames in:
// a few hundred small messages, and at most that many bytes more in
// pending when the socket takes only part of it.
const corkSize = 16 << 10

// corks lends the buffers of corked rounds: a connection holds one only
// while its writer runs.
var corks = sync.Pool{New: func() any { b := make([]byte, 0, corkSize); return &b }}

func (c *socketConn) hasPending() bool { return c.npend.Load() > 0 }

// Write writes p after whatever is pending. In a corked round it gathers
// p instead (see round). With try it writes what the socket takes at once
// and keeps the rest; otherwise it waits, up to the write deadline, like
// any net.Conn.
func (c *socketConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cork != nil {
		if len(*c.cork)+len(p) > cap(*c.cork) {
			if err := c.uncorkLocked(); err != nil {
				return 0, err
			}
		}
		if len(p) <= cap(*c.cork) {
			*c.cork = append(*c.cork, p...)
			return len(p), nil
		}
	}
	return c.writeLocked(p)
}

// writeLocked writes p after whatever is pending, without waiting under
// try. Caller holds mu.
func (c *socketConn) writeLocked(p []byte) (int, error) {
	if c.try.Load() {
		rest := p
		if len(c.pending) == 0 {
			c.writes++
			n, err := c.writeNow(p)
			if err != nil {
				return n, err
			}
			rest = p[n:]
		}
		c.pending = append(c.pending, rest...)
		c.npend.Store(int64(len(c.pending)))
		return len(p), nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	c.writes++
	return c.Conn.Write(p)
}

// uncorkLocked writes the frames a corked round gathered so far. Caller
// holds mu.
func (c *socketConn) uncorkLocked() error {
	if len(*c.cork) == 0 {
		return nil
	}
	_, err := c.writeLocked(*c.cork)
	*c.cork = (*c.cork)[:0]
	return err
}

// limitReads has the reads from now on return n bytes in all, and then
// fail with errWireTooBig; n < 0 lifts the bound. The read side of the
// connection (one reader at a time, see Conn) calls it around each
// message, so that a message's frames cannot stream without end where
// gorilla's reader loops inside one Read (frames without payload, deflate
// blocks that inflate to nothing).
func (c *socketConn) limitReads(n int64) {
	c.rbudget = max(n, -1)
}

// Read reads from the socket, within the bound of limitReads, and fails
// at the first frame that frameCheck refuses: the bytes before it pass,
// and gorilla's reader gets the refusal as the socket's error.
func (c *socketConn) Read(p []byte) (int, error) {
	if c.rbudget >= 0 {
		if c.rbudget == 0 {
			return 0, errWireTooBig
		}
		if int64(len(p)) > c.rbudget {
			p = p[:c.rbudget]
		}
	}
	n, err := c.readIn(p)
	if c.rbudget > 0 {
		c.rbudget -= int64(n) // n <= rbudget: p was cut to it
	}
	if err != nil {
		c.readErr = err
	}
	if !c.frames.off {
		if k, ferr := c.frames.scan(p[:n]); ferr != nil {
			return k, ferr
		}
	}
	return n, err
}

// readChunkSize is the size of the pooled chunks that socketConn reads
// input into ahead of gorilla's small frame reader: one read system call
// takes what several small frames sent together need.
const readChunkSize = 4096

// A chunk's offsets are int16s (socketConn.apos, alen).
const _ uint = -(readChunkSize >> 15)

// readChunks lends read-ahead chunks to connections only while they hold
// input that gorilla has not taken yet.
var readChunks = sync.Pool{New: func() any { b := make([]byte, readChunkSize); return &b }}

// readIn reads into p. With gorilla's frame reader supplied by hijacker,
// what fill read ahead comes first, and a read smaller than a chunk waits
// for input through fill, so that nothing is held while it waits; a larger
// one, with nothing read ahead, goes to the socket directly.
func (c *socketConn) readIn(p []byte) (int, error) {
	if c.gbr == nil {
		return c.Conn.Read(p)
	}
	if c.ahead == nil && len(p) < readChunkSize {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	if c.ahead == nil {
		c.drained = false
		return c.Conn.Read(p)
	}
	n := copy(p, (*c.ahead)[c.apos:c.alen])
	c.apos += int16(n)
	if c.apos == c.alen {
		readChunks.Put(c.ahead)
		c.ahead = nil
	}
	return n, nil
}

// buffered reports whether input past what gorilla's reader took is
// already read: more frames sent together with the last one, or the start
// of the next. Only the reader calls it.
func (c *socketConn) buffered() bool {
	return c.ahead != nil || (c.gbr != nil && c.gbr.Buffered() > 0)
}

// awaitInput returns once gorilla's frame reader has input to read, or the
// socket failed: it waits holding no buffer and without gorilla's deep
// stack, so that the goroutine of an idle connection stays small. Only the
// reader calls it, before gorilla reads the next frame; without a frame
// reader from hijacker it returns at once.
func (c *socketConn) awaitInput() error {
	if c.gbr == nil || c.ahead != nil || c.gbr.Buffered() > 0 {
		return nil
	}
	return c.fill()
}

// fill waits for input, up to the read deadline, and reads what there is
// into a pooled chunk (ahead). A chunk is taken only when a read finds
// input, so that an idle connection holds none. Errors are the socket's,
// as its Read would return them.
func (c *socketConn) fill() error {
	if err := c.raw.Read(c.fillFn); err != nil {
		c.readErr = err
		return err
	}
	if c.ahead == nil { // rawFill found the socket's end or an error
		return c.readErr
	}
	return nil
}

// poll reads what input there is into a pooled chunk (ahead), without
// waiting, and reports whether there was any; a socket that ended or
// failed is an error, as its Read would return it (a read deadline that
// passed included). Only the reader calls it, with nothing read ahead.
func (c *socketConn) poll() (bool, error) {
	if c.ahead != nil {
		return true, nil // never replace input read ahead
	}
	c.nowait = true
	err := c.raw.Read(c.fillFn)
	c.nowait = false
	if err != nil {
		c.readErr = err
		return false, err
	}
	if c.ahead == nil {
		return false, c.readErr
	}
	return true, nil
}

// rawFill is fill's and poll's callback for syscall.RawConn.Read: false
// means "no input yet, wait for some" (never under poll). It sets ahead
// when it read input, and readErr when the socket ended or failed.
func (c *socketConn) rawFill(fd uintptr) bool {
	bp := readChunks.Get().(*[]byte)
	for {
		n, err := rawRead(fd, *bp)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			readChunks.Put(bp)
			return c.nowait
		case err != nil:
			c.readErr = &net.OpError{Op: "read", Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(),
				Err: os.NewSyscallError("read", err)}
		case n == 0:
			c.readErr = io.EOF
		default:
			c.ahead, c.apos, c.alen = bp, 0, int16(n)
			c.drained = n < len(*bp)
			return true
		}
		readChunks.Put(bp)
		return true
	}
}

// nextControl takes the next frame off the input when it is a ping or a
// pong that the reader holds whole, and returns its opcode and unmasked
// payload; ok is false, and nothing is taken, for anything else (a data
// or close frame, a frame that breaks the protocol, which gorilla's
// reader then refuses). A listening connection answers such frames itself
// between messages, because gorilla's reader, once it has handled one,
// waits in the socket for the next frame (see Conn.Listen). When the input
// held is only the start of a ping or pong (TCP delivered it in pieces),
// it sets short and moves that input into gorilla's frame reader, so that
// the caller can poll for the rest instead of leaving it to gorilla. Only
// the reader calls it, between messages: what gorilla's frame reader holds
// then starts with a frame, unless inFrame says it may not (see
// atFrameStart).
func (c *socketConn) nextControl() (op byte, payload []byte, ok bool) {
	c.short = false
	if c.gbr == nil || c.inFrame {
		return 0, nil, false
	}
	// Peek must not wait for input: it reads no more than is held.
	held := c.gbr.Buffered()
	if c.ahead != nil {
		held += int(c.alen - c.apos)
	}
	if held == 0 {
		return 0, nil, false
	}
	// The header is looked at where it lies, without a read: a read
	// passes the bytes through frameCheck, and bufio.Reader.Peek would
	// swallow the refusal of a frame that gorilla's reader must get.
	var h [2]byte
	inGbr, _ := c.gbr.Peek(min(c.gbr.Buffered(), 2)) // buffered: no read
	if k := copy(h[:], inGbr); k < min(held, 2) {
		copy(h[k:], (*c.ahead)[c.apos:c.alen]) // ahead holds the rest
	}
	const fin, masked = 0x80, 0x80
	op = h[0] &^ fin
	if h[0]&fin == 0 || (op != websocketPing && op != websocketPong) {
		return 0, nil, false
	}
	if held < 2 {
		c.keepShort(held)
		return 0, nil, false
	}
	if h[1]&masked == 0 || h[1]&^masked > 125 {
		return 0, nil, false
	}
	n := 2 + 4 + int(h[1]&^masked)
	if held < n {
		c.keepShort(held)
		return 0, nil, false
	}
	// A ping or pong frame is one that frameCheck passes, whole; the
	// refusal of a frame after it stays with gorilla's frame reader.
	f, err := c.gbr.Peek(n)
	if err != nil {
		return 0, nil, false
	}
	key := f[2:6]
	payload = make([]byte, n-6)
	for i := range payload {
		payload[i] = f[6+i] ^ key[i&3]
	}
	_, _ = c.gbr.Discard(n)
	return op, payload, true
}

// keepShort moves the held input, the start of a ping or pong frame, into
// gorilla's frame reader, which has room for a whole one, and sets short:
// with nothing read ahead, the reader may poll for the rest. frameCheck
// passes these bytes: a ping or pong header without RSV bits is valid.
func (c *socketConn) keepShort(held int) {
	if _, err := c.gbr.Peek(held); err == nil && c.ahead == nil {
		c.short = true
	}
}

// atFrameStart reports whether gorilla's frame reader surely stands at the
// start of a frame: it took every byte read so far, and they end with a
// whole frame, or what it holds is the last frame that frameCheck saw
// begin, whole or in part. After a compressed message it may not: the
// inflater stops at a deflate block with BFINAL set (RFC 7692 §7.2.3.3),
// and gorilla skips what follows in the frame only when it reads the next
// message. Only the reader calls it.
func (c *socketConn) atFrameStart() bool {
	f := &c.frames
	if c.gbr == nil || f.off || f.hn > 0 {
		return false
	}
	held := uint64(c.gbr.Buffered())
	return held == 0 && f.skip == 0 || held > 0 && held == f.last()-f.skip
}

// Opcodes of the control frames nextControl takes (RFC 6455 §5.2).
const (
	websocketPing = 0x9
	websocketPong = 0xA
)

// dropped reports whether err is the error the socket's last read
// returned, as it came through gorilla's reader: the peer reset the
// connection, or the network or TLS failed under it. Only the reader
// calls it.
func (c *socketConn) dropped(err error) bool {
	return c.readErr != nil && errors.Is(err, c.readErr)
}

// CloseWrite writes what is pending, then shuts down the writing side of
// the socket (TCP's FIN, TLS's close_notify), so that the peer reads the
// end of the stream after the last frame. It fails with
// errors.ErrUnsupported where the connection underneath cannot half-close.
func (c *socketConn) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.flushLocked(); err != nil {
		return err
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// flush writes what is pending, waiting until deadline at most.
func (c *socketConn) flush(deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return nil
	}
	if err := c.setWriteDeadlineLocked(deadline); err != nil {
		return err
	}
	return c.flushLocked()
}

func (c *socketConn) flushLocked() error {
	if len(c.pending) == 0 {
		return nil
	}
	c.writes++
	n, err := c.Conn.Write(c.pending)
	c.pending = c.pending[:copy(c.pending, c.pending[n:])]
	c.npend.Store(int64(len(c.pending)))
	if len(c.pending) == 0 && cap(c.pending) > 4096 {
		c.pending = nil // do not keep a large frame's buffer on an idle connection
	}
	return err
}

// writeNow makes one write(2) that does not wait and returns how much the
// socket took. Caller holds mu, which guards the raw* fields.
func (c *socketConn) writeNow(p []byte) (int, error) {
	c.rawP = p
	err := c.raw.Write(c.rawFn)
	c.rawP = nil
	n, werr := max(int(c.rawN), 0), c.rawErr
	c.rawErr = nil
	switch {
	case err != nil:
		return 0, err
	case werr == syscall.EAGAIN:
		return 0, nil
	case werr != nil:
		return 0, &net.OpError{Op: "write", Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: werr}
	}
	return n, nil
}

// rawWrite is writeNow's callback for syscall.RawConn.Write: true means
// done, never "wait and call again".
func (c *socketConn) rawWrite(fd uintptr) bool {
	for {
		n, err := rawWrite(fd, c.rawP)
		c.rawN, c.rawErr = int32(n), err
		if c.rawErr != syscall.EINTR {
			return true
		}
	}
}
