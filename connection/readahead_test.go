package connection

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"
)

// TestReadAheadKeepsFrames: whatever way the frames arrive (many in one
// segment, with control frames between them, one byte at a time, larger
// than the read-ahead chunk), every message is read whole and in order,
// with gorilla reading through forge's small frame reader and with a
// reader of gorilla's own (an Upgrader with a ReadBufferSize). A frame
// left in a reader that the read side does not look into would hang here.
func TestReadAheadKeepsFrames(t *testing.T) {
	t.Parallel()
	configs := []struct {
		name     string
		cfg      Config
		ownsRead bool
	}{
		{"forge reader", Config{}, true},
		{"gorilla reader", Config{Upgrader: &websocket.Upgrader{ReadBufferSize: 1024, CheckOrigin: nil}}, false},
	}
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			readers := make(chan bool, 1)
			s := newServer(t, tc.cfg, func(c *Conn) error {
				readers <- c.nc != nil && c.nc.gbr != nil
				return echo(c)
			})
			c := dialRaw(t, s)
			if got := <-readers; got != tc.ownsRead {
				t.Fatalf("forge's frame reader in use: %v, want %v", got, tc.ownsRead)
			}
			var want [][]byte
			var burst []byte
			for i := range 200 {
				msg := fmt.Appendf(nil, "message %03d", i)
				if i%50 == 7 {
					msg = bytes.Repeat([]byte{'a' + byte(i%26)}, 3*readChunkSize+i) // spans chunks
				}
				want = append(want, msg)
				burst = append(burst, clientFrame(opText, msg)...)
				if i%40 == 3 {
					burst = append(burst, clientFrame(opPing, []byte("between"))...)
				}
			}
			if err := c.write(burst); err != nil {
				t.Fatal(err)
			}
			last := []byte("one byte at a time")
			want = append(want, last)
			for _, b := range clientFrame(opText, last) {
				if err := c.write([]byte{b}); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < len(want); {
				op, payload, err := c.read()
				if err != nil {
					t.Fatalf("after %d of %d messages: %v", i, len(want), err)
				}
				if op == opPong {
					continue
				}
				if op != opText || !bytes.Equal(payload, want[i]) {
					t.Fatalf("message %d: opcode %d, %.40q; want %.40q", i, op, payload, want[i])
				}
				i++
			}
		})
	}
}

// TestIdleHoldsNoReadChunk: once a connection has read all its input, it
// holds no read-ahead chunk, and gorilla's frame reader is empty.
func TestIdleHoldsNoReadChunk(t *testing.T) {
	t.Parallel()
	type state struct {
		ahead    bool
		buffered int
	}
	states := make(chan state, 4)
	s := newServer(t, Config{}, func(c *Conn) error {
		for {
			msg, err := c.Read()
			if err != nil {
				return err
			}
			states <- state{ahead: c.nc.ahead != nil, buffered: c.nc.gbr.Buffered()}
			if err := c.WriteMessage(context.Background(), TextMessage, msg); err != nil {
				return err
			}
		}
	})
	c := dialRaw(t, s)
	for _, size := range []int{10, frameReaderSize + 1, 2 * readChunkSize} {
		if err := c.write(clientFrame(opText, bytes.Repeat([]byte("x"), size))); err != nil {
			t.Fatal(err)
		}
		if st := <-states; st.ahead || st.buffered != 0 {
			t.Fatalf("after a message of %d bytes, the only input: chunk held %v, %d bytes buffered; want none", size, st.ahead, st.buffered)
		}
		if _, payload, err := c.read(); err != nil || len(payload) != size {
			t.Fatalf("echo of %d bytes: %d bytes, %v", size, len(payload), err)
		}
	}
}

// TestPipelinedRepliesGathered: replies to messages a peer sent together
// reach the socket in a few writes, not one per reply, and in order.
func TestPipelinedRepliesGathered(t *testing.T) {
	t.Parallel()
	conns := make(chan *Conn, 1)
	s := newServer(t, Config{}, func(c *Conn) error {
		conns <- c
		return echo(c)
	})
	c := dialRaw(t, s)
	sc := (<-conns).nc
	if sc == nil || sc.gbr == nil {
		t.Skip("forge's frame reader is not in use")
	}
	const n = 200
	var burst []byte
	for i := range n {
		burst = append(burst, clientFrame(opText, fmt.Appendf(nil, "message %03d", i))...)
	}
	if err := c.write(burst); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		op, payload, err := c.read()
		if err != nil {
			t.Fatalf("after %d of %d replies: %v", i, n, err)
		}
		if want := fmt.Sprintf("message %03d", i); op != opText || string(payload) != want {
			t.Fatalf("reply %d: opcode %d, %q; want %q", i, op, payload, want)
		}
	}
	sc.mu.Lock()
	writes := sc.writes
	sc.mu.Unlock()
	t.Logf("%d replies in %d writes", n, writes)
	if writes > n/2 {
		t.Fatalf("%d replies took %d writes: the replies to pipelined messages were not gathered", n, writes)
	}
}
