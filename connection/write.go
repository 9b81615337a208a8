package connection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// outbound is one queued message: raw data or a prepared message.
type outbound struct {
	typ  MessageType
	data []byte
	pm   *websocket.PreparedMessage
	size int
}

// PreparedMessage is a message encoded once for many connections (a
// broadcast). It caches its frames per compression setting.
type PreparedMessage struct {
	pm   *websocket.PreparedMessage
	size int
}

// NewPreparedMessage prepares data as a message of type typ.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	pm, err := websocket.NewPreparedMessage(int(typ), data)
	if err != nil {
		return nil, err
	}
	return &PreparedMessage{pm: pm, size: len(data)}, nil
}

// Write implements Connection.
func (c *Conn) Write(data []byte) error {
	return c.enqueue(context.Background(), outbound{typ: TextMessage, data: clone(data)})
}

// WriteBinary implements Connection.
func (c *Conn) WriteBinary(data []byte) error {
	return c.enqueue(context.Background(), outbound{typ: BinaryMessage, data: clone(data)})
}

// WriteMessage implements Connection.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	if typ != TextMessage && typ != BinaryMessage {
		return errors.New("forge: write message: type must be TextMessage or BinaryMessage")
	}
	return c.enqueue(ctx, outbound{typ: typ, data: clone(data)})
}

// WritePrepared queues pm like Write: while the queue is full it waits, up
// to the write timeout, then closes the slow consumer.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	return c.enqueue(context.Background(), outbound{pm: pm.pm, size: pm.size})
}

// Offer queues pm without waiting, for broadcasts. When the queue has no
// room, the connection's slow-consumer Policy decides: PolicyClose closes
// the connection with CloseSlowConsumer, PolicyDropOldest drops queued
// messages until pm fits, PolicyDropNewest drops pm. Offer reports whether
// pm was queued; every drop and close is counted in the Tracker's Stats.
func (c *Conn) Offer(pm *PreparedMessage) bool {
	m := outbound{pm: pm.pm, size: pm.size}
	c.wmu.Lock()
	if c.closing || c.werr != nil {
		c.wmu.Unlock()
		return false
	}
	if c.qbytes > 0 && c.qbytes+m.size > c.queueCap {
		switch c.policy {
		case PolicyDropOldest:
			for len(c.queue) > 0 && c.qbytes+m.size > c.queueCap {
				c.qbytes -= c.queue[0].size
				c.queue[0] = outbound{}
				c.queue = c.queue[1:]
				c.countDrop()
			}
			if c.qbytes > 0 && c.qbytes+m.size > c.queueCap { // the writer holds the rest
				c.wmu.Unlock()
				c.countDrop()
				return false
			}
		case PolicyDropNewest:
			c.wmu.Unlock()
			c.countDrop()
			return false
		default:
			c.wmu.Unlock()
			c.slowConsumer()
			return false
		}
	}
	c.queue = append(c.queue, m)
	c.qbytes += m.size
	c.kickLocked()
	c.wmu.Unlock()
	return true
}

func (c *Conn) countDrop() {
	if c.tracker != nil {
		c.tracker.dropped.Add(1)
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}

// enqueue adds m to the queue, waiting while it is full. The wait ends with
// ErrSlowConsumer (and the connection closed) after the write timeout, or
// with ErrWriteTimeout / ctx.Err() when ctx ends first, nothing queued.
func (c *Conn) enqueue(ctx context.Context, m outbound) error {
	if m.pm == nil {
		m.size = len(m.data)
	}
	var timer *time.Timer
	c.wmu.Lock()
	for {
		if c.werr != nil || c.closing {
			slow := c.slow
			c.wmu.Unlock()
			if slow {
				return ErrSlowConsumer
			}
			return ErrClosed
		}
		if c.qbytes == 0 || c.qbytes+m.size <= c.queueCap {
			break
		}
		if timer == nil {
			timer = time.NewTimer(c.writeTimeout)
			defer timer.Stop()
		}
		if c.space == nil {
			c.space = make(chan struct{})
		}
		room := c.space
		c.waiters.Add(1)
		c.wmu.Unlock()
		select {
		case <-room:
			c.waiters.Add(-1)
		case <-timer.C:
			c.waiters.Add(-1)
			c.slowConsumer()
			return ErrSlowConsumer
		case <-ctx.Done():
			c.waiters.Add(-1)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ErrWriteTimeout
			}
			return ctx.Err()
		}
		c.wmu.Lock()
	}
	if !c.writing && len(c.queue) == 0 && !c.pongDue && !c.pingDue && ctx.Done() == nil {
		return c.writeInline(&m)
	}
	c.queue = append(c.queue, m)
	c.qbytes += m.size
	c.kickLocked()
	c.wmu.Unlock()
	return nil
}

