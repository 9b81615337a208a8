package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
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
			_, body := testkit.Do(t, req, tt.status)
			var me map[string]any
			json.Unmarshal(body, &me)
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

	// The API key travels the same way, as apikey.<key>.
	ws = srv.Dial(t, "/ws/notes", nil, "notes.v1", "apikey.demo-key")
	if ws.Subprotocol() != "notes.v1" {
		t.Fatalf("subprotocol %q, want notes.v1", ws.Subprotocol())
	}
	ws.SendJSON(Note{Text: "beep"})
	ws.ReadJSON(&n)
	if n.Text != "beep" || n.By != "demo-robot" {
		t.Fatalf("note %+v", n)
	}
	if _, resp, err := srv.DialErr("/ws/notes", nil, "notes.v1", "apikey.wrong"); err == nil || resp == nil || resp.StatusCode != 401 ||
		!strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), "; "), `APIKey in="header", name="X-API-Key", error="invalid_token"`) {
		t.Fatalf("a wrong key got %v %v, want 401 with the API key challenge", resp, err)
	}
}

// TestDocumentedCommands replays the curl commands of the package comment
// against the example, so that what the reader copies works.
func TestDocumentedCommands(t *testing.T) {
	srv := start(t)
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for line := range strings.Lines(string(src)) {
		cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "//\tcurl ")
		if !ok {
			continue
		}
		n++
		t.Run(cmd, func(t *testing.T) {
			testkit.Do(t, curlRequest(t, srv.URL, shellWords(t, cmd)), http.StatusOK)
		})
	}
	if n < 2 {
		t.Fatalf("found %d curl commands in the package comment, want the login and /me ones", n)
	}
}

// curlRequest builds the request of curl's arguments -X, -H, -d and -s
// and a URL on localhost:8080, sent to base instead.
func curlRequest(t *testing.T, base string, args []string) *http.Request {
	t.Helper()
	method, target, body := "", "", ""
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 >= len(args) {
				t.Fatalf("%s needs a value", a)
			}
			i++
			return args[i]
		}
		switch {
		case a == "-s":
		case strings.HasPrefix(a, "-X"):
			method = strings.TrimPrefix(a, "-X")
			if method == "" {
				method = next()
			}
		case a == "-H":
			k, v, _ := strings.Cut(next(), ":")
			header.Add(k, strings.TrimSpace(v))
		case a == "-d":
			body = next()
		case strings.HasPrefix(a, "-"):
			t.Fatalf("the test does not know curl's %s", a)
		default:
			target = strings.Replace(a, "localhost:8080", strings.TrimPrefix(base, "http://"), 1)
		}
	}
	if method == "" {
		method = http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
	}
	if body != "" && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
	}
	req, err := http.NewRequest(method, "http://"+strings.TrimPrefix(target, "http://"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	return req
}

// shellWords splits a command line as a POSIX shell does for words in
// single quotes and plain words.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
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
