package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T) *forgetest.Server {
	t.Helper()
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	return forgetest.Start(t, app)
}

func login(t *testing.T, srv *forgetest.Server, user string) string {
	t.Helper()
	resp, err := http.Post(srv.URL+"/login", "application/json", strings.NewReader(`{"user":"`+user+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("login: %v %+v", err, out)
	}
	return out.Token
}

func TestREST(t *testing.T) {
	srv := start(t)
	tok := login(t, srv, "ann")
	for _, tt := range []struct {
		name, header, value string
		status              int
		subject             string
	}{
		{"no credentials", "", "", 401, ""},
		{"jwt", "Authorization", "Bearer " + tok, 200, "ann"},
		{"api key", "X-API-Key", "demo-key", 200, "demo-robot"},
		{"api key in the Authorization header", "Authorization", "demo-key", 401, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
			if tt.header != "" {
				req.Header.Set(tt.header, tt.value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			var me map[string]any
			json.NewDecoder(resp.Body).Decode(&me)
			if tt.subject != "" && me["subject"] != tt.subject {
				t.Fatalf("me %v", me)
			}
		})
	}
}

func TestWebSocketFromABrowserStyleClient(t *testing.T) {
	srv := start(t)
	tok := login(t, srv, "ann")

	if ws, resp, err := srv.DialErr("/ws/notes", nil, "notes.v1"); err == nil {
		ws.Close()
		t.Fatal("upgraded without credentials")
	} else if resp == nil || resp.StatusCode != 401 {
		t.Fatalf("got %v, want 401 before any upgrade", resp)
	}

	ws := srv.Dial(t, "/ws/notes", nil, "notes.v1", "bearer."+tok)
	if ws.Subprotocol() != "notes.v1" {
		t.Fatalf("subprotocol %q, want notes.v1", ws.Subprotocol())
	}
	ws.SendJSON(Note{Text: "hi"})
	var n Note
	ws.ReadJSON(&n)
	if n.Text != "hi" || n.By != "ann" {
		t.Fatalf("note %+v", n)
	}
}

func TestPage(t *testing.T) {
	srv := start(t)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
