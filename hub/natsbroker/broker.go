package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgekit/forge/hub"
)

// Broker is a hub.Broker, hub.PresenceStore and hub.HistoryStore over a
// NATS connection, made by New. Its methods may be called from any
// goroutine. It starts no goroutine of its own: nats.go runs one per
// subscription, which ends with the subscription.
type Broker struct {
	nc      *nats.Conn
	cfg     config
	js      jetstream.JetStream
	nodes   jetstream.KeyValue // node -> empty value, expiring after cfg.ttl
	members jetstream.KeyValue // token(room).token(id) -> JSON hub.Member

	mu      sync.Mutex // guards the fields below
	closed  bool
	subs    map[*subscription]struct{}
	revs    map[string]uint64    // node -> revision of its record, as last written through b
	history jetstream.Stream     // the history stream, once a history call made sure of it
	inboxes []*nats.Subscription // idle, for batch reads of the history
}

var (
	_ hub.Broker        = (*Broker)(nil)
	_ hub.PresenceStore = (*Broker)(nil)
	_ hub.HistoryStore  = (*Broker)(nil)
)

// ErrDisconnected is wrapped by the errors of calls made while the
// connection to the server is down: the broker refuses them rather than
// let nats.go buffer them until it reconnects.
var ErrDisconnected = errors.New("forge: natsbroker: not connected to the NATS server")

// Defaults.
const (
	defaultSubjectPrefix  = "forge."
	defaultPresenceTTL    = 30 * time.Second
	defaultPresenceBucket = "forge_presence"
	defaultHistoryStream  = "forge_history"
)

// defaultTimeout bounds a call to the server whose context has no
// deadline, and New's setup of the buckets.
const defaultTimeout = 5 * time.Second

type config struct {
	prefix  string
	ttl     time.Duration
	bucket  string
	stream  string                // of the history
	storage jetstream.StorageType // of the history stream
}

// Option configures a Broker. An option whose value no program should
// pass (a malformed prefix or name) panics where it is built, as forge's
// registration mistakes do; New returns only the errors of its setup on
// the server.
type Option func(*config)

// WithSubjectPrefix sets the subjects' prefix, "forge." by default (also
// when p is empty): a topic is published on the prefix followed by the
// topic as one token. p must end with a dot and hold neither white space
// nor wildcards. Every node of a cluster uses the same prefix; clusters
// that share a server use different ones.
func WithSubjectPrefix(p string) Option {
	if p != "" && !validPrefix(p) {
		panic(fmt.Sprintf("forge: natsbroker: WithSubjectPrefix: invalid prefix %q: want dot-separated tokens without white space, '*' or '>', ending with a dot", p))
	}
	return func(c *config) {
		if p != "" {
			c.prefix = p
		}
	}
}

// WithPresenceTTL sets how long a node stays in the presence listings after
// its last keep-alive, 30 s by default (also when d <= 0): the members of a
// node that dies leave the listings within d. The hub refreshes its node
// every d/3. Every node of a cluster uses the same TTL, since it is the
// nodes bucket's max age.
func WithPresenceTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.ttl = d
		}
	}
}

// WithPresenceBucket sets the name the presence buckets start with,
// "forge_presence" by default (also when name is empty): the broker keeps
// presence in the JetStream KV buckets name+"_nodes" and name+"_members",
// and creates them if needed. name may hold letters, digits, '-' and '_'.
func WithPresenceBucket(name string) Option {
	if name != "" && !validName(name) {
		panic(fmt.Sprintf("forge: natsbroker: WithPresenceBucket: invalid name %q: want letters, digits, '-' and '_'", name))
	}
	return func(c *config) {
		if name != "" {
			c.bucket = name
		}
	}
}

// WithHistoryStream sets the JetStream stream that keeps the rooms'
// history, "forge_history" by default (also when name is empty), and
// where it keeps its messages: [jetstream.FileStorage], the default, keeps
// the history across a restart of the server, so that clients recover
// through it; [jetstream.MemoryStorage] saves the disk writes, and a
// restart then starts every room's history anew. name may hold letters,
// digits, '-' and '_'. The broker creates the stream, or updates its
// settings, on its first history call; every node of a cluster uses the
// same stream and storage, and clusters that share a server use different
// streams (and prefixes). See "History" in the package documentation.
func WithHistoryStream(name string, storage jetstream.StorageType) Option {
	if name != "" && !validName(name) {
		panic(fmt.Sprintf("forge: natsbroker: WithHistoryStream: invalid name %q: want letters, digits, '-' and '_'", name))
	}
	if storage != jetstream.FileStorage && storage != jetstream.MemoryStorage {
		panic(fmt.Sprintf("forge: natsbroker: WithHistoryStream: storage %v: want file or memory", storage))
	}
	return func(c *config) {
		if name != "" {
			c.stream = name
		}
		c.storage = storage
	}
}

