package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/brokertest"
	"github.com/forgekit/forge/internal/redistest"
	"github.com/forgekit/forge/internal/testkit"
)

// testTTL is the presence TTL of the brokers under test, short enough for
// brokertest.MaxPresenceTTL.
const testTTL = 2 * time.Second

// nodes returns a newBroker function for the suites: each call is one
// node, with its own client of addr, closed after its broker.
func nodes(addr string, cluster bool, opts ...Option) func(t *testing.T) hub.Broker {
	return func(t *testing.T) hub.Broker {
		t.Helper()
		return newNode(t, addr, cluster, opts...)
	}
}

func newNode(t testing.TB, addr string, cluster bool, opts ...Option) *Broker {
	t.Helper()
	var client redis.UniversalClient
	if cluster {
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	} else {
		client = redis.NewClient(&redis.Options{Addr: addr})
	}
	t.Cleanup(func() { _ = client.Close() }) // after the broker's Close, registered later
	opts = append([]Option{WithPresenceTTL(testTTL), WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	return New(client, opts...)
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	brokertest.Run(t, nodes(srv.Addr(), false))
}

func TestConformanceCluster(t *testing.T) {
	srv := redistest.StartCluster(t)
	brokertest.Run(t, nodes(srv.Addr(), true))
}

func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	brokertest.Outage(t, nodes(srv.Addr(), false), brokertest.Server{Stop: srv.Stop, Start: srv.Start})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), brokertest.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// TestOnePubSubConnection: a Broker multiplexes every topic over one
// pub/sub connection, subscribes a channel once however many local
// subscriptions it has, and unsubscribes it with the last one.
func TestOnePubSubConnection(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newNode(t, srv.Addr(), false)
	t.Cleanup(func() { _ = b.Close() })
	var unsubs []func() error
	want := []string{b.anchor}
	for i := range 20 {
		topic := fmt.Sprintf("room.%d", i)
		unsubs = append(unsubs, mustSubscribe(t, b, topic, func([]byte) {}))
		unsubs = append(unsubs, mustSubscribe(t, b, topic, func([]byte) {}))
		want = append(want, b.channel(topic))
	}
	waitChannels(t, srv, want)
	if got, err := srv.Do("CLIENT", "LIST", "TYPE", "pubsub"); err != nil || strings.Count(strings.TrimSpace(got), "\n") != 0 || !strings.Contains(got, " sub=21 ") {
		t.Fatalf("CLIENT LIST TYPE pubsub = %q, %v; want one connection holding 21 channels", got, err)
	}
	if got, err := srv.Do("PUBSUB", "NUMSUB", b.channel("room.0")); err != nil || got != b.channel("room.0")+"\n1" {
		t.Fatalf("PUBSUB NUMSUB = %q, %v; want one subscriber", got, err)
	}
	mustUnsubscribe(t, unsubs[0]) // room.0 keeps a subscription
	for _, unsub := range unsubs[2:] {
		mustUnsubscribe(t, unsub)
	}
	waitChannels(t, srv, []string{b.anchor, b.channel("room.0")})
	mustUnsubscribe(t, unsubs[1])
	waitChannels(t, srv, []string{b.anchor})
}

func TestNew(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	testkit.MustPanicCases(t, "forge: ", []testkit.PanicCase{
		{"nil client", func() { New(nil) }, "nil client"},
		{"nil option", func() { New(client, nil) }, "nil Option"},
		{"prefix with an opening brace", func() { WithPrefix("app{") }, "brace"},
		{"prefix with a closing brace", func() { WithPrefix("}app") }, "brace"},
		{"TTL under a millisecond", func() { WithPresenceTTL(time.Microsecond) }, "millisecond"},
	})
}

// TestDefaults: the zero values of the options, seen on a real server.
func TestDefaults(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	b := New(client, WithPrefix(""), WithPresenceTTL(0), WithTimeout(0), WithLogger(nil))
	t.Cleanup(func() { _ = b.Close() })
	ttl, known, err := b.KeepAlive(ctxT(t), "node")
	if err != nil || ttl != 30*time.Second || known {
		t.Fatalf("KeepAlive = %v, %v, %v; want 30s, false, nil", ttl, known, err)
	}
	if pttl, err := client.PTTL(ctxT(t), "forge:{nodes}:node").Result(); err != nil || pttl <= 29*time.Second {
		t.Fatalf("PTTL of the node key = %v, %v", pttl, err)
	}
	mustSubscribe(t, b, "room.lobby", func([]byte) {})
	waitChannels(t, srv, []string{"forge:{pubsub}", "forge:{pubsub}:room.lobby"})
	if b.timeout != 2*time.Second {
		t.Fatalf("timeout %v, want 2s", b.timeout)
	}
}

// TestCloseLeavesClientOpen: Close ends the Broker, not the client.
func TestCloseLeavesClientOpen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	b := New(client)
	mustSubscribe(t, b, "t", func([]byte) {})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(ctxT(t)).Err(); err != nil {
		t.Fatalf("the client after the Broker's Close: %v", err)
	}
	waitChannels(t, srv, nil)
	for name, err := range map[string]error{
		"KeepAlive":      func() error { _, _, err := b.KeepAlive(ctxT(t), "n"); return err }(),
		"UpdatePresence": b.UpdatePresence(ctxT(t), nil),
		"Members":        func() error { _, err := b.Members(ctxT(t), "r"); return err }(),
		"Append":         func() error { _, err := b.Append(ctxT(t), "r", nil, hub.HistoryOptions{Size: 1}); return err }(),
		"Since":          func() error { _, _, err := b.Since(ctxT(t), "r", hub.StreamPosition{}, 0); return err }(),
		"Position":       func() error { _, err := b.Position(ctxT(t), "r"); return err }(),
	} {
		if !errors.Is(err, hub.ErrBrokerClosed) {
			t.Errorf("%s after Close: %v, want hub.ErrBrokerClosed", name, err)
		}
	}
}
