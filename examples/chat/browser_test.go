package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/browsertest"
)

// TestDocsUIAgainstTheChatRoom opens the chat app's /docs in a real headless
// chromium, checks both references render from the app's own live
// documents, and uses the WebSocket console to say something in a room,
// which a second client in that room receives.
func TestDocsUIAgainstTheChatRoom(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	host := strings.TrimPrefix(srv.URL, "http://")
	listener := srv.Dial(t, "/ws/chat/lobby?user=bob", nil)

	b := browsertest.New(t)
	b.Do(t, "open the REST reference",
		chromedp.Navigate(srv.URL+"/docs/rest/"),
		chromedp.WaitVisible(browsertest.CSS(`.opblock`)))
	ops := browsertest.Value(t, b, "read the operations", chromedp.Text(browsertest.CSS(`.swagger-ui`)))
	if !strings.Contains(ops, "/rooms") {
		t.Errorf("Swagger UI lacks the /rooms operation:\n%.2000s", ops)
	}

	b.Do(t, "open the WebSocket reference and connect",
		chromedp.Navigate(srv.URL+"/docs/websocket/"),
		chromedp.WaitVisible(browsertest.CSS(`#console-connect`)),
		chromedp.SendKeys(browsertest.CSS(`#console-param-room`), "lobby"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#console details').forEach(d => d.open = true)`),
		chromedp.SendKeys(browsertest.CSS(`#console-extra-query`), "user=ann"),
		chromedp.Click(browsertest.CSS(`#console-connect`)),
		chromedp.WaitVisible(browsertest.CSS(`#console-state[data-state="connected"]`)),
		chromedp.SetValue(browsertest.CSS(`#console-editor`), `{"event":"message","id":"1","payload":{"text":"hello from the docs"}}`),
		chromedp.Click(browsertest.CSS(`#console-send`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#console-log li.entry.in')].some(e => e.textContent.includes("message.ack"))`),
	)

	// bob, in the same room, hears ann (presence messages may come first).
	for {
		var env struct {
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		listener.ReadJSON(&env)
		if env.Event != "message" {
			continue
		}
		if !strings.Contains(string(env.Payload), `"hello from the docs"`) || !strings.Contains(string(env.Payload), `"ann"`) {
			t.Fatalf("bob got %s", env.Payload)
		}
		break
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
	b.CheckHosts(t, host)
}
