package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAfterEnd checks that what afterEnd (connhook.AfterEnd) registers
// runs once the connection's context ended, whichever way it ends, each
// function once, and at once when registered after the end.
func TestAfterEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, s *server, c *Conn)
	}{
		{"server closes", func(t *testing.T, s *server, c *Conn) { c.Close() }},
		{"peer closes", func(t *testing.T, s *server, c *Conn) {}}, // the client's Close below
		{"shutdown", func(t *testing.T, s *server, c *Conn) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			s.tracker.Shutdown(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ran [2]atomic.Int32
			registered := make(chan *Conn, 1)
			s := newServer(t, Config{}, func(c *Conn) error {
				for i := range ran {
					if !afterEnd(c, func() {
						if c.Context().Err() == nil {
							t.Error("a hook ran before the context ended")
						}
						ran[i].Add(1)
					}) {
						t.Error("afterEnd refused a *Conn")
					}
				}
				registered <- c
				_, err := c.Read()
				return err
			})
			ws := dial(t, s, nil)
			read := make(chan struct{})
			go func() { // answers the server's close frame
				defer close(read)
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
			c := <-registered
			if got := ran[0].Load() + ran[1].Load(); got != 0 {
				t.Fatalf("%d hooks ran while the connection was open", got)
			}
			tc.end(t, s, c)
			ws.Close()
			<-read
			waitErr(t, s)
			<-c.Context().Done()
			for i := range ran {
				if got := ran[i].Load(); got != 1 {
					t.Errorf("hook %d ran %d times, want 1", i, got)
				}
			}
			late := false
			if !afterEnd(c, func() { late = true }) || !late {
				t.Error("a hook registered after the end did not run at once")
			}
		})
	}
}

// TestAfterEndRacesTheEnd registers hooks while the connection ends: each
// runs exactly once, however the two interleave.
func TestAfterEndRacesTheEnd(t *testing.T) {
	t.Parallel()
	const hooks = 200
	var ran atomic.Int32
	var wg sync.WaitGroup
	s := newServer(t, Config{}, func(c *Conn) error {
		for range 4 {
			wg.Go(func() {
				for range hooks / 4 {
					afterEnd(c, func() { ran.Add(1) })
				}
			})
		}
		time.Sleep(time.Millisecond)
		c.Close()
		wg.Wait()
		return nil
	})
	ws := dial(t, s, nil)
	defer ws.Close()
	waitErr(t, s)
	if got := ran.Load(); got != hooks {
		t.Fatalf("%d hooks ran, want %d", got, hooks)
	}
}

func TestAfterEndNotAConn(t *testing.T) {
	t.Parallel()
	if afterEnd(nil, func() { t.Error("ran") }) {
		t.Fatal("afterEnd accepted a connection that is not a *Conn")
	}
}

// TestAfterEndRanWhenEndReturns ends a connection from two goroutines at
// once: the second end must not return before the hooks have run, as a
// second cancel of a parent context does not return before the first has
// cancelled its children. Otherwise a Write that finds the connection
// closing (after a Close that returned) can see a tied context still
// live: the events session then takes its own connection's ErrClosed for
// a handler failure. The first end is held inside a hook (as a preempted
// goroutine, or one waiting for the lock of a router's auth timer, would
// be) while the second runs; it is not under wmu (a read that found the
// peer gone, an abort). The second end may wait for the hook: it is let
// go after a while, which only makes the test pass where it would fail.
func TestAfterEndRanWhenEndReturns(t *testing.T) {
	t.Parallel()
	got := make(chan error, 1)
	s := newServer(t, Config{}, func(c *Conn) error {
		tied, cancel := context.WithCancel(context.WithoutCancel(c.Context()))
		afterEnd(c, cancel) // runs after the one below
		entered, release := make(chan struct{}), make(chan struct{})
		afterEnd(c, func() { close(entered); <-release })
		first := make(chan struct{})
		go func() { defer close(first); c.abort() }()
		select {
		case <-entered:
		case <-time.After(hangGuard):
			got <- errors.New("the first end ran no hook")
			close(release)
			return nil
		}
		second := make(chan error, 1)
		go func() {
			c.Close()
			err := c.Write([]byte("x"))
			switch {
			case !errors.Is(err, ErrClosed):
				second <- fmt.Errorf("Write after Close: %v, want ErrClosed", err)
			case tied.Err() == nil:
				second <- errors.New("Close returned and Write failed with ErrClosed, but the hooks have not run: the tied context is live")
			default:
				second <- nil
			}
		}()
		var err error
		select {
		case err = <-second:
			close(release)
		case <-time.After(200 * time.Millisecond): // it waits for the hook
			close(release)
			err = <-second
		}
		got <- err
		<-first
		return nil
	})
	ws := dial(t, s, nil)
	defer ws.Close()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	waitErr(t, s)
}

