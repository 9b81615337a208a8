package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/forgekit/forge/forgetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBenchServer(t *testing.T) {
	srv := forgetest.Start(t, newApp("127.0.0.1:0"))

	echo := srv.Dial(t, "/echo", nil)
	echo.SendText("ping")
	if got := echo.ReadText(); got != "ping" {
		t.Fatalf("echo: %q", got)
	}

	// Every message sent to /room reaches every member, sender included,
	// in order.
	var members []*forgetest.Conn
	for range 3 {
		members = append(members, srv.Dial(t, "/room", nil))
	}
	waitMembers(t, srv, 3)
	for i, m := range members {
		m.SendText(fmt.Sprint("from ", i))
		for _, each := range members {
			if got := each.ReadText(); got != fmt.Sprint("from ", i) {
				t.Fatalf("member got %q", got)
			}
		}
	}

	var stats map[string]float64
	resp, err := http.Get(srv.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	if stats["goroutines"] < 4 || stats["dropped"] != 0 {
		t.Fatalf("stats %v", stats)
	}
}

// waitMembers waits until n members joined the room, so that nobody
// speaks before everyone listens.
func waitMembers(t *testing.T, srv *forgetest.Server, n int) {
	t.Helper()
	for range 1000 {
		resp, err := http.Get(srv.URL + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		var stats map[string]float64
		json.NewDecoder(resp.Body).Decode(&stats)
		resp.Body.Close()
		if int(stats["room_members"]) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d room members", n)
}
