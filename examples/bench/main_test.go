package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stats is the part of GET /stats the tests read.
type stats struct {
	Goroutines      int        `json:"goroutines"`
	Dropped         int        `json:"dropped"`
	RoomMembers     int        `json:"room_members"`
	BroadcastErrors int        `json:"broadcast_errors"`
	Hub             hub.Status `json:"hub"`
}

func startNode(t *testing.T, opts ...hub.Option) *forgetest.Server {
	t.Helper()
	app, rooms, err := newApp("127.0.0.1:0", new(benchCounters), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rooms.Close() })
	return forgetest.Start(t, app)
}

func TestBenchServer(t *testing.T) {
	srv := startNode(t)

	for _, path := range []string{"/echo", "/listen"} {
		echo := srv.Dial(t, path, nil)
		for _, m := range []string{"ping", "pong"} {
			echo.SendText(m)
			if got := echo.ReadText(); got != m {
				t.Fatalf("%s: %q, want %q", path, got, m)
			}
		}
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

	st := getStats(t, srv)
	if st.Goroutines < 4 || st.Dropped != 0 || st.Hub.Published != 3 || st.Hub.Delivered != 9 {
		t.Fatalf("stats %+v", st)
	}
}

// TestBenchCluster runs two nodes sharing an in-process broker, as
// scripts/bench-cluster.sh runs them over Redis or NATS: a message sent on
// one node reaches the room's members on the other.
func TestBenchCluster(t *testing.T) {
	bus := hub.NewMemoryBroker()
	a := startNode(t, hub.WithBroker(bus.Connect()))
	b := startNode(t, hub.WithBroker(bus.Connect()))

	sender := a.Dial(t, "/room", nil)
	far := b.Dial(t, "/room", nil)
	waitMembers(t, a, 1)
	waitMembers(t, b, 1)

	sender.SendText("hello")
	if got := sender.ReadText(); got != "hello" {
		t.Fatalf("sender got %q", got)
	}
	if got := far.ReadText(); got != "hello" {
		t.Fatalf("member on the other node got %q", got)
	}
	if st := getStats(t, b); st.Hub.Remote != 1 || st.Hub.BrokerDropped != 0 {
		t.Fatalf("receiving node's hub: %+v", st.Hub)
	}
}

// TestBenchHistory runs the node as -history does: members receive each
// JSON object with its position first, and a message that is not an
// object is refused and counted.
func TestBenchHistory(t *testing.T) {
	srv := startNode(t, hub.WithHistory("*", 10, time.Hour))
	sender := srv.Dial(t, "/room", nil)
	member := srv.Dial(t, "/room", nil)
	waitMembers(t, srv, 2)

	sender.SendText("not an object")
	sender.SendText(`{"m":"first"}`)
	for _, c := range []*forgetest.Conn{sender, member} {
		got := c.ReadText()
		if !strings.HasPrefix(got, `{"position":{"room":"room","epoch":"`) || !strings.HasSuffix(got, `,"offset":1},"m":"first"}`) {
			t.Fatalf("member got %q", got)
		}
	}
	if st := getStats(t, srv); st.BroadcastErrors != 1 || st.Hub.Delivered != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func getStats(t *testing.T, srv *forgetest.Server) stats {
	t.Helper()
	var st stats
	testkit.GetJSON(t, srv.URL+"/stats", &st)
	return st
}

// waitMembers waits until n members joined the room, so that nobody
// speaks before everyone listens.
func waitMembers(t *testing.T, srv *forgetest.Server, n int) {
	t.Helper()
	for range 1000 {
		if getStats(t, srv).RoomMembers >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d room members", n)
}

// TestStatsMemory: GET /stats?mem adds the runtime's memory statistics,
// which plain GET /stats leaves out (reading them stops the world).
func TestStatsMemory(t *testing.T) {
	srv := startNode(t)
	for _, tc := range []struct {
		query string
		want  bool
	}{{"", false}, {"?mem", true}} {
		resp, err := http.Get(srv.URL + "/stats" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Mem map[string]uint64 `json:"mem"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := body.Mem != nil; got != tc.want {
			t.Fatalf("GET /stats%s: memory statistics present %v, want %v", tc.query, got, tc.want)
		}
		if tc.want && (body.Mem["heap_inuse"] == 0 || body.Mem["stack_inuse"] == 0 || body.Mem["sys"] == 0) {
			t.Fatalf("GET /stats%s: %v, want heap, stack and system figures", tc.query, body.Mem)
		}
	}
}

// TestPprofLoopbackOnly: -pprof refuses an address that is not loopback.
func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:19599", "192.0.2.1:19599", "example.com:19599", "no-port"} {
		if err := servePprof(addr); err == nil {
			t.Fatalf("servePprof(%q) = nil, want a refusal", addr)
		}
	}
}