// TestReadErrorAfterContextEnd checks that a read's terminal error is
// visible to other readers only once the connection's context has ended:
// an event session tells a request that its connection ended from one
// that failed by looking at its context. The test's logger holds the
// reader that failed in its log record, and another goroutine reads then.
func TestReadErrorAfterContextEnd(t *testing.T) {
	t.Parallel()
	inLog, release := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	defer unblock() // a failed check must not leave the reader in the log
	log := slog.New(&blockingHandler{msg: "websocket read ended", in: inLog, release: release})
	ctxErr := make(chan error, 1)
	s := newServer(t, Config{Logger: log}, func(c *Conn) error {
		go func() {
			<-inLog
			_, err := c.Read()
			if err == nil {
				ctxErr <- errors.New("the second read returned a message")
				return
			}
			ctxErr <- c.Context().Err()
		}()
		_, err := c.Read()
		return err
	})
	ws := dial(t, s, nil)
	ws.UnderlyingConn().Close() // a drop, without a close frame
	select {
	case err := <-ctxErr:
		if err == nil {
			t.Fatal("another reader got the read's error while the connection's context was live")
		}
	case <-time.After(hangGuard):
		t.Fatal("no second read")
	}
	unblock()
	waitErr(t, s)
}

// blockingHandler is a slog handler that, at the first record whose
// message is msg, closes in and waits for release.
type blockingHandler struct {
	msg         string
	in, release chan struct{}
	once        sync.Once
}

func (h *blockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *blockingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *blockingHandler) WithGroup(string) slog.Handler            { return h }
func (h *blockingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() {
			close(h.in)
			<-h.release
		})
	}
	return nil
}

// TestSlowConsumerErrorAfterContextEnd has two writers wait on a full
// queue until both time out: the second must not return ErrSlowConsumer
// while the first, which counts the slow consumer, has not yet closed the
// connection (the test's logger holds it there) and its context is live.
func TestSlowConsumerErrorAfterContextEnd(t *testing.T) {
	t.Parallel()
	inLog, release := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	defer unblock()
	log := slog.New(&blockingHandler{msg: "websocket slow consumer closed", in: inLog, release: release})
	type result struct{ err, ctxErr error }
	results := make(chan result, 2)
	s := newServer(t, Config{Logger: log, QueueBytes: 16 << 10, WriteTimeout: 200 * time.Millisecond}, func(c *Conn) error {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				payload := bytes.Repeat([]byte("z"), 8<<10)
				for {
					if err := c.Write(payload); err != nil {
						results <- result{err, c.Context().Err()}
						return
					}
				}
			})
		}
		wg.Wait()
		return nil
	})
	ws := dial(t, s, nil) // never reads
	defer ws.Close()
	select {
	case <-inLog:
	case <-time.After(hangGuard):
		t.Fatal("no slow consumer")
	}
	select {
	case r := <-results:
		if !errors.Is(r.err, ErrSlowConsumer) && !errors.Is(r.err, ErrClosed) {
			t.Fatalf("the second writer got %v, want ErrSlowConsumer or ErrClosed", r.err)
		}
		if r.ctxErr == nil {
			t.Fatalf("the second writer got %v while the connection's context was live", r.err)
		}
	case <-time.After(hangGuard):
		t.Fatal("the second writer did not return")
	}
	unblock()
	<-results
	waitErr(t, s)
}
