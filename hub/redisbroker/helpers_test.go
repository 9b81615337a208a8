package redisbroker

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/forgekit/forge/hub/brokertest"
)

// inbox collects what a subscription receives.
type inbox struct {
	mu   sync.Mutex
	msgs [][]byte
	more chan struct{}
}

func newInbox() *inbox { return &inbox{more: make(chan struct{}, 1)} }

func (in *inbox) fn(data []byte) {
	in.mu.Lock()
	in.msgs = append(in.msgs, bytes.Clone(data))
	in.mu.Unlock()
	select {
	case in.more <- struct{}{}:
	default:
	}
}

func (in *inbox) len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.msgs)
}

// wait waits until the inbox holds n messages.
func (in *inbox) wait(t testing.TB, n int) {
	t.Helper()
	deadline := time.NewTimer(brokertest.Timeout)
	defer deadline.Stop()
	for in.len() < n {
		select {
		case <-in.more:
		case <-deadline.C:
			t.Fatalf("%d of %d messages arrived within %v", in.len(), n, brokertest.Timeout)
		}
	}
}

func mustSubscribe(t testing.TB, b *Broker, topic string, fn func([]byte)) func() error {
	t.Helper()
	unsub, err := b.Subscribe(context.Background(), topic, fn)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", topic, err)
	}
	return unsub
}

func mustUnsubscribe(t testing.TB, unsub func() error) {
	t.Helper()
	if err := unsub(); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
}
