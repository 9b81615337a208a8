package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestStreamingCopy(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		_, err := io.Copy(c.NewWriter(TextMessage), c.NewReader())
		return err // nil: the reader ends with io.EOF on a normal close
	})
	ws := dial(t, s, nil)
	var sent strings.Builder
	for i := range 50 {
		chunk := fmt.Sprintf("chunk-%d;", i)
		sent.WriteString(chunk)
		ws.WriteMessage(websocket.TextMessage, []byte(chunk))
	}
	var got strings.Builder
	for got.Len() < sent.Len() {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got.Write(data)
	}
	if got.String() != sent.String() {
		t.Fatalf("stream mismatch")
	}
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	if code, _ := readClose(t, ws); code != 1000 {
		t.Fatalf("close %d", code)
	}
	if err := waitErr(t, s); err != nil {
		t.Fatalf("io.Copy returned %v, want nil at a normal close", err)
	}
}

type status struct {
	Version int    `json:"version"`
	State   string `json:"state"`
}

func TestPeriodicWriteSkipsUnchanged(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	s := newServer(t, Config{}, func(c *Conn) error {
		return c.PeriodicWrite(5*time.Millisecond, func() (any, error) {
			n := calls.Add(1)
			return status{Version: int(n) / 10, State: "ok"}, nil // changes every 10 calls
		})
	})
	ws := dial(t, s, nil)
	for want := range 4 {
		var st status
		if err := ws.ReadJSON(&st); err != nil {
			t.Fatal(err)
		}
		if st.Version != want {
			t.Fatalf("version %d, want %d: unchanged values must be skipped", st.Version, want)
		}
	}
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	readClose(t, ws)
	if err := waitErr(t, s); err != nil {
		t.Fatalf("PeriodicWrite returned %v when the connection ended, want nil", err)
	}
	if calls.Load() < 30 {
		t.Fatalf("get called %d times", calls.Load())
	}
}

func TestPeriodicWriteCustomComparatorAndError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	boom := errors.New("source failed")
	s := newServer(t, Config{}, func(c *Conn) error {
		err := c.PeriodicWrite(2*time.Millisecond, func() (any, error) {
			n := calls.Add(1)
			if n == 12 {
				return nil, boom
			}
			return &status{Version: int(n) / 5, State: fmt.Sprint(n)}, nil
		}, func(last, cur any) bool { return last.(*status).Version == cur.(*status).Version })
		if !errors.Is(err, boom) {
			return fmt.Errorf("got %v, want the source error", err)
		}
		return &CloseError{Code: 4000, Reason: "source failed"}
	})
	ws := dial(t, s, nil)
	var versions []int
	for {
		var st status
		if err := ws.ReadJSON(&st); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 4000 {
				t.Fatalf("end: %v", err)
			}
			break
		}
		versions = append(versions, st.Version)
	}
	if fmt.Sprint(versions) != "[0 1 2]" {
		t.Fatalf("versions %v, want [0 1 2] (one per comparator change, stopped at the error)", versions)
	}
}

func TestPeriodicWriteStopsWhenPeerLeaves(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		return c.PeriodicWrite(time.Hour, func() (any, error) { return "hello", nil })
	})
	ws := dial(t, s, nil)
	ws.ReadMessage()
	ws.NetConn().Close() // TCP drop, no close frame
	if err := waitErr(t, s); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}

func TestOfferPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy   Policy
		wantSlow uint64
	}{
		{PolicyClose, 1},
		{PolicyDropOldest, 0},
		{PolicyDropNewest, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.policy), func(t *testing.T) {
			t.Parallel()
			offered := make(chan int, 1)
			s := newServer(t, Config{QueueBytes: 4 << 10, SlowConsumer: tt.policy}, func(c *Conn) error {
				pm, _ := NewPreparedMessage(BinaryMessage, make([]byte, 1<<10))
				refused := 0
				for range 5000 { // far more than socket buffers and the queue hold
					if !c.Offer(pm) {
						refused++
					}
				}
				offered <- refused
				<-c.Context().Done()
				return nil
			})
			ws := dial(t, s, nil)
			refused := <-offered
			if refused == 0 && tt.policy != PolicyDropOldest { // drop-oldest queues the new one
				t.Fatal("every offer was queued to a peer that never reads")
			}
			st := s.tracker.Stats()
			if st.SlowConsumers != tt.wantSlow {
				t.Fatalf("slow consumers %d, want %d", st.SlowConsumers, tt.wantSlow)
			}
			if tt.policy != PolicyClose && st.Dropped == 0 {
				t.Fatal("drops were not counted")
			}
			if tt.policy != PolicyClose {
				ws.Close()
			}
		})
	}
}

func TestReadMessageContextCanceled(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, func(c *Conn) error {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := c.ReadMessage(ctx); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("got %v", err)
		}
		return nil
	})
	ws := dial(t, s, nil)
	if code, reason := readClose(t, ws); code != 1000 {
		t.Fatalf("close %d %s", code, reason)
	}
}
