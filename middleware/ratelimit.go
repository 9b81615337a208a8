package middleware

import (
	"container/list"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/forgekit/forge/internal/problem"
)

// DefaultRateLimitClients is how many clients a RateLimiter tracks at most
// unless RateLimitMaxClients says otherwise: under 3 MB of memory (about
// 270 bytes per client, measured on amd64).
const DefaultRateLimitClients = 10_000

// evictPerRequest is how many idle clients a request may evict. Each
// request adds at most one client, so idle ones are dropped faster than
// new ones come, without a background goroutine.
const evictPerRequest = 2

// RateLimiter limits how often each client may make requests, WebSocket
// handshakes included (they are GET requests), with a token bucket per
// client from golang.org/x/time/rate. A request over the limit is answered
// 429 with a problem+json body and Retry-After, before any upgrade, and
// counted; the other clients keep being served.
//
// A client is an IPv4 address, or an IPv6 /64 (one subscriber's network:
// an attacker with one IPv6 address has billions more in the same /64).
// It comes from the request's RemoteAddr, or from X-Forwarded-For or
// X-Real-IP when the peer is a trusted proxy (RateLimitTrustedProxies).
// Requests whose client cannot be determined (a Unix socket peer) share
// one bucket.
//
// Memory is bounded: a client idle long enough for its bucket to refill is
// forgotten lazily during later requests (forgetting it changes nothing),
// and past RateLimitMaxClients the least recently seen client is forgotten
// (it gets a full bucket back). There is no background goroutine.
//
// Create it with NewRateLimiter; its methods are safe for concurrent use.
// Handler is the middleware, for App.Router().Use, a group's Use, or a
// route's WithMiddleware; one RateLimiter shared by several routes gives
// them one budget.
type RateLimiter struct {
	limit      rate.Limit
	burst      int
	idle       time.Duration // time for an empty bucket to refill
	maxClients int
	proxies    []netip.Prefix
	rejected   atomic.Uint64

	mu      sync.Mutex // guards clients and lru
	clients map[netip.Prefix]*list.Element
	lru     list.List // of *rateClient, most recently seen first
}

type rateClient struct {
	key  netip.Prefix
	lim  *rate.Limiter
	seen time.Time
}

// RateLimitOption configures a RateLimiter. A malformed value panics where
// the option is built, as forge's other setup mistakes do.
type RateLimitOption func(*RateLimiter)

// RateLimitTrustedProxies makes the RateLimiter believe X-Forwarded-For
// and X-Real-IP when, and only when, the request comes from one of the
// given networks (CIDRs such as "10.0.0.0/8", or single addresses): the
// load balancers in front of the app. The client is then the rightmost
// X-Forwarded-For address that is not itself a trusted proxy (addresses
// to its left are whatever the client claimed), or X-Real-IP when there
// is no X-Forwarded-For. From any other peer these headers are ignored:
// believing them would let every client pick its own bucket. A value that
// is neither a CIDR nor an address panics.
func RateLimitTrustedProxies(cidrs ...string) RateLimitOption {
	proxies := make([]netip.Prefix, 0, len(cidrs))
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				panic(fmt.Sprintf("forge: rate limit: trusted proxy %q is neither a CIDR nor an address", s))
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		proxies = append(proxies, p.Masked())
	}
	return func(l *RateLimiter) { l.proxies = append(l.proxies, proxies...) }
}

// RateLimitMaxClients bounds how many clients the RateLimiter tracks at
// once (DefaultRateLimitClients by default); n must be positive.
func RateLimitMaxClients(n int) RateLimitOption {
	if n < 1 {
		panic(fmt.Sprintf("forge: rate limit: max clients %d is not positive", n))
	}
	return func(l *RateLimiter) { l.maxClients = n }
}

