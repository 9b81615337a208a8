// Package natstest runs a real NATS server, embedded in the test process,
// for the tests of programs that use forge's NATS broker (and for the
// broker's own): JetStream enabled, on a loopback port of its own, with its
// store in a temporary directory. The server can be stopped and started
// again on the same port and store, as an outage test needs.
//
//	srv := natstest.Start(t)
//	b, err := natsbroker.New(srv.Connect(t))
//	...
//	srv.Stop(t) // the broker's connection fails and retries
//	srv.Start(t)
//
// It imports the NATS server, which is why it lives in the broker's module
// and not in the library's.
package natstest

import (
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// readyTimeout bounds the wait for a server to accept connections.
const readyTimeout = 10 * time.Second

// Server is an embedded NATS server. Its methods may be called from any
// goroutine.
type Server struct {
	storeDir string

	mu    sync.Mutex     // guards the fields below
	srv   *server.Server // nil while stopped
	port  int            // fixed by the first start
	conns []*nats.Conn   // made by Connect
}

// Start starts a server and shuts it down when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{storeDir: t.TempDir(), port: server.RANDOM_PORT}
	t.Cleanup(func() { s.shutdown() })
	s.Start(t)
	return s
}

// Start starts the server again after Stop, on the same port and with the
// same JetStream store. Starting a running server fails the test.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		t.Fatal("natstest: the server is already running")
	}
	opts := &server.Options{
		Host:               "127.0.0.1",
		Port:               s.port,
		NoLog:              true,
		NoSigs:             true,
		JetStream:          true,
		StoreDir:           s.storeDir,
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  256 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		t.Fatalf("natstest: the server did not accept connections within %v", readyTimeout)
	}
	s.srv = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
}

// Stop shuts the server down, as a crash would for its clients: their
// connections fail and they try to reconnect. It returns once the server
// is gone and the connections made by Connect have noticed, so that a test
// sees them down from then on, however busy the machine.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if !s.shutdown() {
		t.Fatal("natstest: the server is not running")
	}
	s.mu.Lock()
	conns := slices.Clone(s.conns)
	s.mu.Unlock()
	deadline := time.Now().Add(readyTimeout)
	for _, nc := range conns {
		for nc.Status() == nats.CONNECTED {
			if time.Now().After(deadline) {
				t.Fatalf("natstest: a client still reports CONNECTED %v after the server stopped", readyTimeout)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// shutdown stops the server if it runs and reports whether it did.
func (s *Server) shutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return false
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
	return true
}

// URL returns the address clients connect to; it stays the same across
// Stop and Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "nats://127.0.0.1:" + strconv.Itoa(s.port)
}

// Connect returns a client connection that the test closes when it ends.
// It reconnects forever, 50 ms apart, so that a restarted server is found
// again quickly, and logs asynchronous errors (a slow consumer, a write
// to a server that went away) to the test; opts come after those
// defaults.
func (s *Server) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	var mu sync.Mutex
	ended := false // guarded by mu: t.Logf must not run after the test
	all := append([]nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			mu.Lock()
			defer mu.Unlock()
			if !ended {
				t.Logf("natstest: asynchronous error: %v", err)
			}
		}),
	}, opts...)
	nc, err := nats.Connect(s.URL(), all...)
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	s.mu.Lock()
	s.conns = append(s.conns, nc)
	s.mu.Unlock()
	t.Cleanup(func() {
		nc.Close()
		mu.Lock()
		ended = true
		mu.Unlock()
		s.mu.Lock()
		s.conns = slices.DeleteFunc(s.conns, func(c *nats.Conn) bool { return c == nc })
		s.mu.Unlock()
	})
	return nc
}
