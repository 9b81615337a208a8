// Package redistest runs real Redis servers for tests: Debian's
// redis-server binary, on a free loopback port, with a temporary directory
// and no persistence, stopped when the test ends.
//
// A test that finds no redis-server in PATH is skipped, unless the
// environment says CI=true: in CI a missing binary fails the test (the
// test script installs it with apt-get install -y redis-server).
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgekit/forge/internal/testkit"
)

// startTimeout bounds the wait for a server to answer PING.
const startTimeout = 10 * time.Second

// Server is one redis-server process, which Stop and Start may stop and
// start again on the same address. Its methods are safe for concurrent
// use.
type Server struct {
	bin     string
	dir     string
	cluster bool

	mu   sync.Mutex // guards the fields below
	addr string     // fixed by the first start
	proc *process   // nil while stopped
}

type process struct {
	cmd  *exec.Cmd
	out  *testkit.Buffer
	done chan struct{} // closed once cmd.Wait returned
	err  error         // cmd.Wait's result, set before done is closed
}

// Start starts a redis-server for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartCluster starts a redis-server in cluster mode that owns every hash
// slot: a one-node Redis Cluster, for clients that need one. Multi-key
// commands across slots fail there as on a real cluster.
func StartCluster(t testing.TB) *Server {
	t.Helper()
	s := start(t, true)
	if _, err := s.Do("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil {
		t.Fatalf("redistest: assign slots: %v", err)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		info, err := s.Do("CLUSTER", "INFO")
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: cluster not ready within %v: %q, %v", startTimeout, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func start(t testing.TB, cluster bool) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		const msg = "redistest: redis-server not found in PATH (install it: apt-get install -y redis-server)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s := &Server{bin: bin, dir: t.TempDir(), cluster: cluster}
	t.Cleanup(func() { s.kill() })
	// A free port may be taken between its discovery and the server's
	// bind; try a few.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.run()
		if err == nil {
			return s
		}
		if attempt == 4 {
			t.Fatalf("redistest: %v", err)
		}
	}
}

// Addr returns the server's host:port, which stays the same across Stop
// and Start.
func (s *Server) Addr() string { return s.addr }

// Stop kills the server, as a crash would: clients see their connections
// fail. Its data is lost. Stopping a stopped server does nothing.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.kill()
}

// Start starts a stopped server again on the same address, empty. Starting
// a running server does nothing.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	// The port is free again once the old process is gone, but another
	// process may grab it meanwhile; retry briefly.
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.run()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: restart on %s: %v", s.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run starts the process and waits until it answers PING; on failure the
// process is gone.
func (s *Server) run() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(s.addr)
	args := []string{
		"--port", port,
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
		"--loglevel", "warning",
	}
	if s.cluster {
		args = append(args, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes-"+port+".conf",
			"--cluster-announce-ip", "127.0.0.1")
	}
	p := &process{cmd: exec.Command(s.bin, args...), out: &testkit.Buffer{}, done: make(chan struct{})}
	p.cmd.Dir = s.dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		reply, err := do(s.addr, "PING")
		if err == nil && reply == "PONG" {
			s.proc = p
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("redis-server on %s exited (%v): %s", s.addr, p.err, p.out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("redis-server on %s did not answer within %v: %v; output: %s", s.addr, startTimeout, err, p.out.String())
		}
	}
}

// kill kills the process, if any, and waits for it.
func (s *Server) kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Do sends one command to the server on a connection of its own and
// returns the reply as text: a status, an integer, a bulk string, or the
// elements of an array joined by newlines. An error reply is an error.
func (s *Server) Do(args ...string) (string, error) {
	return do(s.addr, args...)
}

func do(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

// readReply reads one RESP2 reply.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("redistest: empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		elems := make([]string, 0, max(n, 0))
		for range n {
			e, err := readReply(r)
			if err != nil {
				return "", err
			}
			elems = append(elems, e)
		}
		return strings.Join(elems, "\n"), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
