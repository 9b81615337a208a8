package connection

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// TestPeerResetIsDrop: a peer that resets the TCP connection has dropped
// it; that is no protocol error. The handler's read gets ErrClosed, no
// close code, and nothing is logged above Debug.
func TestPeerResetIsDrop(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reading := make(chan struct{})
	s := newServer(t, Config{Logger: logger}, func(c *Conn) error {
		close(reading)
		_, err := c.Read()
		return err
	})
	ws := dial(t, s, nil)
	<-reading
	tcp := ws.NetConn().(*net.TCPConn)
	tcp.SetLinger(0) // Close sends RST
	tcp.Close()
	err := waitErr(t, s)
	if !errors.Is(err, ErrClosed) || CloseStatus(err) != -1 {
		t.Fatalf("read after a reset: %v (close status %d), want ErrClosed without a status", err, CloseStatus(err))
	}
	if !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read after a reset: %v; want the reset named", err)
	}
	s.tracker.Shutdown(t.Context()) // waits for the connection to finish
	if out := logs.String(); strings.Contains(out, "level=WARN") || strings.Contains(out, "level=ERROR") {
		t.Fatalf("a reset is logged above Debug:\n%s", out)
	}
}
