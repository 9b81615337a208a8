package redisbroker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/hub"
)

// Broker is a [hub.Broker], [hub.PresenceStore] and [hub.HistoryStore]
// over Redis. It is safe for concurrent use.
//
// A Broker holds one pub/sub connection, whatever the number of topics: a
// channel is subscribed with the first subscription of its topic and
// unsubscribed when the last one ends, and one goroutine reads the
// connection and calls the subscriptions' functions, one message at a
// time. A second goroutine checks the connection's health. Close stops
// both.
type Broker struct {
	client  redis.UniversalClient
	sharded bool // SPUBLISH and SSUBSCRIBE, for a *redis.ClusterClient
	ttl     time.Duration
	timeout time.Duration
	health  time.Duration
	log     *slog.Logger

	// Key and channel names: see names.go.
	chanPrefix, anchor, nodePrefix, roomPrefix, historyPrefix string

	writer string        // this Broker's part of the write ids of presence entries
	writes atomic.Uint64 // the other part

	closed atomic.Bool           // set under mu, read alone by the calls that need no lock
	down   atomic.Pointer[error] // the reader's last error while its connection fails, else nil
	stop   chan struct{}         // closed by Close
	resync chan struct{}         // buffered 1: the reader asks for a new connection
	kick   chan struct{}         // buffered 1: wakes the reader from its backoff
	heard  atomic.Bool           // the reader received something since the health check last looked
	wg     sync.WaitGroup        // the reader (read) and the health check (watch)

	// cmdMu is held from the decision to send SUBSCRIBE or UNSUBSCRIBE
	// until the command is written, and while the connection is
	// replaced, so that Redis gets the commands of a channel in the order
	// of the decisions.
	cmdMu sync.Mutex

	mu       sync.Mutex // guards the fields below
	ps       *redis.PubSub
	channels map[string]*channel // by channel name
	unacked  map[string]int      // UNSUBSCRIBEs sent on ps whose reply has not come, by channel
}

// channel is the state of one subscribed Redis channel.
type channel struct {
	subs      []*subscription // copied on write, so the reader's snapshot stays valid
	confirmed chan struct{}   // closed once Redis confirmed the subscription
	ok        bool            // confirmed is closed; guarded by Broker.mu
}

func (c *channel) confirm() {
	if !c.ok {
		c.ok = true
		close(c.confirmed)
	}
}

type subscription struct {
	fn func([]byte)

	mu     sync.Mutex // held while fn runs, so calls never overlap and end waits for one
	active bool       // guarded by mu
}

func (s *subscription) call(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active {
		s.fn(data)
	}
}

// end stops the calls of fn, waiting for one in progress.
func (s *subscription) end() {
	s.mu.Lock()
	s.active = false
	s.mu.Unlock()
}

var (
	_ hub.Broker        = (*Broker)(nil)
	_ hub.PresenceStore = (*Broker)(nil)
	_ hub.HistoryStore  = (*Broker)(nil)
)

// New returns a Broker that talks to Redis through client: a
// *redis.Client (also from redis.NewFailoverClient, for Sentinel) or a
// *redis.ClusterClient, configured as the application needs (address,
// TLS, authentication, pool). The Broker does not close client; close the
// Broker first, then the client.
//
// New tries once to open the pub/sub connection, within the Broker's
// timeout (WithTimeout), and returns without it if Redis is unreachable:
// the connection comes, and comes back after an outage, on its own. So
// New has no error to return; a nil client or option is a mistake in the
// program and panics.
func New(client redis.UniversalClient, opts ...Option) *Broker {
	if client == nil {
		panic("forge: redisbroker: New: nil client")
	}
	c := newConfig(opts)
	_, sharded := client.(*redis.ClusterClient)
	b := &Broker{
		client:   client,
		sharded:  sharded,
		ttl:      c.ttl,
		timeout:  c.timeout,
		health:   c.health,
		log:      c.log,
		writer:   rand.Text()[:10],
		stop:     make(chan struct{}),
		resync:   make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
		channels: make(map[string]*channel),
		unacked:  make(map[string]int),
	}
	b.setNames(c.prefix)
	b.ps = b.newPubSub(nil)
	b.wg.Go(b.read)
	b.wg.Go(b.watch)
	return b
}

