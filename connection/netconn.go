package connection

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// hijacker hands gorilla a wrapped net.Conn on Hijack, so that the
// connection's write deadlines go through deadlineConn.
type hijacker struct {
	http.ResponseWriter
	slack time.Duration // for deadlineConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &deadlineConn{Conn: c, slack: h.slack}, brw, nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (h *hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// deadlineConn passes a write deadline down to the socket only when it
// moved by more than slack (or was cleared). gorilla sets the write deadline
// before every frame, and every change reprograms a runtime timer; forge
// moves it with every frame, so without this each message would pay for a
// timer. A deadline may thus fire up to slack before the one asked for;
// slack is at most a quarter of the write timeout. gorilla calls
// SetWriteDeadline under its write lock, which guards wd.
type deadlineConn struct {
	net.Conn
	slack time.Duration
	wd    time.Time // the write deadline the socket has
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	if !t.IsZero() && !c.wd.IsZero() && t.After(c.wd) && t.Sub(c.wd) < c.slack {
		return nil
	}
	c.wd = t
	return c.Conn.SetWriteDeadline(t)
}
