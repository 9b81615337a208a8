package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/integration/browsertest"
)

// TestDocsUIAgainstTheChatRoom opens the chat app's /docs in a real headless
// chromium, checks both references render from the app's own live
// documents, and uses the WebSocket console, with the ?user= field the
// document declares, to send the examples it inserts unchanged: each is
// accepted, and what it says reaches a second client in the room.
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

	// The document declares ?user=, so the console has a field for it;
	// the examples it inserts are sent unchanged and accepted.
	b.Do(t, "open the WebSocket reference and connect",
		chromedp.Navigate(srv.URL+"/docs/websocket/"),
		chromedp.WaitVisible(browsertest.CSS(`#console-connect`)),
		chromedp.SendKeys(browsertest.CSS(`#console-param-room`), "lobby"),
		chromedp.SendKeys(browsertest.CSS(`#console-query-user`), "ann"),
		chromedp.Click(browsertest.CSS(`#console-connect`)),
		chromedp.WaitVisible(browsertest.CSS(`#console-state[data-state="connected"]`)),
	)
	choices := browsertest.Value(t, b, "read the message choices", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#console-message option')].map(o => o.value + "=" + o.textContent)`))
	for _, c := range choices {
		if strings.Contains(c, "_2") {
			t.Errorf("message choice %q is numbered", c)
		}
	}
	for _, ev := range []string{"message", "join", "typing"} {
		b.Do(t, "send the example of "+ev+" unchanged",
			chromedp.Evaluate[chromedp.Void](`(() => {
				const s = document.getElementById('console-message');
				s.value = '`+ev+`';
				s.dispatchEvent(new Event('change'));
			})()`),
			chromedp.Click(browsertest.CSS(`#console-example`)),
			chromedp.Click(browsertest.CSS(`#console-send`)),
			chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#console-log li.entry.in')].some(e => e.textContent.includes('`+ev+`.ack') || e.textContent.includes('"error"'))`),
		)
	}
	log := browsertest.Value(t, b, "read the log", chromedp.TextContent(browsertest.CSS(`#console-log`)))
	if strings.Contains(log, `"code"`) || !strings.Contains(log, "join.ack") || !strings.Contains(log, "typing.ack") {
		t.Errorf("the examples were refused or not answered:\n%s", log)
	}

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
		if !strings.Contains(string(env.Payload), `"Hello, room!"`) || !strings.Contains(string(env.Payload), `"ann"`) {
			t.Fatalf("bob got %s", env.Payload)
		}
		break
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
	b.CheckHosts(t, host)
}
