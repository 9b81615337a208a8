package redisbroker

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/brokertest"
	"github.com/forgekit/forge/internal/redistest"
	"github.com/forgekit/forge/internal/testkit"
)

// TestSubscriptionsSurviveRestart: after the server restarts empty, the
// Broker's pub/sub connection comes back subscribed to exactly the
// channels it held (go-redis resubscribes), and delivery resumes.
func TestSubscriptionsSurviveRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	sub, pub := newNode(t, srv.Addr(), false), newNode(t, srv.Addr(), false)
	t.Cleanup(func() { _ = sub.Close(); _ = pub.Close() })
	one, two, gone := testkit.NewInbox(), testkit.NewInbox(), testkit.NewInbox()
	mustSubscribe(t, sub, "one", one.Receive)
	mustSubscribe(t, sub, "two", two.Receive)
	mustSubscribe(t, sub, "two", two.Receive) // a second subscription, same channel
	mustUnsubscribe(t, mustSubscribe(t, sub, "gone", gone.Receive))

	srv.Stop(t)
	testkit.WaitFor(t, "the broker to notice the outage", func() bool { return sub.down.Load() != nil })
	time.Sleep(300 * time.Millisecond) // a few reconnection attempts
	restarted := time.Now()
	srv.Start(t)

	for {
		_ = pub.Publish(context.Background(), "one", []byte("1"))
		_ = pub.Publish(context.Background(), "two", []byte("2"))
		_ = pub.Publish(context.Background(), "gone", []byte("x"))
		if one.Len() > 0 && two.Len() >= 2 {
			break
		}
		if time.Since(restarted) > 3*brokertest.Timeout {
			t.Fatalf("delivery did not resume within %v of the restart", 3*brokertest.Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("delivery resumed %v after the restart", time.Since(restarted).Round(time.Millisecond))
	want := []string{sub.anchor, sub.channel("one"), sub.channel("two")}
	waitChannels(t, srv, want)
	if n := gone.Len(); n != 0 {
		t.Fatalf("an ended subscription received %d messages", n)
	}
}

// TestOutageFailsFast: while Redis is down, calls fail without waiting for
// the client's retries; the durations are logged, not asserted.
func TestOutageFailsFast(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newNode(t, srv.Addr(), false)
	t.Cleanup(func() { _ = b.Close() })
	mustSubscribe(t, b, "held", func([]byte) {})

	srv.Stop(t)
	start := time.Now()
	err := b.Publish(context.Background(), "t", []byte("x"))
	t.Logf("first Publish after the kill: %v after %v", err, time.Since(start).Round(time.Microsecond))
	testkit.WaitFor(t, "the broker to notice the outage", func() bool { return b.down.Load() != nil })

	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"Publish", func() error { return b.Publish(ctx, "t", []byte("x")) }},
		{"Subscribe", func() error { _, err := b.Subscribe(ctx, "new", func([]byte) {}); return err }},
		{"KeepAlive", func() error { _, _, err := b.KeepAlive(ctx, "n"); return err }},
		{"UpdatePresence", func() error {
			return b.UpdatePresence(ctx, []hub.PresenceChange{{Room: "r", Member: hub.Member{Node: "n", ID: "id"}, Present: true}})
		}},
		{"Members", func() error { _, err := b.Members(ctx, "r"); return err }},
		{"Append", func() error { _, err := b.Append(ctx, "r", []byte("x"), hub.HistoryOptions{Size: 1}); return err }},
		{"Since", func() error { _, _, err := b.Since(ctx, "r", hub.StreamPosition{}, 0); return err }},
		{"Position", func() error { _, err := b.Position(ctx, "r"); return err }},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.call()
		if err == nil {
			t.Errorf("%s succeeded while Redis was down", c.name)
			continue
		}
		t.Logf("%s during the outage: %v after %v", c.name, err, time.Since(start).Round(time.Microsecond))
	}
	srv.Start(t)
	testkit.WaitFor(t, "Publish to succeed again", func() bool { return b.Publish(ctx, "t", []byte("x")) == nil })
}

// TestSilentConnectionLoss: a pub/sub connection that stops answering
// without being closed (a vanished host, a cut network) is detected by the
// health check and replaced, subscriptions included.
func TestSilentConnectionLoss(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	proxy := startProxy(t, srv.Addr())
	sub := newNode(t, proxy.addr(), false, withHealthInterval(100*time.Millisecond))
	pub := newNode(t, srv.Addr(), false)
	t.Cleanup(func() { _ = sub.Close(); _ = pub.Close() })
	in := testkit.NewInbox()
	mustSubscribe(t, sub, "topic", in.Receive)
	if err := pub.Publish(context.Background(), "topic", []byte("before")); err != nil {
		t.Fatal(err)
	}
	in.Wait(t, 1)

	proxy.freeze() // connections made so far hang; new ones work
	frozen := time.Now()
	for in.Len() < 2 {
		_ = pub.Publish(context.Background(), "topic", []byte("after"))
		if time.Since(frozen) > brokertest.Timeout {
			t.Fatalf("delivery did not resume within %v of the connection going silent", brokertest.Timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("delivery resumed %v after the connection went silent (health interval 100ms)", time.Since(frozen).Round(time.Millisecond))
}

// proxy forwards TCP connections to a server; freeze makes the
// connections made so far hang without closing them.
type proxy struct {
	l      net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex   // guards the fields below
	conns  []*proxyConn // not frozen yet
	all    []*proxyConn
	closed bool
}

type proxyConn struct {
	client, server net.Conn
	frozen         chan struct{} // closed by freeze
	once           sync.Once
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s, frozen: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns = append(p.conns, pc)
		p.all = append(p.all, pc)
		p.mu.Unlock()
		p.wg.Go(func() { pc.pipe(s, c) })
		p.wg.Go(func() { pc.pipe(c, s) })
	}
}

// pipe copies from src to dst until either fails; once frozen, it stops
// copying and leaves both open.
func (pc *proxyConn) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-pc.frozen:
			return // drop the data, keep the connection
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			} else if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.conns {
		pc.once.Do(func() { close(pc.frozen) })
	}
	p.conns = nil // new connections are not frozen
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	conns := p.all
	p.mu.Unlock()
	p.l.Close()
	for _, pc := range conns {
		pc.client.Close()
		pc.server.Close()
	}
	p.wg.Wait()
}

// waitChannels waits until the server's pub/sub channels of the test are
// exactly want.
func waitChannels(t *testing.T, srv *redistest.Server, want []string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	deadline := time.Now().Add(brokertest.Timeout)
	for {
		reply, err := srv.Do("PUBSUB", "CHANNELS")
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		if reply != "" {
			got = strings.Split(reply, "\n")
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PUBSUB CHANNELS = %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
