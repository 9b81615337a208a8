package connection

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestListenCompressedEndsEarly sends a compressed message whose deflate
// data ends (a block with BFINAL set, RFC 7692 §7.2.3.3) before its
// frame does: gorilla's reader skips the rest of the frame when it reads
// the next message, and a listening connection must not take the bytes it
// skips for frames of their own. Here they look like pings.
func TestListenCompressedEndsEarly(t *testing.T) {
	t.Parallel()
	for phase := range 6 {
		t.Run(fmt.Sprint(phase), func(t *testing.T) {
			t.Parallel()
			testCompressedEndsEarly(t, phase)
		})
	}
}

func testCompressedEndsEarly(t *testing.T, phase int) {
	got := make(chan string, 4)
	s := newServer(t, Config{Compression: true}, func(c *Conn) error {
		return c.Listen(func(_ MessageType, data []byte) error {
			got <- string(data)
			return nil
		})
	})
	rc := dialRawDeflate(t, s)
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	fw.Write([]byte("hello"))
	fw.Close() // a final block
	payload := make([]byte, 3000)
	copy(payload, z.Bytes())
	// Past the deflate data, what an empty masked ping looks like, at
	// every sixth byte from wherever gorilla's reader may stop.
	ping := []byte{0x80 | opPing, 0x80, 0, 0, 0, 0}
	for i := z.Len(); i < len(payload); i++ {
		payload[i] = ping[(i+phase)%6]
	}
	if err := rc.write(clientFragment(0x80|0x40|opText, payload), clientFrame(opText, []byte("after"))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello", "after"} {
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("got %q, want %q", m, want)
			}
		case <-time.After(hangGuard):
			t.Fatalf("no %q", want)
		}
	}
	// The first frame back answers this ping: nothing answered the bytes
	// gorilla's reader skipped.
	if err := rc.write(maskedFrame(opPing, []byte("end"))); err != nil {
		t.Fatal(err)
	}
	expectFrame(t, rc, opPong, "end")
}

// TestListenCompressedParks checks that a compressed message read whole
// leaves the listener answering a ping by itself and parked, as without
// compression: alone, or with a pong read together with it.
func TestListenCompressedParks(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	s, conns := listening(t, Config{Compression: true}, func(c *Conn, typ MessageType, data []byte) error {
		return c.WriteMessage(context.Background(), typ, data)
	})
	rc := dialRawDeflate(t, s)
	c := takeConn(t, conns)
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	fw.Write([]byte("hello"))
	fw.Flush()
	data := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	for i := range 3 {
		if err := rc.write(clientFragment(0x80|0x40|opText, data)); err != nil {
			t.Fatal(err)
		}
		if op, _, err := rc.read(); err != nil || op != opText {
			t.Fatalf("opcode %#x, %v; want the echo", op, err)
		}
		waitParked(t, c)
		if err := rc.write(clientFragment(0x80|0x40|opText, data), maskedFrame(opPong, []byte("pong"))); err != nil {
			t.Fatal(err)
		}
		if op, _, err := rc.read(); err != nil || op != opText {
			t.Fatalf("opcode %#x, %v; want the echo", op, err)
		}
		waitParked(t, c)
		p := fmt.Sprint("ping ", i)
		if err := rc.write(maskedFrame(opPing, []byte(p))); err != nil {
			t.Fatal(err)
		}
		expectFrame(t, rc, opPong, p)
		waitParked(t, c)
	}
}

// TestListenSlowCallbackSparesHealthyPeer has a callback run for longer
// than ping interval plus pong wait while the peer answers every ping: as
// for a handler that reads after long work, the peer is not closed for
// the pongs the connection could not read meanwhile.
func TestListenSlowCallbackSparesHealthyPeer(t *testing.T) {
	t.Parallel()
	// The pong wait leaves room for a busy machine; the callback still
	// runs for twice ping interval plus pong wait.
	const interval, wait = 20 * time.Millisecond, 200 * time.Millisecond
	got := make(chan string, 2)
	s, conns := listening(t, Config{PingInterval: interval, PongWait: wait}, func(_ *Conn, _ MessageType, data []byte) error {
		if string(data) == "slow" {
			time.Sleep(2 * (interval + wait))
		}
		got <- string(data)
		return nil
	})
	ws := dial(t, s, nil)
	go ws.ReadMessage() // answers pings until the test closes ws
	c := takeConn(t, conns)
	for _, m := range []string{"slow", "after"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-got:
			if g != m {
				t.Fatalf("got %q, want %q", g, m)
			}
		case <-c.Context().Done():
			t.Fatalf("a peer that answers every ping was closed before %q", m)
		case <-time.After(hangGuard):
			t.Fatalf("no %q", m)
		}
	}
}

// TestListenSplitPing sends pings in two pieces, cut in the header and in
// the payload, as TCP may deliver them: the listener answers each and
// parks, without a goroutine left waiting in gorilla's reader for the next
// message.
func TestListenSplitPing(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	rc, c := parkedEcho(t)
	for _, cut := range []int{1, 2, 4, 6, 9} {
		p := fmt.Sprint("ping cut at ", cut)
		f := maskedFrame(opPing, []byte(p))
		if err := rc.write(f[:cut]); err != nil {
			t.Fatal(err)
		}
		waitParked(t, c)
		if err := rc.write(f[cut:]); err != nil {
			t.Fatal(err)
		}
		expectFrame(t, rc, opPong, p)
		waitParked(t, c)
	}
	// The input that follows is read as it should be.
	if err := rc.write(maskedFrame(opText, []byte("after"))); err != nil {
		t.Fatal(err)
	}
	expectFrame(t, rc, opText, "after")
}
