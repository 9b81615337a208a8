package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/forgekit/forge/integration/browsertest"
)

// TestBrowserConnectsWithSubprotocolToken drives the example's page in a
// real headless chromium: it logs in, opens the protected WebSocket with the
// token as a Sec-WebSocket-Protocol entry, and sends a note signed by the
// server with the token's subject.
func TestBrowserConnectsWithSubprotocolToken(t *testing.T) {
	srv := start(t)
	b := browsertest.New(t)
	b.Do(t, "log in and connect",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(browsertest.CSS(`#login`)),
		chromedp.SetValue(browsertest.CSS(`#user`), "bea"),
		chromedp.Click(browsertest.CSS(`#login`)),
		chromedp.WaitEnabled(browsertest.CSS(`#send`)),
		chromedp.Click(browsertest.CSS(`#send`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("log").textContent.includes("received")`),
	)
	log := browsertest.Value(t, b, "read the log", chromedp.Text(browsertest.CSS(`#log`)))
	if !strings.Contains(log, "connected, subprotocol notes.v1") || !strings.Contains(log, `{"text":"hello","by":"bea"}`) {
		t.Fatalf("log:\n%s", log)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Fatalf("browser problems: %v", p)
	}
	b.CheckHosts(t, strings.TrimPrefix(srv.URL, "http://"))
}
