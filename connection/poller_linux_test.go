package connection

import (
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
