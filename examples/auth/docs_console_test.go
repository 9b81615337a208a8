package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/forgekit/forge/integration/browsertest"
)

// TestDocsConsoleWithAPIKey opens the example's /docs console in a real
// headless chromium: it must say up front which credentials the notes
// route takes and how a browser sends them, never that a browser cannot
// send the subprotocol header, and connect with the API key alone, which
// it offers as the subprotocol entry apikey.<key> next to notes.v1.
func TestDocsConsoleWithAPIKey(t *testing.T) {
	srv := start(t)
	b := browsertest.New(t)
	b.Do(t, "open the console",
		chromedp.Navigate(srv.URL+"/docs/websocket/"),
		chromedp.WaitVisible(browsertest.CSS(`#console-cred-apikey`)))
	creds := browsertest.Value(t, b, "read the credentials", chromedp.TextContent(browsertest.CSS(`#console-credentials`)))
	for _, want := range []string{"jwt", "bearer.<value>", "apikey", "apikey.<value>", "notes.v1", "X-API-Key"} {
		if !strings.Contains(creds, want) {
			t.Errorf("the credentials section lacks %q:\n%s", want, creds)
		}
	}
	hints := browsertest.Value(t, b, "read the hints", chromedp.Evaluate[string](
		`[...document.querySelectorAll('#console .hint:not([hidden])')].map(e => e.textContent).join("\n")`))
	if strings.Contains(hints, "cannot set headers") || strings.Contains(hints, "Sec-WebSocket-Protocol;") {
		t.Errorf("a hint says a browser cannot send the subprotocol header:\n%s", hints)
	}
	if protos := browsertest.Value(t, b, "read the subprotocols", chromedp.Value(browsertest.CSS(`#console-subprotocols`))); protos != "notes.v1" {
		t.Errorf("subprotocols field %q, want the route's notes.v1", protos)
	}

	b.Do(t, "connect with the API key and send a note",
		chromedp.SendKeys(browsertest.CSS(`#console-cred-apikey`), "demo-key"),
		chromedp.Click(browsertest.CSS(`#console-connect`)),
		chromedp.WaitVisible(browsertest.CSS(`#console-state[data-state="connected"]`)),
		chromedp.SetValue(browsertest.CSS(`#console-editor`), `{"text":"from the docs"}`),
		chromedp.Click(browsertest.CSS(`#console-send`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#console-log li.entry.in')].some(e => e.textContent.includes("demo-robot"))`))
	log := browsertest.Value(t, b, "read the log", chromedp.TextContent(browsertest.CSS(`#console-log`)))
	if !strings.Contains(log, "subprotocol notes.v1") || strings.Contains(log, "demo-key") {
		t.Errorf("log, want notes.v1 negotiated and the key never shown:\n%s", log)
	}

	b.Expect("/ws/notes") // chromium logs the refused handshake
	b.Do(t, "connect without credentials",
		chromedp.Click(browsertest.CSS(`#console-disconnect`)),
		chromedp.WaitVisible(browsertest.CSS(`#console-state[data-state="disconnected"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const el = document.getElementById('console-cred-apikey');
			el.value = '';
			el.dispatchEvent(new Event('input'));
		})()`),
		chromedp.Click(browsertest.CSS(`#console-connect`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('console-log').textContent.includes("none was given")`))
	if p := b.Unexpected(); len(p) > 0 {
		t.Fatalf("browser problems: %v", p)
	}
	b.CheckHosts(t, strings.TrimPrefix(srv.URL, "http://"))
}
