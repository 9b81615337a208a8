package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/forgekit/forge/forgetest"
)

func TestProtectedRoute(t *testing.T) {
	srv := forgetest.Start(t, newApp())

	t.Run("without key the handshake is refused", func(t *testing.T) {
		ws, resp, err := srv.DialErr("/ws/protected", nil)
		if err == nil {
			ws.Close()
			t.Fatal("upgraded without credentials")
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %v, want 401", resp)
		}
	})

	t.Run("with key the middleware's value reaches the handler", func(t *testing.T) {
		ws := srv.Dial(t, "/ws/protected", http.Header{"X-API-Key": {"demo-key"}})
		ws.SendJSON(Request{Query: "status"})
		var got Response
		ws.ReadJSON(&got)
		if got.User != "demo-user" || got.Answer != "you asked: status" {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("per-route read limit", func(t *testing.T) {
		ws := srv.Dial(t, "/ws/protected", http.Header{"X-API-Key": {"demo-key"}})
		ws.SendJSON(Request{Query: strings.Repeat("q", 5<<10)})
		ws.ExpectClose(1009)
	})

	t.Run("per-route origins", func(t *testing.T) {
		h := http.Header{"X-API-Key": {"demo-key"}, "Origin": {"https://evil.example"}}
		ws, resp, err := srv.DialErr("/ws/protected", h)
		if err == nil {
			ws.Close()
			t.Fatal("upgraded a foreign origin")
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
		srv.Dial(t, "/ws/protected", http.Header{"X-API-Key": {"demo-key"}, "Origin": {"http://localhost:3000"}})
	})
}
