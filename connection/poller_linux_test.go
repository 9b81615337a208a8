package connection

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestListenPollerFails fails the poller (as an error from epoll_wait
// would) while one listener's callback runs and another is parked: both
// go on in goroutines of their own. Not parallel: the poller is the
// package's.
func TestListenPollerFails(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	release := make(chan struct{})
	got := make(chan string, 4)
	s, conns := listening(t, Config{}, func(_ *Conn, _ MessageType, data []byte) error {
		if string(data) == "hold" {
			<-release
		}
		got <- string(data)
		return nil
	})
	busy := dialRaw(t, s)
	cb := takeConn(t, conns)
	idle := dialRaw(t, s)
	ci := takeConn(t, conns)
	waitParked(t, cb)
	waitParked(t, ci)
	if err := busy.write(maskedFrame(opText, []byte("hold"))); err != nil {
		t.Fatal(err)
	}
	for cb.lis.Load().state.Load() != running {
		time.Sleep(time.Millisecond)
	}
	polling.mu.Lock()
	p := polling.p
	polling.mu.Unlock()
	p.failAll()
	defer p.stop() // failAll, called here, leaves the goroutine running
	close(release)
	expect := func(want string) {
		t.Helper()
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("got %q, want %q", g, want)
			}
		case <-time.After(hangGuard):
			t.Fatalf("no %q: a listener is stranded", want)
		}
	}
	expect("hold")
	for _, rc := range []*rawClient{busy, idle} {
		if err := rc.write(maskedFrame(opText, []byte("after"))); err != nil {
			t.Fatal(err)
		}
		expect("after")
	}
}

// TestListenSlowCallbackSparesOthers: a callback that waits (here until
// the test releases it) holds up no other listening connection, whether
// it runs in a worker or in the poller's own goroutine (see poller.run),
// which hands the waiting to a successor after inlineBudget. Each round
// has the waiting connection resumed alone, as the poller runs one itself.
func TestListenSlowCallbackSparesOthers(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	echoed := make(chan string, 16)
	s, conns := listening(t, Config{}, func(c *Conn, typ MessageType, data []byte) error {
		if string(data) == "wait" {
			<-release
			return nil
		}
		echoed <- string(data)
		return nil
	})
	const n = 4
	waiting := make([]*rawClient, n)
	for i := range waiting {
		waiting[i] = dialRaw(t, s)
		waitParked(t, takeConn(t, conns))
	}
	other := dialRaw(t, s)
	waitParked(t, takeConn(t, conns))
	for i, rc := range waiting {
		if err := rc.write(maskedFrame(opText, []byte("wait"))); err != nil {
			t.Fatal(err)
		}
		// The others' reports come one by one: the poller may run each.
		msg := fmt.Sprintf("after %d waiting", i+1)
		if err := other.write(maskedFrame(opText, []byte(msg))); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-echoed:
			if got != msg {
				t.Fatalf("got %q, want %q", got, msg)
			}
		case <-time.After(hangGuard):
			t.Fatalf("no %q: a waiting callback holds up another connection", msg)
		}
	}
}

// TestListenCallbackGoexitSparesPoller: a callback that ends its goroutine
// (runtime.Goexit, as t.FailNow does) strands its own connection, as it
// would in a worker, but not the others: when it ran in the poller's own
// goroutine (see poller.run), another takes over the waiting. Not
// parallel: the poller is the package's.
func TestListenCallbackGoexitSparesPoller(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	exiting := make(chan struct{}, 1)
	s, conns := listening(t, Config{}, func(c *Conn, typ MessageType, data []byte) error {
		if string(data) == "exit" {
			exiting <- struct{}{}
			runtime.Goexit()
		}
		return c.WriteMessage(context.Background(), typ, data)
	})
	quitter := dialRaw(t, s)
	cq := takeConn(t, conns)
	other := dialRaw(t, s)
	co := takeConn(t, conns)
	waitParked(t, cq)
	waitParked(t, co)
	// Reported alone, the message is run by the poller's goroutine itself.
	if err := quitter.write(maskedFrame(opText, []byte("exit"))); err != nil {
		t.Fatal(err)
	}
	<-exiting
	// The stranded connection is put back as if it had parked, so that
	// it ends with the test.
	defer func() {
		l := cq.lis.Load()
		for l.inFn.Load() {
			time.Sleep(time.Millisecond)
		}
		l.state.Store(parked)
		l.resume()
	}()
	if err := other.write(maskedFrame(opText, []byte("hello"))); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		_, p, err := other.read()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(p)
	}()
	select {
	case g := <-got:
		if g != "hello" {
			t.Fatalf("got %q, want the echo", g)
		}
	case <-time.After(5 * time.Second):
		// Have a goroutine wait on the instance again, so that the test's
		// end does not hang too.
		polling.mu.Lock()
		p := polling.p
		polling.mu.Unlock()
		p.succeed(p.leader.Load())
		<-got
		t.Fatal("no echo: the goroutine a callback ended was the poller's, and nothing waits on the instance")
	}
}

// TestListenSlowMarkedWhenBudgetPasses: a connection whose callback runs
// in the poller's goroutine past inlineBudget is marked slow by the time
// the successor waits on the instance, not only once the callback
// returned: a report for it that the successor takes after it parks, and
// before the replaced goroutine gets to mark it, must not have the
// successor run it too. Not parallel: the poller is the package's.
func TestListenSlowMarkedWhenBudgetPasses(t *testing.T) {
	if !canPoll {
		t.Skip("no poller on this platform")
	}
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	got := make(chan string, 2)
	s, conns := listening(t, Config{}, func(_ *Conn, _ MessageType, data []byte) error {
		if string(data) == "hold" {
			entered <- struct{}{}
			<-release
		}
		got <- string(data)
		return nil
	})
	rc := dialRaw(t, s)
	c := takeConn(t, conns)
	waitParked(t, c)
	polling.mu.Lock()
	p := polling.p
	polling.mu.Unlock()
	gen := p.leader.Load()
	// Reported alone, the message is run by the poller's goroutine itself.
	if err := rc.write(maskedFrame(opText, []byte("hold"))); err != nil {
		t.Fatal(err)
	}
	<-entered
	deadline := time.Now().Add(hangGuard)
	for p.leader.Load() == gen {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("no successor: the callback did not run in the poller's goroutine")
		}
		time.Sleep(time.Millisecond)
	}
	// The callback still waits: whatever marks the connection must have
	// done it by now, give or take the scheduler.
	l := c.lis.Load()
	for wait := time.Now().Add(2 * time.Second); !l.isSlow() && time.Now().Before(wait); {
		time.Sleep(time.Millisecond)
	}
	slow := l.isSlow()
	close(release)
	if !slow {
		t.Error("a successor waits, but the connection whose callback outlasted the budget is not marked slow")
	}
	for _, m := range []string{"hold", "after"} {
		if m == "after" {
			if err := rc.write(maskedFrame(opText, []byte(m))); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case g := <-got:
			if g != m {
				t.Fatalf("got %q, want %q", g, m)
			}
		case <-time.After(hangGuard):
			t.Fatalf("no %q", m)
		}
	}
}
