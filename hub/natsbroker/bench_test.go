package natsbroker_test

import (
	"context"
	"testing"
	"time"

	"github.com/forgekit/forge/hub/brokertest"
	"github.com/forgekit/forge/hub/natsbroker"
	"github.com/forgekit/forge/hub/natsbroker/natstest"
)

// BenchmarkPublishDelivery measures a message from Publish on one node to
// the subscription on another, through the embedded server. Allocations
// include the server's, since it runs in the benchmark's process.
func BenchmarkPublishDelivery(b *testing.B) {
	srv := natstest.Start(b)
	node := func() *natsbroker.Broker {
		br, err := natsbroker.New(srv.Connect(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { br.Close() })
		return br
	}
	pub, sub := node(), node()
	ctx := context.Background()
	payload := make([]byte, 128)
	got := make(chan struct{}, 1024)
	unsub, err := sub.Subscribe(ctx, "bench room", func([]byte) { got <- struct{}{} })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unsub() })

	// One message in flight: the latency of a cross-node delivery, with
	// its p50, p99 and maximum.
	b.Run("OneByOne", func(b *testing.B) {
		b.ReportAllocs()
		var hops []time.Duration
		for b.Loop() {
			start := time.Now()
			if err := pub.Publish(ctx, "bench room", payload); err != nil {
				b.Fatal(err)
			}
			<-got
			hops = append(hops, time.Since(start))
		}
		brokertest.ReportLatency(b, hops)
	})
	// Batches of 100: the throughput of one publisher to one subscriber.
	b.Run("Batch100", func(b *testing.B) {
		const batch = 100
		b.ReportAllocs()
		for b.Loop() {
			for range batch {
				if err := pub.Publish(ctx, "bench room", payload); err != nil {
					b.Fatal(err)
				}
			}
			for range batch {
				<-got
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/msg")
	})
}
