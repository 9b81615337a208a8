//go:build unix

package testkit

import (
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"
)

// DialTiny is Dial with a client socket that asks for a 4 KiB receive
// buffer, so that when the client does not read, the server's writes to
// it back up fast: a slow consumer.
func DialTiny(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	nd := &net.Dialer{Control: tinyReceiveBuffer}
	return dial(t, &websocket.Dialer{HandshakeTimeout: Timeout, NetDialContext: nd.DialContext}, url, nil)
}

func tinyReceiveBuffer(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("set SO_RCVBUF: %w", serr)
	}
	return nil
}
