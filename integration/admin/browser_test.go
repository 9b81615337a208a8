// Package admin_test drives forge's inspector (forge.WithAdmin) in headless
// chromium.
package admin_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/integration/browsertest"
	"github.com/forgekit/forge/internal/testkit"
)

var secret = []byte("inspector test secret, 32 bytes+")

// TestInspectorInChromium opens the inspector, behind a JWT in a cookie
// (credentials a browser presents by itself), in headless chromium: without
// the cookie the page is a 401; with it, the page renders, lists a real
// connection with its route and principal, and its tap shows a message the
// connection sends, credentials blanked out. Every request stays on the
// app's host.
func TestInspectorInChromium(t *testing.T) {
	jwtp, err := auth.JWT(auth.JWTConfig{HMACSecret: secret, Cookie: "ops_session"})
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{"k-1": {Subject: "robot"}})
	app := forge.New(
		forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		forge.WithAuthProvider("ops", jwtp),
		forge.WithAuthProvider("key", keys),
		forge.WithAdmin("/admin", forge.AdminAuth("ops", "admin")),
	)
	app.Router().WebSocket("/ws/echo", func(_ forge.Context, c forge.Connection) error {
		return testkit.Echo(c)
	}, forge.WithAuth("key"))
	srv := forgetest.Start(t, app)
	host := strings.TrimPrefix(srv.URL, "http://")
	ws := srv.Dial(t, "/ws/echo", map[string][]string{"X-API-Key": {"k-1"}})
	for deadline := time.Now().Add(forgetest.Timeout); app.Stats().Open != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connection is not open")
		}
	}
	id := app.Connections()[0].ID

	b := browsertest.New(t)
	var (
		mu     sync.Mutex
		status = map[string]int64{}
	)
	if err := chromedp.Listen(b.Context(), func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok {
			mu.Lock()
			status[r.Response.URL] = r.Response.Status
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	// No cookie: 401, with the problem as the page (which, being JSON,
	// names no icon: chromium asks for /favicon.ico).
	b.Expect("401 (Unauthorized)")
	b.Expect("/favicon.ico")
	b.Do(t, "open the inspector without credentials", chromedp.Navigate(srv.URL+"/admin"))
	body := browsertest.Value(t, b, "read the refusal", chromedp.Text(browsertest.CSS("body")))
	mu.Lock()
	got := status[srv.URL+"/admin"]
	mu.Unlock()
	if got != 401 || !strings.Contains(body, `"status":401`) || strings.Contains(body, id) {
		t.Fatalf("without credentials: status %d, page %q", got, body)
	}

	// The cookie of an operator: the page lists the connection.
	setCookie := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "ops", "scope": "admin", "exp": time.Now().Add(time.Hour).Unix(),
		}).SignedString(secret)
		if err != nil {
			return chromedp.Void{}, err
		}
		_, err = cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "ops_session", Value: tok, URL: srv.URL})
		return chromedp.Void{}, err
	}
	row := `#connections tbody tr[data-id="` + id + `"]`
	b.Do(t, "open the inspector as an operator", setCookie,
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible(browsertest.CSS(row)))
	text := browsertest.Value(t, b, "read the connection's row", chromedp.Text(browsertest.CSS(row)))
	for _, want := range []string{id, "/ws/echo", "robot", "127.0.0.1:"} {
		if !strings.Contains(text, want) {
			t.Errorf("the connection's row %q lacks %q", text, want)
		}
	}

	// Tap it from the page; a message it sends shows, its secret blanked.
	b.Do(t, "tap the connection",
		chromedp.Click(browsertest.CSS(row+` button`)), // "tap" comes first
		chromedp.WaitVisible(browsertest.CSS(`#tap-frames li.start`)),
	)
	ws.SendText(`{"text":"hello from the tap","password":"hunter2"}`)
	ws.ReadText()
	b.Do(t, "see the message in the tap",
		chromedp.WaitVisible(browsertest.CSS(`#tap-frames li.in`)),
		chromedp.WaitVisible(browsertest.CSS(`#tap-frames li.out`)))
	frames := browsertest.Value(t, b, "read the tap", chromedp.Text(browsertest.CSS(`#tap-frames`)))
	if !strings.Contains(frames, "hello from the tap") || strings.Contains(frames, "hunter2") || !strings.Contains(frames, "[redacted]") {
		t.Fatalf("tap shows %q", frames)
	}
	b.Do(t, "stop the tap", chromedp.Click(browsertest.CSS(`#tap-stop`)))

	b.CheckHosts(t, host)
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("the page had problems: %v", p)
	}
}
