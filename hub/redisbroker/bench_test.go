package redisbroker

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgekit/forge/hub/brokertest"
	"github.com/forgekit/forge/internal/redistest"
)

// BenchmarkCrossNode measures Publish on one node to delivery on another,
// through a local redis-server. RoundTrip waits for each message before
// publishing the next (latency); Window keeps up to 128 in flight
// (throughput; the last window is not waited for). RoundTrip also reports
// the hop's p50, p99 and maximum.
func BenchmarkCrossNode(b *testing.B) {
	srv := redistest.Start(b)
	pub := newNode(b, srv.Addr(), false)
	sub := newNode(b, srv.Addr(), false)
	b.Cleanup(func() { _ = pub.Close(); _ = sub.Close() })
	for _, size := range []int{64, 4096} {
		payload := make([]byte, size)
		b.Run("RoundTrip/"+byteSize(size), func(b *testing.B) {
			topic := "bench.rt." + byteSize(size)
			got := make(chan struct{}, 1)
			unsub := mustSubscribe(b, sub, topic, func([]byte) { got <- struct{}{} })
			defer unsub()
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var hops []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := pub.Publish(ctx, topic, payload); err != nil {
					b.Fatal(err)
				}
				select {
				case <-got:
				case <-time.After(10 * time.Second):
					b.Fatal("message not delivered")
				}
				hops = append(hops, time.Since(start))
			}
			brokertest.ReportLatency(b, hops)
		})
		b.Run("Window/"+byteSize(size), func(b *testing.B) {
			const window = 128
			topic := "bench.window." + byteSize(size)
			var received atomic.Int64
			more := make(chan struct{}, 1)
			unsub := mustSubscribe(b, sub, topic, func([]byte) {
				received.Add(1)
				select {
				case more <- struct{}{}:
				default:
				}
			})
			defer unsub()
			ctx := context.Background()
			var sent int64
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for sent-received.Load() >= window {
					select {
					case <-more:
					case <-time.After(10 * time.Second):
						b.Fatal("messages not delivered")
					}
				}
				if err := pub.Publish(ctx, topic, payload); err != nil {
					b.Fatal(err)
				}
				sent++
			}
		})
	}
}

func byteSize(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
