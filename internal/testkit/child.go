package testkit

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Child is the test binary run again as a child process, which a test
// talks to in lines: commands on its stdin, reports on its stdout. Tests
// use one to keep the clients they measure out of their own process.
type Child struct {
	// Lines delivers the child's stdout a line at a time; it is closed at
	// the end of the output.
	Lines <-chan string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	cancel context.CancelFunc
	once   sync.Once // guards the end: closing stdin, draining, waiting
	err    error     // of cmd.Wait
}

// StartChild runs the test binary again, with no test selected and the
// environment variable env set to cfg encoded as JSON: the package's
// TestMain sees env and acts as the child. The child's stderr is the
// test's. It is killed when limit has passed, or when the test ends if
// it has not exited by then.
func StartChild(tb testing.TB, env string, cfg any, limit time.Duration) *Child {
	tb.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+string(b))
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	c := &Child{Lines: lines, cmd: cmd, stdin: stdin, cancel: cancel}
	tb.Cleanup(func() {
		cancel()
		c.end(nil)
	})
	return c
}

// Send writes line to the child's stdin.
func (c *Child) Send(tb testing.TB, line string) {
	tb.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		tb.Fatalf("tell the child process %q: %v", line, err)
	}
}

// Expect waits up to timeout for the child's next line, which must start
// with prefix, and returns it.
func (c *Child) Expect(tb testing.TB, prefix string, timeout time.Duration) string {
	tb.Helper()
	select {
	case l, ok := <-c.Lines:
		if !ok {
			tb.Fatalf("the child process ended before saying %q", prefix)
		}
		if !strings.HasPrefix(l, prefix) {
			tb.Fatalf("the child process said %q, want %q", l, prefix)
		}
		return l
	case <-time.After(timeout):
		tb.Fatalf("the child process did not say %q within %v", prefix, timeout)
		return ""
	}
}

// Wait closes the child's stdin and waits for it to exit, which it must do
// successfully and without saying more.
func (c *Child) Wait(tb testing.TB) {
	tb.Helper()
	var extra []string
	c.end(func(l string) { extra = append(extra, l) })
	for _, l := range extra {
		tb.Errorf("the child process said %q after its result", l)
	}
	if c.err != nil {
		tb.Errorf("child process: %v", c.err)
	}
}

// Stop closes the child's stdin and waits for it to exit, whatever it
// says meanwhile and however it ends.
func (c *Child) Stop() { c.end(nil) }

// end closes stdin, passes the lines still to come to more (when not nil)
// and waits for the child, once.
func (c *Child) end(more func(string)) {
	c.once.Do(func() {
		c.stdin.Close()
		for l := range c.Lines {
			if more != nil {
				more(l)
			}
		}
		c.err = c.cmd.Wait() // after the last read from stdout, as Wait requires
		c.cancel()
	})
}