// newPubSub returns a pub/sub connection subscribed to the anchor and to
// channels. go-redis keeps the set of channels of a PubSub and
// subscribes them again whenever it reconnects; with the anchor in it, the
// set is never empty, so a cluster client always connects to the shard
// that owns the Broker's channels.
func (b *Broker) newPubSub(channels []string) *redis.PubSub {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	all := append([]string{b.anchor}, channels...)
	// A failure here leaves the channels in the set, subscribed when the
	// connection comes back.
	if b.sharded {
		return b.client.SSubscribe(ctx, all...)
	}
	return b.client.Subscribe(ctx, all...)
}

func (b *Broker) pubsub() *redis.PubSub {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ps
}

// ready returns the error of a call that cannot go to Redis: the Broker is
// closed, or its pub/sub connection is down. Failing at once while the
// connection is down keeps callers from waiting for the client's dial
// retries during an outage, and gives every call one view of it: calls
// fail until Redis is back, then go to Redis again.
func (b *Broker) ready(op string) error {
	if b.closed.Load() {
		return fmt.Errorf("forge: redisbroker: %s: %w", op, hub.ErrBrokerClosed)
	}
	if err := b.down.Load(); err != nil {
		return fmt.Errorf("forge: redisbroker: %s: redis unreachable: %w", op, *err)
	}
	return nil
}

// Publish implements hub.Broker with PUBLISH, or SPUBLISH on a cluster. It
// returns once Redis took the message, or with an error: at once while
// the pub/sub connection is down, else within the Broker's timeout
// (WithTimeout).
func (b *Broker) Publish(ctx context.Context, topic string, data []byte) error {
	if err := b.ready("publish"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	ch := b.channel(topic)
	var err error
	if b.sharded {
		err = b.client.SPublish(ctx, ch, data).Err()
	} else {
		err = b.client.Publish(ctx, ch, data).Err()
	}
	if err != nil {
		return fmt.Errorf("forge: redisbroker: publish: %w", err)
	}
	b.reached()
	return nil
}

// reached records a call that Redis answered. A call that began before an
// outage and ended after it proves Redis back before the reader does:
// calls then go to Redis again (one that succeeded must not be followed by
// failures that only the gate causes), and the reader reconnects at once.
func (b *Broker) reached() {
	if b.down.Load() == nil {
		return
	}
	b.down.Store(nil)
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Subscribe implements hub.Broker. It returns once Redis confirmed the
// subscription of the topic's channel, so that a message published after
// it returns is not missed, or with an error within the Broker's timeout.
// fn runs on the Broker's reader goroutine: while it runs, no other
// message of any topic is delivered, and one that blocks for seconds makes
// the health check take the connection for dead.
func (b *Broker) Subscribe(ctx context.Context, topic string, fn func([]byte)) (func() error, error) {
	if fn == nil {
		return nil, errors.New("forge: redisbroker: subscribe: nil function")
	}
	name := b.channel(topic)
	s := &subscription{fn: fn, active: true}

	b.cmdMu.Lock()
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		b.cmdMu.Unlock()
		return nil, fmt.Errorf("forge: redisbroker: subscribe: %w", hub.ErrBrokerClosed)
	}
	c := b.channels[name]
	first := c == nil
	if first {
		c = &channel{confirmed: make(chan struct{})}
		b.channels[name] = c
	}
	c.subs = append(slices.Clip(c.subs), s)
	ps := b.ps
	b.mu.Unlock()
	var err error
	if first {
		if err = b.command(ctx, ps, true, name); err == nil {
			b.reached() // the command needed a connection
		}
	}
	b.cmdMu.Unlock()

	if err == nil {
		err = b.await(ctx, c)
	}
	if err != nil {
		b.unsubscribe(name, s)
		return nil, fmt.Errorf("forge: redisbroker: subscribe: %w", err)
	}
	var once sync.Once
	return func() error {
		once.Do(func() { b.unsubscribe(name, s) })
		return nil
	}, nil
}

// command sends SUBSCRIBE or UNSUBSCRIBE (their sharded forms on a
// cluster) for one channel. The caller's deadline does not apply: a write
// cut short would cost the connection that every topic shares.
func (b *Broker) command(ctx context.Context, ps *redis.PubSub, subscribe bool, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.timeout)
	defer cancel()
	switch {
	case subscribe && b.sharded:
		return ps.SSubscribe(ctx, name)
	case subscribe:
		return ps.Subscribe(ctx, name)
	case b.sharded:
		return ps.SUnsubscribe(ctx, name)
	default:
		return ps.Unsubscribe(ctx, name)
	}
}

