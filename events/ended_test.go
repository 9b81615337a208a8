package events

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
)

// TestHandlerEndedWithItsConnection: a handler whose request to the client
// fails because the client left is not a server fault: it is logged at
// Debug, not at Error, and the dispatcher neither answers nor counts it.
func TestHandlerEndedWithItsConnection(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	d := New(WithLogger(testkit.TextLogger(&logs)))
	confirm := Requests[question, answer](d, "confirm")
	ended := make(chan error, 1)
	On(d, "delete", func(c *Context, _ struct{}) error {
		_, err := confirm.Do(c.Context(), c, question{Q: "sure?"})
		ended <- err
		return err
	})
	srv := serve(t, d)
	c := dial(t, srv, "/ws")
	c.SendEvent("delete", "", nil)
	if req := c.recv(); req.Event != "confirm" {
		t.Fatalf("got %+v, want the confirm request", req)
	}
	c.Close() // and never answer
	if err := <-ended; !errors.Is(err, ErrClosed) {
		t.Fatalf("Do returned %v, want ErrClosed", err)
	}
	testkit.WaitFor(t, "the handler's end to be logged", func() bool {
		return strings.Contains(logs.String(), "event handler ended with its connection")
	})
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a client leaving during a request was logged as an error:\n%s", logs.String())
	}
	if st := d.Stats(); st.Failed != 0 {
		t.Errorf("Stats().Failed = %d, want 0", st.Failed)
	}
}

// TestCloseAfterRequestTimeout has a handler close the connection when
// the client does not answer its request in time: the close frame goes
// out at once, although the request's read still waits for a message,
// and the disconnect hook runs.
func TestCloseAfterRequestTimeout(t *testing.T) {
	t.Parallel()
	disconnected := make(chan struct{})
	d := New(quiet(), WithRequestTimeout(20*time.Millisecond),
		WithOnDisconnect(func(*Context) { close(disconnected) }))
	confirm := Requests[question, answer](d, "confirm")
	On(d, "delete", func(c *Context, _ struct{}) error {
		if _, err := confirm.Do(c.Context(), c, question{Q: "sure?"}); !errors.Is(err, ErrRequestTimeout) {
			return err
		}
		return &connection.CloseError{Code: 4008, Reason: "no answer"}
	})
	c := dial(t, serve(t, d), "/ws")
	c.SendEvent("delete", "", nil)
	if req := c.recv(); req.Event != "confirm" {
		t.Fatalf("got %+v, want the confirm request", req)
	}
	// The client says nothing more.
	c.ExpectClose(4008)
	<-disconnected
	testkit.WaitFor(t, "the connection to be uncounted", func() bool { return d.Stats().Connections == 0 })
}

// TestCloseWhileGoroutineAsks has a handler close the connection while a
// GoSafe goroutine waits for the client's reply to its request: the close
// frame goes out at once, not when the request times out, and the
// request ends with ErrClosed.
func TestCloseWhileGoroutineAsks(t *testing.T) {
	t.Parallel()
	asked := make(chan error, 1)
	d := New(quiet(), WithRequestTimeout(time.Minute))
	confirm := Requests[question, answer](d, "confirm")
	On(d, "start", func(c *Context, _ struct{}) error {
		c.GoSafe(c.ConnContext(), func(ctx context.Context) {
			_, err := confirm.Do(ctx, c, question{Q: "later?"})
			asked <- err
		})
		return nil
	})
	On(d, "quit", func(*Context, struct{}) error {
		return &connection.CloseError{Code: 4009, Reason: "bye"}
	})
	c := dial(t, serve(t, d), "/ws")
	c.SendEvent("start", "", nil)
	if req := c.recv(); req.Event != "confirm" {
		t.Fatalf("got %+v, want the confirm request", req)
	}
	c.SendEvent("quit", "", nil)
	c.ExpectClose(4009)
	if err := <-asked; !errors.Is(err, ErrClosed) {
		t.Fatalf("Do returned %v, want ErrClosed", err)
	}
}
