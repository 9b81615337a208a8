package forge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/admin"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/testkit"
)

// adminApp is an app with the inspector behind basic auth ("ops"/"pw"),
// an events chat route behind an API key (principal "robot") on a hub
// the app inspects.
func adminApp(t *testing.T, opts ...forge.AdminOption) (*forge.App, *forgetest.Server, *hub.Hub) {
	t.Helper()
	ops := auth.Basic("inspector", func(_ context.Context, user, password string) (*auth.Principal, error) {
		if user == "ops" && password == "pw" {
			return &auth.Principal{Subject: "ops"}, nil
		}
		return nil, nil
	})
	keys := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{"k-1": {Subject: "robot"}})
	if len(opts) == 0 {
		opts = []forge.AdminOption{forge.AdminAuth("ops")}
	}
	app := forge.New(
		forge.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		forge.WithAuthProvider("ops", ops),
		forge.WithAuthProvider("key", keys),
		forge.WithAdmin("/admin", opts...),
	)
	h, err := hub.New(hub.WithPresence("presence"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	app.Inspect(h)
	d := events.New(events.WithHub(h), events.WithOnConnect(func(c *events.Context) error {
		return c.Join(c.Route().Param("room"))
	}))
	events.Emits[sayPayload](d, "said")
	events.Emits[sayPayload](d, "notice")
	events.OnRequest(d, "say", func(c *events.Context, p sayPayload) (sayPayload, error) {
		return p, c.Broadcast(c.Route().Param("room"), "said", p, c.Conn().ID())
	})
	events.Route(app.Router(), "/ws/chat/:room", d, forge.WithAuth("key"))
	return app, forgetest.Start(t, app), h
}

var robot = http.Header{"X-API-Key": {"k-1"}}

// adminGet fetches the inspector's url with basic auth, unless user is "".
func adminGet(t *testing.T, url, user string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, "pw")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("ops", "pw")
	_, body := testkit.Do(t, req, http.StatusOK)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatal(err)
	}
}

