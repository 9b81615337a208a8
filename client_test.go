package forge_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
)

// TestClientHandler mounts the browser client at /forge.js, as its doc
// says, and fetches it from a running app.
func TestClientHandler(t *testing.T) {
	t.Parallel()
	app := forge.New()
	app.Router().Mount("/forge.js", forge.ClientHandler())
	srv := forgetest.Start(t, app)
	res, err := http.Get(srv.URL + "/forge.js")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("%s, Content-Type %q", res.Status, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), "export class Client") || !strings.Contains(string(body), "export function connect") {
		t.Errorf("the module lacks Client and connect:\n%.300s", body)
	}
}
