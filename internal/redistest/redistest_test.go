package redistest

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStopStart(t *testing.T) {
	t.Parallel()
	s := Start(t)
	if got, err := s.Do("SET", "k", "v"); err != nil || got != "OK" {
		t.Fatalf("SET = %q, %v", got, err)
	}
	s.Stop(t)
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("a stopped server answered PING")
	}
	s.Stop(t) // again: nothing to do
	addr := s.Addr()
	s.Start(t)
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	if got, err := s.Do("GET", "k"); err != nil || got != "" {
		t.Fatalf("GET after restart = %q, %v; want an empty server", got, err)
	}
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	s := StartCluster(t)
	// Keys of different slots: a cluster refuses them in one command.
	if _, err := s.Do("MSET", "a", "1", "b", "2"); err == nil {
		t.Fatal("MSET across slots succeeded; is cluster mode on?")
	}
	if got, err := s.Do("CLUSTER", "KEYSLOT", "{x}a"); err != nil || got != "16287" {
		t.Fatalf("CLUSTER KEYSLOT = %q, %v", got, err)
	}
}