// New returns a broker that uses nc, which must be connected to a server
// with JetStream (for presence and history). New creates the presence
// buckets or updates their settings, waiting at most 5 s; the history
// stream waits for the first history call, so that a hub without history
// leaves none on the server.
//
// nc stays the caller's: its URLs, credentials and TLS, and its reconnect
// settings, which should let it reconnect forever
// ([nats.MaxReconnects](-1)) so that the broker survives an outage of the
// server. The broker never closes nc; close it after the broker.
//
// New returns the errors of its setup on the server; a nil connection or
// option is a mistake in the program and panics.
func New(nc *nats.Conn, opts ...Option) (*Broker, error) {
	if nc == nil {
		panic("forge: natsbroker: New: nil connection")
	}
	cfg := config{prefix: defaultSubjectPrefix, ttl: defaultPresenceTTL, bucket: defaultPresenceBucket, stream: defaultHistoryStream}
	for _, o := range opts {
		if o == nil {
			panic("forge: natsbroker: New: nil Option")
		}
		o(&cfg)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("forge: natsbroker: %w", err)
	}
	b := &Broker{
		nc:   nc,
		cfg:  cfg,
		js:   js,
		subs: make(map[*subscription]struct{}),
		revs: make(map[string]uint64),
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// validPrefix reports whether p is one or more subject tokens followed by
// a dot, without wildcards.
func validPrefix(p string) bool {
	if len(p) < 2 || len(p) > maxSubject/4 || !strings.HasSuffix(p, ".") {
		return false
	}
	for tok := range strings.SplitSeq(p[:len(p)-1], ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n\f\v") {
			return false
		}
	}
	return true
}

// validName reports whether n is a usable stream name: one to 255 of the
// bytes that token keeps as they are.
func validName(n string) bool {
	return n != "" && len(n) <= 255 && escapes(n) == 0
}

// subject returns the subject of topic.
func (b *Broker) subject(topic string) (string, error) {
	s := withToken(b.cfg.prefix, topic)
	if len(s) > maxSubject {
		return "", errTooLong("topic", len(s))
	}
	return s, nil
}

// connected returns an error wrapping ErrDisconnected unless b's connection
// is up.
func (b *Broker) connected(op string) error {
	if st := b.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("forge: natsbroker: %s: %w (connection %s)", op, ErrDisconnected, st)
	}
	return nil
}

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Publish implements hub.Broker. It returns once nats.go has copied data
// into its buffer for the server. While the connection is down it fails
// with an error wrapping ErrDisconnected, so that the message is dropped
// (and counted by the hub) rather than sent late, after the reconnect.
func (b *Broker) Publish(ctx context.Context, topic string, data []byte) error {
	if b.isClosed() {
		return fmt.Errorf("forge: natsbroker: publish: %w", hub.ErrBrokerClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("forge: natsbroker: publish: %w", err)
	}
	subj, err := b.subject(topic)
	if err != nil {
		return err
	}
	if err := b.connected("publish"); err != nil {
		return err
	}
	if err := b.nc.Publish(subj, data); err != nil {
		return fmt.Errorf("forge: natsbroker: publish: %w", err)
	}
	return nil
}

// subscription is one call of Subscribe. Every subscription has a NATS
// subscription of its own, whose messages nats.go delivers in order from
// one goroutine; mu lets unsubscribe wait for a call in flight.
type subscription struct {
	sub *nats.Subscription
	fn  func([]byte)

	mu     sync.Mutex // held while fn runs
	active bool       // guarded by mu
}

func (s *subscription) deliver(m *nats.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active {
		s.fn(m.Data) // nats.go gives every message its own copy
	}
}

// end stops s and waits for a call of fn in flight, so that fn is not
// called once end returns.
func (s *subscription) end() error {
	err := s.sub.Unsubscribe()
	s.mu.Lock()
	s.active = false
	s.mu.Unlock()
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
		return nil // gone with the connection, or already
	}
	return err
}

// Subscribe implements hub.Broker. It returns once the server has the
// subscription, so that no message published after it returns is missed.
// While the connection is down it returns at once: nats.go sends the
// subscription first thing when it reconnects, and nothing published
// meanwhile reaches this node anyway. Messages that arrive faster than fn
// takes them are dropped once nats.go's pending limits for the
// subscription are reached (500,000 messages or 64 MiB by default), as for
// any slow NATS subscriber.
func (b *Broker) Subscribe(ctx context.Context, topic string, fn func([]byte)) (func() error, error) {
	if fn == nil {
		return nil, errors.New("forge: natsbroker: subscribe: nil function")
	}
	subj, err := b.subject(topic)
	if err != nil {
		return nil, err
	}
	s := &subscription{fn: fn, active: true}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("forge: natsbroker: subscribe: %w", hub.ErrBrokerClosed)
	}
	s.sub, err = b.nc.Subscribe(subj, s.deliver)
	if err != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("forge: natsbroker: subscribe: %w", err)
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()

	unsubscribe := func() error {
		b.mu.Lock()
		_, mine := b.subs[s]
		delete(b.subs, s)
		b.mu.Unlock()
		if !mine {
			return nil // ended before, or by Close
		}
		if err := s.end(); err != nil {
			return fmt.Errorf("forge: natsbroker: unsubscribe: %w", err)
		}
		return nil
	}
	// While disconnected, a flush would wait for the reconnect.
	if b.nc.Status() != nats.CONNECTED {
		return unsubscribe, nil
	}
	if err := b.flush(ctx); err != nil && b.nc.Status() == nats.CONNECTED {
		_ = unsubscribe() // the error to report is the flush's
		return nil, fmt.Errorf("forge: natsbroker: subscribe: %w", err)
	}
	if b.isClosed() {
		return nil, fmt.Errorf("forge: natsbroker: subscribe: %w", hub.ErrBrokerClosed)
	}
	return unsubscribe, nil
}

// flush waits for the server to have processed everything sent so far.
func (b *Broker) flush(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return b.nc.FlushWithContext(ctx)
}

// withTimeout bounds ctx by defaultTimeout unless it has a deadline.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultTimeout)
}

// Close implements hub.Broker: it ends the subscriptions made through b,
// and later calls fail with an error wrapping hub.ErrBrokerClosed. It does
// not close the connection, which is the caller's.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := make([]*subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	clear(b.subs)
	inboxes := b.inboxes
	b.inboxes = nil
	b.mu.Unlock()
	var errs []error
	for _, s := range subs {
		errs = append(errs, s.end())
	}
	for _, sub := range inboxes {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("forge: natsbroker: close: %w", err)
	}
	return nil
}
