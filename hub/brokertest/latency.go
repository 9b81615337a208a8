package brokertest

import (
	"slices"
	"testing"
	"time"
)

// ReportLatency reports the median, 99th percentile and maximum of samples
// as the benchmark metrics p50-µs, p99-µs and max-µs, so a round-trip
// benchmark shows the tail of a cross-node hop, not only its mean. It
// sorts samples in place and reports nothing for an empty slice.
func ReportLatency(b *testing.B, samples []time.Duration) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(q float64) float64 {
		i := int(q * float64(len(samples)-1))
		return float64(samples[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(1), "max-µs")
}
