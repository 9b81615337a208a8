package connection

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// hijacker hands gorilla a wrapped net.Conn on Hijack, so that every byte
// the connection writes goes through socketConn.
type hijacker struct {
	http.ResponseWriter
	slack time.Duration // for socketConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return newSocketConn(c, h.slack), brw, nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (h *hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// socketConn is the net.Conn under gorilla. It does two things for the
// write side.
//
// It passes a write deadline down to the socket only when it moved by more
// than slack (or was cleared). gorilla sets the write deadline before every
// frame, and every change reprograms a runtime timer; forge moves it with
// every frame, so without this each message would pay for a timer. A
// deadline may thus fire up to slack before the one asked for; slack is at
// most a quarter of the write timeout.
//
// And it can write without waiting (see tryWrites): a write the socket
// cannot take at once is kept in pending and the call succeeds, so that a
// few shared flushers can write the queues of many connections without one
// full socket holding up the others. Every later write, and flush, sends
// pending first, so the byte stream keeps its order.
type socketConn struct {
	net.Conn
	slack time.Duration
	raw   syscall.RawConn // nil when the socket is not a plain fd (TLS)
	try   atomic.Bool     // writes do not wait; see tryWrites

	mu      sync.Mutex   // serializes writes
	wd      time.Time    // guarded by mu; the write deadline the socket has
	pending []byte       // guarded by mu; accepted but not yet written
	npend   atomic.Int64 // len(pending), for readers without mu

	rawFn  func(fd uintptr) bool // c.rawWrite, made once
	rawP   []byte                // guarded by mu; rawWrite's argument
	rawN   int                   // guarded by mu; rawWrite's results
	rawErr error                 // guarded by mu

	rlimited bool       // owned by the reader; reads count against rbudget (see limitReads)
	rbudget  int64      // owned by the reader
	readErr  error      // owned by the reader; the last error the socket's Read returned
	frames   frameCheck // owned by the reader
}

func newSocketConn(c net.Conn, slack time.Duration) *socketConn {
	s := &socketConn{Conn: c, slack: slack}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil && canTryWrite {
			s.raw = raw
			s.rawFn = s.rawWrite
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

// tryWrites runs write with writes that do not wait for the socket, and
// reports whether some bytes are left in pending for a flush. Only the
// holder of the connection's writer role calls it, and only when raw is
// set.
func (c *socketConn) tryWrites(write func() error) (left bool, err error) {
	c.try.Store(true)
	err = write()
	c.try.Store(false)
	return c.hasPending(), err
}

func (c *socketConn) hasPending() bool { return c.npend.Load() > 0 }

// Write writes p after whatever is pending. Under tryWrites it writes what
// the socket takes at once and keeps the rest; otherwise it waits, up to
// the write deadline, like any net.Conn.
func (c *socketConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.try.Load() {
		rest := p
		if len(c.pending) == 0 {
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
	return c.Conn.Write(p)
}

// limitReads has the reads from now on return n bytes in all, and then
// fail with errWireTooBig; n < 0 lifts the bound. The read side of the
// connection (one reader at a time, see Conn) calls it around each
// message, so that a message's frames cannot stream without end where
// gorilla's reader loops inside one Read (frames without payload, deflate
// blocks that inflate to nothing).
func (c *socketConn) limitReads(n int64) {
	c.rlimited, c.rbudget = n >= 0, n
}

// Read reads from the socket, within the bound of limitReads, and fails
// at the first frame that frameCheck refuses: the bytes before it pass,
// and gorilla's reader gets the refusal as the socket's error.
func (c *socketConn) Read(p []byte) (int, error) {
	if c.rlimited {
		if c.rbudget <= 0 {
			return 0, errWireTooBig
		}
		if int64(len(p)) > c.rbudget {
			p = p[:c.rbudget]
		}
	}
	n, err := c.Conn.Read(p)
	c.rbudget -= int64(n) // counts only while limited: limitReads sets it anew
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
	n, werr := max(c.rawN, 0), c.rawErr
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
		c.rawN, c.rawErr = rawWrite(fd, c.rawP)
		if c.rawErr != syscall.EINTR {
			return true
		}
	}
}
