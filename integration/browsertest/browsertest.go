// Package browsertest drives Debian's chromium headless from Go tests
// (chromedp), recording every request, WebSocket, script exception and
// console error the pages make. A test without chromium skips, unless CI is
// set: then it fails (scripts/test.sh installs chromium).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeout bounds each browser step; it is a guard against a hang,
// not a performance assertion.
const Timeout = 60 * time.Second

// ChromiumPath returns Debian's chromium. Without it the test is skipped,
// unless CI is set: then a missing browser fails it (scripts/test.sh
// installs chromium).
func ChromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (scripts/test.sh installs it: apt-get install chromium)")
	}
	t.Skip("chromium is not installed; run scripts/test.sh to install it")
	return ""
}

// Browser is a headless chromium whose every request, WebSocket, script
// exception and console error is recorded.
type Browser struct {
	ctx context.Context

	mu       sync.Mutex // guards requests, problems and expected
	requests []string   // URLs of every request and WebSocket the pages made
	problems []string   // exceptions, console errors, error log entries
	expected []string   // substrings of the problems a test provokes
}

// Expect declares that problems mentioning s are provoked by the test.
func (b *Browser) Expect(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = append(b.expected, s)
}

// Unexpected returns the problems that no test provoked.
func (b *Browser) Unexpected() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, p := range b.problems {
		if !slices.ContainsFunc(b.expected, func(s string) bool { return strings.Contains(p, s) }) {
			out = append(out, p)
		}
	}
	return out
}

func New(t *testing.T) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel()
	})
	b := &Browser{ctx: ctx}
	// Start the browser with no timeout: the first action binds its life
	// to the context it runs with.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.listen(t)
	return b
}

// NewTab opens another tab of the same browser, for a second user; its
// requests and problems are recorded apart from b's. It closes when the
// test ends.
func (b *Browser) NewTab(t *testing.T) *Browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	tab := &Browser{ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no timeout
		t.Fatalf("open a tab: %v", err)
	}
	tab.listen(t)
	return tab
}

// listen records the tab's requests and problems.
func (b *Browser) listen(t *testing.T) {
	t.Helper()
	// Listen sees the events in the tab's own loop, before any action that
	// follows returns; chromedp has enabled the network, runtime and log
	// domains.
	err := chromedp.Listen(b.ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *network.EventWebSocketCreated:
			b.requests = append(b.requests, ev.URL)
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := ""
			if d.Exception != nil {
				desc = d.Exception.Description
			}
			b.problems = append(b.problems, fmt.Sprintf("exception: %s %s (%s:%d)", d.Text, desc, d.URL, d.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problems = append(b.problems, "console.error: "+strings.Join(args, " "))
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				b.problems = append(b.problems, fmt.Sprintf("log %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
}

// Do runs actions in order, failing the test with what step names on error.
func (b *Browser) Do(t *testing.T, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(t, step, err)
	}
}

// Value runs one action and returns its value, failing the test on error.
func Value[T any](t *testing.T, b *Browser, step string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.fail(t, step, err)
	}
	return v
}

func (b *Browser) fail(t *testing.T, step string, err error) {
	t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		hctx, hcancel := context.WithTimeout(b.ctx, 10*time.Second)
		html, _ := chromedp.Run(hctx, chromedp.OuterHTML(chromedp.CSS("body")))
		hcancel()
		t.Logf("page when %q timed out:\n%.4000s", step, html)
	}
	t.Fatalf("%s: %v (problems so far: %v)", step, err, b.snapshot())
}

func (b *Browser) snapshot() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// CheckHosts fails the test for every request that left host. data: URLs
// (Swagger UI's inline images) are not network requests.
func (b *Browser) CheckHosts(t *testing.T, host string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		t.Fatal("no requests were recorded: the network listener is broken")
	}
	for _, raw := range b.requests {
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("request to unparsable URL %q", raw)
			continue
		}
		if u.Scheme == "data" {
			continue
		}
		if u.Host != host || !slices.Contains([]string{"http", "ws"}, u.Scheme) {
			t.Errorf("the page made a request to %s, not to the app at %s", raw, host)
		}
	}
}

// CSS selects by CSS selector.
func CSS(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// Context returns the browser tab's context, for chromedp calls of a
// test's own.
func (b *Browser) Context() context.Context { return b.ctx }
