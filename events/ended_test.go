package events

import (
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
