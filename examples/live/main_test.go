package main

import (
	"testing"
	"time"

	"github.com/forgekit/forge/forgetest"
)

func TestHeartbeat(t *testing.T) {
	srv := forgetest.Start(t, newApp(20*time.Millisecond))
	ws := srv.Dial(t, "/ws/live", nil)
	for range 3 {
		var beat map[string]string
		ws.ReadJSON(&beat)
		if beat["type"] != "heartbeat" {
			t.Fatalf("got %v", beat)
		}
		if _, err := time.Parse(time.RFC3339, beat["time"]); err != nil {
			t.Fatalf("time: %v", err)
		}
	}
	// Closing the client ends the handler and its sender goroutine; the
	// package's leak check (TestMain) sees any goroutine left behind.
	ws.Close()
}