// await waits for Redis to confirm c's subscription.
func (b *Broker) await(ctx context.Context, c *channel) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	select {
	case <-c.confirmed:
		return nil
	case <-b.stop:
		return hub.ErrBrokerClosed
	case <-ctx.Done():
		return fmt.Errorf("no confirmation from redis: %w", ctx.Err())
	}
}

// unsubscribe ends s, and the channel's subscription when s was its last.
// Unsubscribing never fails: the channel is out of go-redis's set even if
// UNSUBSCRIBE could not be sent, and a connection that failed comes back
// without it.
func (b *Broker) unsubscribe(name string, s *subscription) {
	s.end()
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	b.mu.Lock()
	last := false
	if c := b.channels[name]; c != nil {
		if i := slices.Index(c.subs, s); i >= 0 {
			c.subs = slices.Delete(slices.Clone(c.subs), i, i+1)
			if len(c.subs) == 0 {
				delete(b.channels, name)
				last = true
			}
		}
	}
	last = last && !b.closed.Load()
	ps := b.ps
	if last {
		b.unacked[name]++
	}
	b.mu.Unlock()
	if !last {
		return
	}
	if err := b.command(context.Background(), ps, false, name); err != nil {
		b.mu.Lock()
		if b.ps == ps {
			b.unacknowledged(name)
		}
		b.mu.Unlock()
		b.log.LogAttrs(context.Background(), slog.LevelDebug, "redisbroker unsubscribe not sent",
			slog.String("channel", name), slog.String("error", err.Error()))
	}
}

// unacknowledged counts one UNSUBSCRIBE of name less. Caller holds b.mu.
func (b *Broker) unacknowledged(name string) {
	if n := b.unacked[name]; n > 1 {
		b.unacked[name] = n - 1
	} else {
		delete(b.unacked, name)
	}
}

// Close implements hub.Broker: it ends every subscription, waiting for a
// call in progress, closes the pub/sub connection and stops the Broker's
// goroutines. It does not close the client given to New. Close must not
// be called from a subscription's function.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		return nil
	}
	b.closed.Store(true)
	var subs []*subscription
	for _, c := range b.channels {
		subs = append(subs, c.subs...)
	}
	clear(b.channels)
	ps := b.ps
	b.mu.Unlock()

	close(b.stop)
	for _, s := range subs {
		s.end()
	}
	_ = ps.Close() // ends the reader's Receive
	b.wg.Wait()
	return nil
}

// read is the reader goroutine: it receives every message of the pub/sub
// connection and delivers it, in order. go-redis reconnects and
// resubscribes within Receive; read backs off while that fails.
func (b *Broker) read() {
	var (
		failures  int
		downSince time.Time
	)
	for {
		ps := b.pubsub()
		msg, err := ps.Receive(context.Background())
		if err != nil {
			if b.closed.Load() {
				return
			}
			if ps != b.pubsub() {
				continue // replaced by the health check
			}
			var rerr redis.Error
			if errors.As(err, &rerr) {
				// An error reply (such as MOVED after a cluster's slot
				// moved): the connection is fine, its subscriptions may
				// not be.
				b.log.LogAttrs(context.Background(), slog.LevelWarn, "redisbroker pub/sub error; resubscribing",
					slog.String("error", err.Error()))
				b.requestResync()
				continue
			}
			b.mu.Lock()
			if b.ps == ps {
				clear(b.unacked) // their replies were lost with the connection
			}
			b.mu.Unlock()
			b.down.Store(&err)
			if failures == 0 {
				downSince = time.Now()
				b.log.LogAttrs(context.Background(), slog.LevelError,
					"redisbroker lost its pub/sub connection: messages from other nodes are lost until it is back",
					slog.String("error", err.Error()))
			}
			failures++
			if !b.sleep(backoff(failures)) {
				return
			}
			continue
		}
		b.heard.Store(true)
		if b.down.Load() != nil {
			b.down.Store(nil)
		}
		if failures > 0 {
			failures = 0
			b.log.LogAttrs(context.Background(), slog.LevelWarn, "redisbroker pub/sub connection is back",
				slog.Duration("outage", time.Since(downSince)))
		}
		switch m := msg.(type) {
		case *redis.Message:
			b.deliver(ps, m)
		case *redis.Subscription:
			b.acknowledge(ps, m)
		}
	}
}

