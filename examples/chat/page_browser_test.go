package main

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/forgekit/forge/examples/internal/tcpproxy"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/integration/browsertest"
)

// enter opens the chat page in a tab and joins room as user.
func enter(base, user, room string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/chat/"),
		chromedp.WaitVisible(browsertest.CSS("#login")),
		chromedp.SetValue(browsertest.CSS("#name"), user),
		chromedp.SetValue(browsertest.CSS("#room"), room),
		chromedp.Click(browsertest.CSS("#join")),
		chromedp.WaitVisible(browsertest.CSS(`#status[data-state="open"]`)),
	}
}

// messages reads the chat lines a page shows, as "user: text".
const messages = `[...document.querySelectorAll("#messages li.message")].map((li) => li.querySelector(".user").textContent + ": " + li.querySelector(".text").textContent)`

// TestChatPageInChromium opens the chat page in two tabs: what ann types
// appears on bob's page, and the page renders (a screenshot of it is a
// real image, not a blank one).
func TestChatPageInChromium(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	b := browsertest.New(t)
	bob := b.NewTab(t)

	b.Do(t, "ann enters", enter(srv.URL, "ann", "lobby")...)
	bob.Do(t, "bob enters", enter(srv.URL, "bob", "lobby")...)
	b.Do(t, "ann sees bob come in", chromedp.Poll[chromedp.Void](`document.querySelector("#messages").textContent.includes("bob joined")`))
	b.Do(t, "ann says hello",
		chromedp.SendKeys(browsertest.CSS("#text"), "hello bob, this is ann"),
		chromedp.Click(browsertest.CSS("#say")),
		chromedp.WaitVisible(browsertest.CSS("#messages li.message.mine")),
	)
	bob.Do(t, "bob hears ann", chromedp.WaitVisible(browsertest.CSS("#messages li.message")))
	bob.Do(t, "bob answers",
		chromedp.SendKeys(browsertest.CSS("#text"), "hi ann"),
		chromedp.Click(browsertest.CSS("#say")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#messages li.message").length === 2`),
	)
	b.Do(t, "ann hears bob", chromedp.Poll[chromedp.Void](`document.querySelectorAll("#messages li.message").length === 2`))

	want := []string{"ann: hello bob, this is ann", "bob: hi ann"}
	for name, tab := range map[string]*browsertest.Browser{"ann": b, "bob": bob} {
		if got := browsertest.Value(t, tab, "read "+name+"'s page", chromedp.Evaluate[[]string](messages)); !slices.Equal(got, want) {
			t.Errorf("%s's page shows %q, want %q", name, got, want)
		}
	}

	shot := browsertest.Value(t, b, "take a screenshot", chromedp.CaptureScreenshot())
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	colors := map[[4]uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y && len(colors) < 64; y += 7 {
		for x := bounds.Min.X; x < bounds.Max.X && len(colors) < 64; x += 7 {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r, g, bl, a}] = true
		}
	}
	if bounds.Dx() < 200 || bounds.Dy() < 200 || len(colors) < 16 {
		t.Errorf("the screenshot is %v with %d colours: the page did not render", bounds, len(colors))
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
	b.CheckHosts(t, strings.TrimPrefix(srv.URL, "http://"))
}

// TestChatPageResumesAfterADrop: the page's connection drops while bob
// goes on talking; when the network is back, the page reconnects with
// ?recover= and shows every message once, in order, with no notice of
// missing ones (the chat keeps its rooms' last 100 messages).
func TestChatPageResumesAfterADrop(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	px := tcpproxy.New(t, strings.TrimPrefix(srv.URL, "http://"))
	b := browsertest.New(t)
	b.Expect("WebSocket connection to") // the refused attempts
	b.Do(t, "ann enters", enter(px.URL, "ann", "lobby")...)
	waitMembers(t, srv, "lobby", 1)

	bob := srv.Dial(t, "/ws/chat/lobby?user=bob", nil)
	say := func(i int) {
		t.Helper()
		id := fmt.Sprint(i)
		bob.SendEvent("message", id, SendMessage{Text: "m" + id})
		for { // skip presence
			var e forgetest.Event
			bob.ReadJSON(&e)
			if e.ID == id {
				if e.Event != "message.ack" {
					t.Fatalf("say %d: %s %s", i, e.Event, e.Payload)
				}
				return
			}
		}
	}
	for i := 1; i <= 3; i++ {
		say(i)
	}
	b.Do(t, "ann hears three", chromedp.Poll[chromedp.Void](`document.querySelectorAll("#messages li.message").length === 3`))

	px.Refuse(true)
	px.Drop()
	b.Do(t, "the page notices", chromedp.WaitVisible(browsertest.CSS(`#status[data-state="waiting"]`)))
	waitRefused(t, px)
	for i := 4; i <= 8; i++ {
		say(i)
	}
	px.Refuse(false)
	b.Do(t, "the page reconnects", chromedp.Poll[chromedp.Void](`document.querySelector("#messages").textContent.includes("reconnected")`))
	say(9)
	b.Do(t, "ann hears all", chromedp.Poll[chromedp.Void](`document.querySelectorAll("#messages li.message").length >= 9`))

	got := browsertest.Value(t, b, "read the page", chromedp.Evaluate[[]string](messages))
	var want []string
	for i := 1; i <= 9; i++ {
		want = append(want, fmt.Sprintf("bob: m%d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("the page shows %q, want %q", got, want)
	}
	text := browsertest.Value(t, b, "read the notices", chromedp.Evaluate[string](`document.querySelector("#messages").textContent`))
	if strings.Contains(text, "missing") {
		t.Errorf("the page says messages are missing:\n%s", text)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}

// waitRefused waits until the proxy refused a reconnection.
func waitRefused(t *testing.T, px *tcpproxy.Proxy) {
	t.Helper()
	deadline := time.Now().Add(forgetest.Timeout)
	for px.Refused() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the page did not try to reconnect")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