// writeInline writes m in the calling goroutine, which takes the writer role
// because nobody holds it and nothing is queued: the common case of a
// handler answering its peer costs no goroutine hand-off. Whatever was
// queued meanwhile is handed to a writer goroutine. Caller holds wmu;
// writeInline releases it.
func (c *Conn) writeInline(m *outbound) error {
	c.writing = true
	c.qbytes += m.size
	c.wmu.Unlock()
	err := c.writeOne(m)
	c.wmu.Lock()
	c.qbytes -= m.size
	c.wakeLocked()
	if err != nil {
		c.wmu.Unlock()
		c.writeFailed(err)
		if c.isSlow() {
			return ErrSlowConsumer
		}
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.writing = false
	if len(c.queue) > 0 || c.pongDue || c.pingDue || (c.closing && c.closeMsg != nil) {
		c.kickLocked()
	}
	c.wmu.Unlock()
	return nil
}

func (c *Conn) isSlow() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.slow
}

// slowConsumer fails a connection whose queue stayed full: queued messages
// are dropped and the close frame goes next.
func (c *Conn) slowConsumer() {
	if !c.markSlow() {
		return
	}
	c.initiateClose(CloseSlowConsumer, "slow consumer", true)
	c.cancel()
}

// markSlow records that the peer is a slow consumer, once, and reports
// whether this call did. A connection already closing for another reason is
// not counted.
func (c *Conn) markSlow() bool {
	c.wmu.Lock()
	if c.slow || c.werr != nil {
		c.wmu.Unlock()
		return false
	}
	c.slow = true
	c.wmu.Unlock()
	if c.tracker != nil {
		c.tracker.slowConsumers.Add(1)
	}
	c.log.LogAttrs(c.ctx, slog.LevelWarn, "websocket slow consumer closed",
		slog.Int("queue_bytes", c.queueCap), slog.Duration("write_timeout", c.writeTimeout))
	return true
}

// initiateClose stops accepting data and has the writer send a close frame
// after the queued messages (or instead of them, with discard). The first
// close wins; later calls change nothing.
func (c *Conn) initiateClose(code StatusCode, reason string, discard bool) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	if discard {
		for _, m := range c.queue {
			c.qbytes -= m.size
		}
		clear(c.queue)
		c.queue = c.queue[:0]
	}
	c.closeCode, c.closeReason = code, reason
	c.closeMsg = websocket.FormatCloseMessage(int(code), truncateReason(reason))
	if code == CloseNoStatus {
		c.closeMsg = []byte{}
	}
	c.wakeLocked()
	if c.werr != nil {
		c.sentClose(c.werr)
		return
	}
	c.kickLocked()
	if !c.writing { // the connection is finished: no writer can start
		c.sentClose(ErrClosed)
	}
}

// sentCode returns the code of the close frame sent, or CloseAbnormal if
// none could be. Call it once closeSent is closed.
func (c *Conn) sentCode() StatusCode {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeFailed || c.closeCode == 0 {
		return CloseAbnormal
	}
	return c.closeCode
}

// onPing answers a ping through the writer. Only the latest ping is
// answered, as RFC 6455 allows, so a ping flood cannot grow the queue.
func (c *Conn) onPing(data string) error {
	c.wmu.Lock()
	if !c.closing && c.werr == nil {
		c.pong = append(c.pong[:0], data...)
		c.pongDue = true
		c.kickLocked()
	}
	c.wmu.Unlock()
	return nil
}

// onClose records the peer's close frame and has the writer answer it with
// the same code once the queue is flushed.
func (c *Conn) onClose(code int, _ string) error {
	c.peerClosed.Store(true)
	if code == websocket.CloseNoStatusReceived {
		c.initiateClose(CloseNoStatus, "", false)
	} else {
		c.initiateClose(StatusCode(code), "", false)
	}
	c.cancel()
	return nil
}