// post runs an action and returns its status.
func post(t *testing.T, url, body string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.SetBasicAuth("ops", "pw")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAdminNeedsAuth(t *testing.T) {
	testkit.MustPanic(t, "forge: ", "needs auth", func() { forge.New(forge.WithAdmin("/admin")) })
}

func TestAdminAuth(t *testing.T) {
	_, srv, _ := adminApp(t)
	for _, path := range []string{"/admin", "/admin/api/connections", "/admin/api/tap?room=lobby", "/admin/assets/admin.js"} {
		resp := adminGet(t, srv.URL+path, "")
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without credentials: %s (WWW-Authenticate %q), want 401 with a challenge",
				path, resp.Status, resp.Header.Get("WWW-Authenticate"))
		}
	}
	resp := adminGet(t, srv.URL+"/admin", "intruder")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /admin with a wrong password: %s, want 401", resp.Status)
	}
	if got := post(t, srv.URL+"/admin/api/rooms/evict", `{}`, http.Header{"Authorization": {"Basic bm9ib2R5Ong="}}); got != http.StatusUnauthorized {
		t.Errorf("POST with wrong credentials: %d, want 401", got)
	}
	resp = adminGet(t, srv.URL+"/admin", "ops")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<table id="connections">`) {
		t.Fatalf("GET /admin as ops: %s\n%s", resp.Status, body)
	}
}

func TestAdminInsecureLocalOnly(t *testing.T) {
	app, srv, _ := adminApp(t, forge.AdminInsecureLocalOnly())
	resp := adminGet(t, srv.URL+"/admin/api/status", "") // from 127.0.0.1, no credentials
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("loopback client: %s, want 200", resp.Status)
	}
	// A client elsewhere: the only way to be one on a test machine is a
	// request with another remote address.
	for _, remote := range []string{"203.0.113.7:40000", "[2001:db8::1]:40000", "10.0.0.1:1"} {
		req := httptest.NewRequest(http.MethodGet, "/admin/api/status", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		app.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("client at %s: %d, want 403", remote, rec.Code)
		}
	}
}

// TestAdminConnectionsAndActions lists real connections, then closes one
// with a code, evicts one from its room and sends one a test event, each
// seen by the real client.
func TestAdminConnectionsAndActions(t *testing.T) {
	app, srv, h := adminApp(t)
	ann := srv.Dial(t, "/ws/chat/lobby", robot)
	bob := srv.Dial(t, "/ws/chat/lobby", robot)
	testkit.WaitFor(t, "both in the lobby", func() bool { return h.Count("lobby") == 2 })
	ann.SendText(`{"event":"say","id":"1","payload":{"text":"hi"}}`)
	readUntil(t, ann, `"say.ack"`)
	readUntil(t, bob, `"said"`)

	var conns []admin.Connection
	getJSON(t, srv.URL+"/admin/api/connections", &conns)
	if len(conns) != 2 {
		t.Fatalf("connections: %+v, want 2", conns)
	}
	var annID, bobID string
	for _, c := range conns {
		if c.Route != "/ws/chat/{room}" || c.Principal != "robot" || len(c.Rooms) != 1 || c.Rooms[0] != "lobby" ||
			!strings.HasPrefix(c.RemoteAddr, "127.0.0.1:") || c.Age < 0 {
			t.Errorf("connection %+v", c)
		}
		if c.MessagesIn == 1 {
			annID = c.ID
		} else {
			bobID = c.ID
		}
	}
	if annID == "" || bobID == "" {
		t.Fatalf("no connection with one message in: %+v", conns)
	}
	if got := app.Connections(); len(got) != 2 {
		t.Fatalf("App.Connections() = %+v", got)
	}
	resp := adminGet(t, srv.URL+"/admin/api/connections?limit=1&route=/ws/chat/%7Broom%7D", "ops")
	var first []admin.Connection
	json.NewDecoder(resp.Body).Decode(&first)
	resp.Body.Close()
	if len(first) != 1 || resp.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("?limit=1: %d connections, X-Total-Count %q", len(first), resp.Header.Get("X-Total-Count"))
	}
	var none []admin.Connection
	getJSON(t, srv.URL+"/admin/api/connections?route=/elsewhere", &none)
	if len(none) != 0 {
		t.Fatalf("?route=/elsewhere: %+v", none)
	}
	var rooms []admin.Room
	getJSON(t, srv.URL+"/admin/api/rooms", &rooms)
	if len(rooms) != 1 || rooms[0].Name != "lobby" || len(rooms[0].Members) != 2 || len(rooms[0].Presence) != 2 {
		t.Fatalf("rooms: %+v", rooms)
	}

	// Actions refuse what a page elsewhere could send.
	base := srv.URL + "/admin/api/connections/" + bobID
	if got := post(t, base+"/send", `{"event":"notice","payload":{"text":"x"}}`, http.Header{"Content-Type": {"text/plain"}}); got != http.StatusUnsupportedMediaType {
		t.Errorf("action without JSON: %d, want 415", got)
	}
	if got := post(t, base+"/send", `{"event":"notice","payload":{"text":"x"}}`, http.Header{"Origin": {"https://evil.example"}}); got != http.StatusForbidden {
		t.Errorf("action from another origin: %d, want 403", got)
	}
	if got := post(t, base+"/close", `{"code":1005}`, nil); got != http.StatusUnprocessableEntity {
		t.Errorf("close with 1005: %d, want 422", got)
	}
	if got := post(t, srv.URL+"/admin/api/connections/ws_nobody/close", `{"code":4000}`, nil); got != http.StatusNotFound {
		t.Errorf("close an unknown connection: %d, want 404", got)
	}

	// Send a test event to bob.
	if got := post(t, base+"/send", `{"event":"notice","payload":{"text":"from ops"}}`, nil); got != http.StatusAccepted {
		t.Fatalf("send: %d", got)
	}
	readUntil(t, bob, `{"event":"notice","payload":{"text":"from ops"}}`)
	// Evict bob from the lobby: ann is told, the hub agrees.
	if got := post(t, srv.URL+"/admin/api/rooms/evict", `{"room":"lobby","id":"`+bobID+`"}`, nil); got != http.StatusAccepted {
		t.Fatalf("evict: %d", got)
	}
	if got := readUntil(t, ann, `"action":"leave"`); !strings.Contains(got, bobID) {
		t.Fatalf("ann got %s, want bob's leave", got)
	}
	if m, _ := h.Connection(bobID); len(m.Rooms) != 0 {
		t.Fatalf("bob is still in %v", m.Rooms)
	}
	if got := post(t, srv.URL+"/admin/api/rooms/evict", `{"room":"lobby","id":"`+bobID+`"}`, nil); got != http.StatusNotFound {
		t.Errorf("evict again: %d, want 404", got)
	}
	// Close ann with 4000.
	if got := post(t, srv.URL+"/admin/api/connections/"+annID+"/close", `{"code":4000,"reason":"maintenance"}`, nil); got != http.StatusAccepted {
		t.Fatalf("close: %d", got)
	}
	if reason := ann.ExpectClose(4000); reason != "maintenance" {
		t.Fatalf("close reason %q", reason)
	}
	var st admin.Status
	// The route's counters and the tracker's see the close one after the
	// other: wait for both.
	testkit.WaitFor(t, "ann's close to be counted", func() bool {
		getJSON(t, srv.URL+"/admin/api/status", &st)
		return len(st.Routes) > 0 && st.Routes[0].CloseCodes["4000"] == 1 && st.Connections.Open == 1
	})
	if r := st.Routes[0]; r.Route != "/ws/chat/{room}" || r.Opened != 2 || r.Open != 1 || r.MessagesIn != 1 || st.Connections.Open != 1 {
		t.Fatalf("status %+v", st)
	}
}

// TestAdminTap streams a connection's and a room's traffic, with a
// credential in a message blanked out, and checks that the taps are off
// once their watchers leave.
func TestAdminTap(t *testing.T) {
	_, srv, h := adminApp(t)
	ann := srv.Dial(t, "/ws/chat/lobby", robot)
	bob := srv.Dial(t, "/ws/chat/lobby", robot)
	testkit.WaitFor(t, "both in the lobby", func() bool { return h.Count("lobby") == 2 })
	var conns []admin.Connection
	getJSON(t, srv.URL+"/admin/api/connections", &conns)
	var annID string
	for _, c := range conns {
		if c.RemoteAddr == ann.LocalAddr().String() {
			annID = c.ID
		}
	}

	connTap := openTap(t, srv.URL+"/admin/api/tap?conn="+annID)
	roomTap := openTap(t, srv.URL+"/admin/api/tap?room=lobby")
	waitTaps(t, srv, 2)

	ann.SendText(`{"event":"say","id":"7","payload":{"text":"hello","token":"s3cret-value"}}`)
	readUntil(t, ann, `"say.ack"`)
	readUntil(t, bob, `"said"`)

	in := connTap.nextExcept(t, "presence")
	if in.Dir != "in" || in.Conn != annID || !strings.Contains(in.Data, `"hello"`) || strings.Contains(in.Data, "s3cret") ||
		!strings.Contains(in.Data, `"token":"[redacted]"`) {
		t.Fatalf("first frame of ann's tap: %+v", in)
	}
	out := connTap.nextExcept(t, "presence")
	if out.Dir != "out" || !strings.Contains(out.Data, `"say.ack"`) || strings.Contains(out.Data, "s3cret") {
		t.Fatalf("second frame of ann's tap: %+v", out)
	}
	room := roomTap.nextExcept(t, "presence")
	if room.Dir != "room" || room.Room != "lobby" || room.Event != "said" || !strings.Contains(room.Data, `"hello"`) || strings.Contains(room.Data, "s3cret") {
		t.Fatalf("room tap frame: %+v", room)
	}

	// The watchers leave: the taps go off.
	connTap.close()
	roomTap.close()
	waitTaps(t, srv, 0)
	if got := post(t, srv.URL+"/admin/api/connections/ws_nobody/close", `{"code":4000}`, nil); got != http.StatusNotFound {
		t.Fatal(got)
	}
	resp := adminGet(t, srv.URL+"/admin/api/tap?conn=ws_nobody", "ops")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("tap of an unknown connection: %s", resp.Status)
	}

	// A tapped connection that ends ends its tap, with its close.
	connTap = openTap(t, srv.URL+"/admin/api/tap?conn="+annID)
	ann.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	ann.ExpectClose(websocket.CloseNormalClosure)
	if f := connTap.nextExcept(t, "presence"); f.Dir != "close" || f.Code != 1000 {
		t.Fatalf("frame %+v, want the close", f)
	}
	if _, err := connTap.r.ReadString('\n'); err != io.EOF {
		t.Fatalf("the tap of a closed connection goes on: %v", err)
	}
	connTap.close()
}

type tapStream struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

func openTap(t *testing.T, url string) *tapStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.SetBasicAuth("ops", "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		cancel()
		t.Fatalf("tap %s: %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	s := &tapStream{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	if f := s.next(t); f.Dir != "start" {
		t.Fatalf("first frame %+v, want start", f)
	}
	return s
}

func (s *tapStream) next(t *testing.T) admin.Frame {
	t.Helper()
	line, err := s.r.ReadString('\n')
	if err != nil {
		t.Fatalf("tap: %v", err)
	}
	var f admin.Frame
	if err := json.Unmarshal([]byte(line), &f); err != nil {
		t.Fatalf("tap line %q: %v", line, err)
	}
	return f
}

// nextExcept returns the next frame whose data does not mention skip.
func (s *tapStream) nextExcept(t *testing.T, skip string) admin.Frame {
	t.Helper()
	for {
		if f := s.next(t); !strings.Contains(f.Data, skip) {
			return f
		}
	}
}

// readUntil reads c's messages until one contains want, and returns it.
func readUntil(t *testing.T, c *forgetest.Conn, want string) string {
	t.Helper()
	for {
		if got := c.ReadText(); strings.Contains(got, want) {
			return got
		}
	}
}

func (s *tapStream) close() {
	s.cancel()
	s.resp.Body.Close()
}

func waitTaps(t *testing.T, srv *forgetest.Server, n int) {
	t.Helper()
	var st admin.Status
	deadline := time.Now().Add(forgetest.Timeout)
	for getJSON(t, srv.URL+"/admin/api/status", &st); st.Taps != n; getJSON(t, srv.URL+"/admin/api/status", &st) {
		if time.Now().After(deadline) {
			t.Fatalf("%d taps on, want %d", st.Taps, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
