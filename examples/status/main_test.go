package main

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLiveStatus checks that the status comes at once, and then again
// only when it changed, although it is checked every few milliseconds and
// its check time differs every time.
func TestLiveStatus(t *testing.T) {
	srv := forgetest.Start(t, newApp(5*time.Millisecond))
	ws := srv.Dial(t, "/ws/status", nil)
	var s Status
	ws.ReadJSON(&s)
	if s.Version != 1 || s.Jobs != 0 || !s.Healthy || s.Checked.IsZero() {
		t.Fatalf("first status %+v", s)
	}
	for want := 2; want <= 4; want++ {
		// Let a few checks pass that find nothing new.
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Post(srv.URL+"/jobs", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ws.ReadJSON(&s)
		if s.Version != want || s.Jobs != want-1 {
			t.Fatalf("status %+v, want version %d: an unchanged status was sent again", s, want)
		}
	}
	// Closing the client ends PeriodicWrite and the handler; TestMain's
	// leak check sees anything left behind.
	ws.Close()
}