// kickLocked starts the writer if it is not running. Caller holds wmu.
func (c *Conn) kickLocked() {
	if c.writing {
		return
	}
	if c.spawn(writerRole) {
		c.writing = true
	}
}

// wakeLocked wakes writers waiting for room. Caller holds wmu.
func (c *Conn) wakeLocked() {
	if c.space != nil {
		close(c.space)
		c.space = nil
	}
}

// writeLoop is the connection's writer goroutine. It drains the queue,
// control frames first, and exits when there is nothing left to write.
func (c *Conn) writeLoop() {
	var (
		batch    []outbound // the messages being written, taken from the queue
		released int        // bytes of batch written but still counted in qbytes
	)
	for {
		c.wmu.Lock()
		c.qbytes -= released
		released = 0
		c.wakeLocked()
		if batch != nil && c.spare == nil {
			c.spare = batch[:0]
		}
		if c.werr != nil {
			c.writing = false
			c.wmu.Unlock()
			c.sentClose(ErrClosed)
			return
		}
		var pong []byte
		if c.pongDue {
			pong, c.pongDue = append([]byte(nil), c.pong...), false
		}
		ping := c.pingDue
		c.pingDue = false
		batch = c.queue
		c.queue, c.spare = c.spare[:0], nil
		var closeMsg []byte
		if len(batch) == 0 && pong == nil && !ping {
			if !c.closing || c.closeMsg == nil {
				c.spare = batch
				c.writing = false
				c.wmu.Unlock()
				return
			}
			closeMsg, c.closeMsg = c.closeMsg, nil
		}
		c.wmu.Unlock()

		var err error
		if pong != nil {
			err = c.ws.WriteControl(websocket.PongMessage, pong, time.Now().Add(c.writeTimeout))
		}
		if ping && err == nil {
			err = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.writeTimeout))
		}
		for i := range batch {
			if err == nil {
				err = c.writeOne(&batch[i])
			}
			released += batch[i].size
			batch[i] = outbound{}
			if c.waiters.Load() > 0 { // give room back message by message
				c.wmu.Lock()
				c.qbytes -= released
				released = 0
				c.wakeLocked()
				c.wmu.Unlock()
			}
		}
		if closeMsg != nil && err == nil {
			err = c.ws.WriteControl(websocket.CloseMessage, closeMsg, time.Now().Add(c.writeTimeout))
			if errors.Is(err, websocket.ErrCloseSent) {
				err = nil // gorilla sent one itself (read limit, protocol error)
			}
		}
		if err != nil {
			c.writeFailed(err)
			return
		}
		if closeMsg != nil {
			c.sentClose(nil)
			c.wmu.Lock()
			c.writing = false
			c.wmu.Unlock()
			return
		}
	}
}

func (c *Conn) writeOne(m *outbound) error {
	c.msgsOut++
	c.bytesOut += uint64(m.size)
	c.ws.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	if m.pm != nil {
		return c.ws.WritePreparedMessage(m.pm)
	}
	if c.compress {
		c.ws.EnableWriteCompression(len(m.data) >= c.compressMin)
	}
	return c.ws.WriteMessage(int(m.typ), m.data)
}

// sentClose marks the close frame as written (err == nil) or given up on.
func (c *Conn) sentClose(err error) {
	c.closeSentOnce.Do(func() {
		c.closeFailed = err != nil
		close(c.closeSent)
	})
}

// writeFailed makes a write error sticky and drops the connection: a frame
// that could not be written within the write timeout leaves the stream in
// an unknown state.
func (c *Conn) writeFailed(err error) {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() && !c.ending.Load() {
		c.markSlow() // the peer did not take one frame within the write timeout
	}
	c.wmu.Lock()
	if c.werr == nil {
		c.werr = err
	}
	c.closing = true
	c.writing = false
	for _, m := range c.queue {
		c.qbytes -= m.size
	}
	clear(c.queue)
	c.queue = c.queue[:0]
	c.wakeLocked()
	c.wmu.Unlock()
	if !c.ending.Load() {
		c.log.LogAttrs(c.ctx, slog.LevelDebug, "websocket write failed", slog.String("error", err.Error()))
	}
	c.ws.NetConn().Close()
	c.cancel()
	c.sentClose(err)
}
