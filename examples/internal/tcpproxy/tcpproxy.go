// Package tcpproxy forwards loopback TCP connections to a server for the
// examples' browser tests, and fails them on demand the ways networks
// do: connections dropped, new ones refused, or links that stay open and
// carry nothing.
package tcpproxy

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards the connections it accepts to a backend address.
type Proxy struct {
	// URL is "http://127.0.0.1:PORT", the proxy's address.
	URL string

	l       net.Listener
	backend string
	wg      sync.WaitGroup // the accept loop and the pipes

	mu      sync.Mutex // guards the fields below
	refuse  bool
	closed  bool
	refused int
	pairs   map[*pair]bool
}

type pair struct {
	client, server net.Conn
	mu             sync.Mutex // guards dead
	dead           bool       // swallow everything
}

// New starts a proxy to backend ("127.0.0.1:PORT") on a free loopback
// port, closed with all its connections when the test ends.
func New(t testing.TB, backend string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcpproxy: %v", err)
	}
	p := &Proxy{l: l, backend: backend, URL: "http://" + l.Addr().String(), pairs: map[*pair]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		if refuse {
			p.refused++
		}
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		pr := &pair{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			s.Close()
			continue
		}
		p.pairs[pr] = true
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(pr, c, s) })
		p.wg.Go(func() { p.pipe(pr, s, c) })
	}
}

// pipe copies from one side to the other until either fails; both are
// then closed.
func (p *Proxy) pipe(pr *pair, from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			pr.mu.Lock()
			dead := pr.dead
			pr.mu.Unlock()
			if !dead {
				if _, werr := to.Write(buf[:n]); werr != nil {
					err = werr
				}
			}
		}
		if err != nil {
			break
		}
	}
	pr.client.Close()
	pr.server.Close()
	p.mu.Lock()
	delete(p.pairs, pr)
	p.mu.Unlock()
}

// Refuse makes new connections fail at once (true), as when the network
// is down, or pass again (false).
func (p *Proxy) Refuse(refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = refuse
}

// Refused returns how many connections were refused.
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// Drop closes every connection, as a failing network would: the client
// sees its connection end without a close frame (1006).
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pr := range p.pairs {
		pr.client.Close()
		pr.server.Close()
	}
}

// Swallow makes every current connection a dead link: open at both ends,
// carrying nothing. New connections are not affected.
func (p *Proxy) Swallow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pr := range p.pairs {
		pr.mu.Lock()
		pr.dead = true
		pr.mu.Unlock()
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.l.Close()
	p.Drop()
	p.wg.Wait()
}
