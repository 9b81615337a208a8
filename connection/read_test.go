package connection

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/internal/testkit"
)

// TestPeerResetIsDrop: a peer that resets the TCP connection has dropped
// it; that is no protocol error. The handler's read gets ErrClosed, no
// close code, and nothing is logged above Debug.
func TestPeerResetIsDrop(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	logger := testkit.TextLogger(&logs)
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

// TestCorruptCompressedMessage: a compressed message that cannot be
// inflated (its deflate data cut short, or corrupt) fails the connection
// with 1007; the closing handshake completes as usual.
func TestCorruptCompressedMessage(t *testing.T) {
	t.Parallel()
	var whole bytes.Buffer
	w, _ := flate.NewWriter(&whole, flate.BestSpeed)
	noise := make([]byte, 4096)
	rand.NewChaCha8([32]byte{}).Read(noise)
	w.Write(noise)
	w.Flush()
	tests := []struct {
		name    string
		payload []byte
	}{
		{"cut short", whole.Bytes()[:1000]},
		{"reserved block type", []byte{0x07, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{Compression: true, CloseTimeout: time.Hour}, echo)
			c := dialRawDeflate(t, s)
			if err := c.write(clientFragment(0x80|0x40|0x2, tt.payload)); err != nil { // FIN, RSV1, binary
				t.Fatal(err)
			}
			op, got, err := c.read()
			if err != nil || op != opClose || len(got) < 2 {
				t.Fatalf("opcode %#x %q, %v; want a close frame with a code", op, got, err)
			}
			if code := binary.BigEndian.Uint16(got); code != 1007 {
				t.Fatalf("close %d %q, want 1007", code, got[2:])
			}
			if err := c.write(clientFrame(opClose, got[:2])); err != nil {
				t.Fatal(err)
			}
			if op, got, err := c.read(); err != io.EOF {
				t.Fatalf("after the closing handshake: opcode %#x %q, %v; want the end of the stream", op, got, err)
			}
			if err := waitErr(t, s); CloseStatus(err) != CloseInvalidPayload {
				t.Fatalf("handler's read: %v, want close status 1007", err)
			}
		})
	}
}
