package connection

import (
	"context"
	"testing"

	"github.com/gorilla/websocket"
)

// TestWriteCopiesOnlyWhatItQueues: Write lets the caller reuse its slice
// once it returns, whether the message went out at once or was queued;
// a message written at once is not copied (forge's code allocates
// nothing for it; gorilla's pooled write buffer costs one allocation when
// it goes back to the pool).
func TestWriteCopiesOnlyWhatItQueues(t *testing.T) {
	allocs := make(chan float64, 1)
	s := newServer(t, Config{}, func(c *Conn) error {
		buf := []byte("inline 0")
		allocs <- testing.AllocsPerRun(50, func() {
			if err := c.Write(buf); err != nil {
				t.Error(err)
			}
		})
		copy(buf, "XXXXXXXX")
		// A write with a context that can end is queued for the writer.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		queued := []byte("queued 0")
		if err := c.WriteMessage(ctx, TextMessage, queued); err != nil {
			return err
		}
		copy(queued, "YYYYYYYY")
		_, err := c.Read()
		return err
	})
	ws := dial(t, s, nil)
	if got := <-allocs; got > 1 {
		t.Errorf("Write written at once: %.1f allocations, want at most gorilla's 1", got)
	}
	for i := range 51 {
		_, msg, err := ws.ReadMessage()
		if err != nil || string(msg) != "inline 0" {
			t.Fatalf("message %d: %q, %v; want the bytes as they were when Write was called", i, msg, err)
		}
	}
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "queued 0" {
		t.Fatalf("queued message: %q, %v; want \"queued 0\"", msg, err)
	}
	ws.WriteMessage(websocket.TextMessage, []byte("bye"))
}
