package middleware

import (
	"net/netip"
	"testing"
	"time"
)

// TestRateLimitTimeOrder: a request reads the clock before it takes the
// limiter's lock, so under load one may bring a time before the last
// request's. The bucket must not refill twice for that span: at most
// burst + limit × elapsed requests pass, whatever the order.
func TestRateLimitTimeOrder(t *testing.T) {
	l := NewRateLimiter(1, 2)
	key := netip.MustParsePrefix("192.0.2.1/32")
	t0 := time.Unix(1000, 0)
	passed := 0
	for _, at := range []time.Duration{0, time.Second, 500 * time.Millisecond, 1500 * time.Millisecond} {
		if l.allow(key, t0.Add(at)) == 0 {
			passed++
		}
	}
	// 2 in the bucket, 1.5 refilled by t0+1.5s.
	if passed > 3 {
		t.Errorf("%d requests passed in 1.5 s with a burst of 2 and 1 per second, want at most 3", passed)
	}
}
