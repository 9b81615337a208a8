package main

import (
	"testing"

	"github.com/forgekit/forge/forgetest"
)

func TestEcho(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ws := srv.Dial(t, "/ws/echo", nil)
	for _, msg := range []string{"hello", "", "ünïcode ✓"} {
		ws.SendText(msg)
		if got := ws.ReadText(); got != msg {
			t.Fatalf("echo of %q: got %q", msg, got)
		}
	}
}