// NewRateLimiter returns a RateLimiter that lets each client make limit
// requests per second on average, in bursts of up to burst:
// NewRateLimiter(rate.Every(time.Second), 20) allows 20 requests at once,
// then one per second. A limit that is not positive and finite, a burst
// below 1 or a nil option panics, as forge's setup mistakes do.
func NewRateLimiter(limit rate.Limit, burst int, opts ...RateLimitOption) *RateLimiter {
	if !(limit > 0) || limit == rate.Inf || math.IsInf(float64(limit), 0) {
		panic(fmt.Sprintf("forge: rate limit: limit %v is not positive and finite", limit))
	}
	if burst < 1 {
		panic(fmt.Sprintf("forge: rate limit: burst %d is below 1", burst))
	}
	l := &RateLimiter{
		limit:      limit,
		burst:      burst,
		maxClients: DefaultRateLimitClients,
		clients:    make(map[netip.Prefix]*list.Element),
	}
	for _, o := range opts {
		if o == nil {
			panic("forge: rate limit: nil option")
		}
		o(l)
	}
	// Capped far beyond any useful idle time, so that the conversion to
	// a Duration stays defined for tiny limits.
	refill := math.Ceil(float64(burst) / float64(limit) * float64(time.Second))
	l.idle = time.Duration(min(refill, float64(1<<62)))
	return l
}

// Handler is the rate-limiting middleware.
func (l *RateLimiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wait := l.allow(l.clientKey(r), time.Now())
		if wait == 0 {
			next.ServeHTTP(w, r)
			return
		}
		l.rejected.Add(1)
		secs := int64(max(math.Ceil(wait), 1))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		problem.Write(w, http.StatusTooManyRequests,
			fmt.Sprintf("too many requests from this client: retry in %d s", secs))
	})
}

// Rejected returns how many requests were refused with 429.
func (l *RateLimiter) Rejected() uint64 { return l.rejected.Load() }

// Clients returns how many clients are tracked now, at most the
// RateLimitMaxClients bound.
func (l *RateLimiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// allow takes a token from key's bucket and returns 0, or returns how many
// seconds (more than 0) until there is one.
func (l *RateLimiter) allow(key netip.Prefix, now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range evictPerRequest {
		e := l.lru.Back()
		if e == nil || now.Sub(e.Value.(*rateClient).seen) < l.idle {
			break
		}
		l.forget(e)
	}
	var c *rateClient
	if e, ok := l.clients[key]; ok {
		c = e.Value.(*rateClient)
		// now was read before the lock, so a request that waited for it
		// may bring a time before the last one's; x/time/rate would then
		// refill the bucket for that span twice.
		if now.Before(c.seen) {
			now = c.seen
		}
		c.seen = now
		l.lru.MoveToFront(e)
	} else {
		if len(l.clients) >= l.maxClients {
			l.forget(l.lru.Back())
		}
		c = &rateClient{key: key, lim: rate.NewLimiter(l.limit, l.burst), seen: now}
		l.clients[key] = l.lru.PushFront(c)
	}
	if c.lim.AllowN(now, 1) {
		return 0
	}
	// Capped so that Retry-After stays an int64 for tiny limits.
	wait := (1 - c.lim.TokensAt(now)) / float64(l.limit)
	return min(max(wait, math.SmallestNonzeroFloat64), 1<<31)
}

// forget drops a client. l.mu must be held.
func (l *RateLimiter) forget(e *list.Element) {
	delete(l.clients, e.Value.(*rateClient).key)
	l.lru.Remove(e)
}

// clientKey returns the bucket key of r's client: its IPv4 address or
// IPv6 /64, or the zero Prefix when unknown.
func (l *RateLimiter) clientKey(r *http.Request) netip.Prefix {
	a := l.clientAddr(r)
	switch {
	case !a.IsValid():
		return netip.Prefix{}
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	default:
		p, _ := a.Prefix(64)
		return p
	}
}

// clientAddr returns the address of r's client, per the trust rules of
// RateLimitTrustedProxies.
func (l *RateLimiter) clientAddr(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !l.trusted(peer) {
		return peer
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		hops := strings.Split(strings.Join(xff, ","), ",")
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			a := parseAddr(strings.TrimSpace(hops[i]))
			if !a.IsValid() {
				break // garbage behind a trusted proxy: stop at the last good hop
			}
			client = a
			if !l.trusted(a) {
				break
			}
		}
		return client
	}
	if a := parseAddr(strings.TrimSpace(r.Header.Get("X-Real-Ip"))); a.IsValid() {
		return a
	}
	return peer
}

func (l *RateLimiter) trusted(a netip.Addr) bool {
	for _, p := range l.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr parses "ip", "ip:port" or "[ipv6]:port", without a zone, as
// an unmapped address; the zero Addr when it is none of these.
func parseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap()
}
