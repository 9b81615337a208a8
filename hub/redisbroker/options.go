package redisbroker

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults of the options.
const (
	defaultPrefix      = "forge:"
	defaultPresenceTTL = 30 * time.Second
	defaultTimeout     = 2 * time.Second
)

// healthInterval is how long the pub/sub connection may stay silent before
// the Broker pings Redis; a ping unanswered for another interval gets the
// connection replaced.
const healthInterval = 3 * time.Second

// Option configures a Broker. An option whose value no program should
// pass panics where it is built, as forge's registration mistakes do.
type Option func(*config)

type config struct {
	prefix  string
	ttl     time.Duration
	timeout time.Duration
	log     *slog.Logger
	health  time.Duration
}

// WithPrefix sets the text that starts every key and channel name the
// Broker uses, so that several applications can share a Redis; "" keeps
// the default, "forge:". Brokers that talk to each other need the same
// prefix. It may not contain '{' or '}', which would change the cluster
// hash slots the Broker relies on: such a prefix panics.
func WithPrefix(prefix string) Option {
	if strings.ContainsAny(prefix, "{}") {
		panic(fmt.Sprintf("forge: redisbroker: WithPrefix: prefix %q contains a brace", prefix))
	}
	return func(c *config) {
		if prefix != "" {
			c.prefix = prefix
		}
	}
}

// WithPresenceTTL sets how long a node stays in presence listings after
// its last KeepAlive: a node that dies disappears from them within the
// TTL. The hub refreshes its node every third of it. d <= 0 keeps the
// default of 30 s; Redis counts it in whole milliseconds, so a positive d
// under a millisecond panics.
func WithPresenceTTL(d time.Duration) Option {
	if d > 0 && d < time.Millisecond {
		panic(fmt.Sprintf("forge: redisbroker: WithPresenceTTL: %v is under a millisecond", d))
	}
	return func(c *config) {
		if d > 0 {
			c.ttl = d
		}
	}
}

// WithTimeout bounds every call the Broker makes to Redis (a publish, the
// wait for a subscription's confirmation, a presence or history call) when
// the caller's context allows longer, so that a call during an outage
// fails instead of waiting for the client's retries. d <= 0 keeps the
// default of 2 s. Reads on a connection that stopped answering are also
// bounded by the client's ReadTimeout unless its ContextTimeoutEnabled is
// set.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithLogger sets the logger of the pub/sub connection's outages (level
// Error when one begins, Warn when it ends, once each) and replacements
// (Warn); nil means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

// withHealthInterval shortens the health check, for tests.
func withHealthInterval(d time.Duration) Option {
	return func(c *config) { c.health = d }
}

func newConfig(opts []Option) config {
	c := config{
		prefix:  defaultPrefix,
		ttl:     defaultPresenceTTL,
		timeout: defaultTimeout,
		health:  healthInterval,
	}
	for _, o := range opts {
		if o == nil {
			panic("forge: redisbroker: New: nil Option")
		}
		o(&c)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c
}
