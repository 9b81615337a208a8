package redisbroker

import (
	"context"
	"testing"
)

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