// backoff returns the pause after the n-th failure in a row to receive:
// none after the first, which go-redis follows with a reconnection, then
// growing to a second.
func backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	return min(50*time.Millisecond<<min(n-2, 5), time.Second)
}

// sleep waits for d, or returns false once the Broker is closed.
func (b *Broker) sleep(d time.Duration) bool {
	if d <= 0 {
		return !b.closed.Load()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.kick:
	case <-b.stop:
		return false
	}
	return true
}

// deliver calls the subscriptions of m's channel, one after the other,
// with one copy of the payload.
func (b *Broker) deliver(ps *redis.PubSub, m *redis.Message) {
	b.mu.Lock()
	var subs []*subscription
	if c := b.channels[m.Channel]; c != nil && ps == b.ps {
		subs = c.subs
	}
	b.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	data := []byte(m.Payload)
	for _, s := range subs {
		s.call(data)
	}
}

// acknowledge handles Redis's reply to SUBSCRIBE or UNSUBSCRIBE. Replies
// of one channel come in the order of its commands, so a SUBSCRIBE's
// reply confirms the channel only when no UNSUBSCRIBE sent since is
// pending: an older subscription's reply must not confirm a newer one.
func (b *Broker) acknowledge(ps *redis.PubSub, m *redis.Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ps != b.ps {
		return
	}
	switch m.Kind {
	case "subscribe", "ssubscribe":
		if c := b.channels[m.Channel]; c != nil && b.unacked[m.Channel] == 0 {
			c.confirm()
		}
	case "unsubscribe", "sunsubscribe":
		if b.unacked[m.Channel] > 0 {
			b.unacknowledged(m.Channel)
			return
		}
		if m.Channel == b.anchor || b.channels[m.Channel] != nil {
			// Redis ended a subscription by itself, as a cluster does
			// when a slot moves to another shard.
			b.requestResync()
		}
	}
}

func (b *Broker) requestResync() {
	select {
	case b.resync <- struct{}{}:
	default:
	}
}

// watch is the health check. A pub/sub connection that receives nothing
// for an interval gets a PING; if nothing arrives for another interval,
// the connection is taken for dead (a server that vanished without
// closing it, a network cut) and replaced, as is one whose subscriptions
// Redis ended. go-redis alone would notice only when a write fails, which
// TCP may take many minutes to report.
func (b *Broker) watch() {
	tick := time.NewTicker(b.health)
	defer tick.Stop()
	var (
		pinged, resync bool
		reason         string
		last           time.Time // of the last replacement
	)
	for {
		select {
		case <-b.stop:
			return
		case <-b.resync:
			resync, reason = true, "redis ended a subscription or replied with an error"
		case <-tick.C:
			switch {
			case b.heard.Swap(false):
				pinged = false
			case pinged:
				resync, reason = true, "no reply to PING"
			default:
				ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
				pinged = b.pubsub().Ping(ctx) == nil
				cancel()
			}
		}
		// At most one replacement per interval; a pending one waits for
		// a later tick.
		if resync && time.Since(last) >= b.health {
			b.reconnect(reason)
			resync, pinged, last = false, false, time.Now()
		}
	}
}

// reconnect replaces the pub/sub connection with a new one subscribed to
// the same channels.
func (b *Broker) reconnect(reason string) {
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		return
	}
	names := slices.Collect(maps.Keys(b.channels))
	old := b.ps
	b.mu.Unlock()

	if cc, ok := b.client.(*redis.ClusterClient); ok {
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		cc.ReloadState(ctx) // where the slot lives now
		cancel()
	}
	ps := b.newPubSub(names)
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		_ = ps.Close()
		return
	}
	b.ps = ps
	clear(b.unacked)
	b.mu.Unlock()
	_ = old.Close()
	b.log.LogAttrs(context.Background(), slog.LevelWarn, "redisbroker replaced its pub/sub connection",
		slog.String("reason", reason), slog.Int("channels", len(names)))
}
