// Package brokerurl connects the examples to the broker a URL names, so
// that every example takes the same -broker flag.
package brokerurl

import (
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/natsbroker"
	"github.com/forgekit/forge/hub/redisbroker"
)

// Dial connects to the broker that u names (redis://, rediss://, nats:// or
// tls://) and returns it with the function that closes the client under
// it. A NATS client reconnects forever, 250 ms apart; natsOpts come after
// those defaults.
func Dial(u string, natsOpts ...nats.Option) (hub.Broker, func(), error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return nil, nil, fmt.Errorf("broker URL: %w", err)
	}
	switch parsed.Scheme {
	case "redis", "rediss":
		opt, err := redis.ParseURL(u)
		if err != nil {
			return nil, nil, fmt.Errorf("broker URL: %w", err)
		}
		client := redis.NewClient(opt)
		return redisbroker.New(client), func() { client.Close() }, nil
	case "nats", "tls":
		opts := append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}, natsOpts...)
		nc, err := nats.Connect(u, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("connect to NATS: %w", err)
		}
		b, err := natsbroker.New(nc)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		return b, nc.Close, nil
	}
	return nil, nil, fmt.Errorf("broker URL %q: want redis://, rediss://, nats:// or tls://", u)
}
