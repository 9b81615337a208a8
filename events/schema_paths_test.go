package events

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit/testmux"
	"github.com/forgekit/forge/router"
)

type pathsOwner struct {
	Name string `json:"name" required:"true"`
	Mail string `json:"mail,omitempty"`
}

// pathsIn carries a constraint next to what the reflector writes as a
// $ref (minProperties on a field of a named struct type): draft 7 ignores
// a $ref's siblings, draft 2020-12 and inlined references do not.
type pathsIn struct {
	Owner pathsOwner `json:"owner" required:"true" minProperties:"2"`
	Count int        `json:"count" maximum:"10"`
}

// TestSchemaSameOnBothPaths: a typed REST body and an event payload of the
// same type are judged alike, by the one compiler of internal/payload.
func TestSchemaSameOnBothPaths(t *testing.T) {
	t.Parallel()
	app := testmux.New(t)
	router.Post(app.Mux, "/rest", func(ctx router.Context, in pathsIn) (struct{}, error) { return struct{}{}, nil })
	d := New(quiet())
	On(d, "check", func(c *Context, in pathsIn) error { return nil })
	Route(app.Mux, "/ws", d)
	srv := forgetest.Start(t, app)
	c := dial(t, srv, "/ws")

	tests := []struct {
		name, body string
		ok         bool
	}{
		{"valid", `{"owner":{"name":"a","mail":"m"},"count":1}`, true},
		{"minProperties beside a reference", `{"owner":{"name":"a"},"count":1}`, false},
		{"nested required", `{"owner":{"mail":"m","x":1}}`, false},
		{"maximum", `{"owner":{"name":"a","mail":"m"},"count":11}`, false},
		// encoding/json matches names without regard to case, the schema
		// exactly: a name in another case must not slip past it.
		{"name in another case", `{"owner":{"name":"a","mail":"m"},"count":1,"COUNT":99}`, false},
		{"nested name in another case", `{"owner":{"name":"a","mail":"m","NAME":""},"count":1}`, false},
	}
	for i, tt := range tests {
		resp, err := http.Post(srv.URL+"/rest", "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		restOK := resp.StatusCode == http.StatusNoContent
		if !restOK && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: REST status %d", tt.name, resp.StatusCode)
		}

		id := string(rune('a' + i))
		c.SendEvent("check", id, json.RawMessage(tt.body))
		o := c.recv()
		eventOK := o.Event == "check"+ackSuffix
		if !eventOK && o.Event != "error" || o.ID != id {
			t.Fatalf("%s: event answer %+v", tt.name, o)
		}
		if restOK != tt.ok || eventOK != tt.ok {
			t.Errorf("%s: REST accepted %v, event accepted %v (%s), want %v", tt.name, restOK, eventOK, o.Payload, tt.ok)
		}
	}
}
