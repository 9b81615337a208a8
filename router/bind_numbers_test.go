package router_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/forgekit/forge/router"
)

// TestBindNumbersSchemaLetsThrough: numbers that JSON Schema accepts and
// encoding/json does not decode get a 422 that says why in JSON's terms.
func TestBindNumbersSchemaLetsThrough(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	router.Post(m, "/n", func(ctx router.Context, in struct {
		Small int8 `json:"small"`
	}) (struct{}, error) {
		return struct{}{}, nil
	})
	tests := []struct{ body, want string }{
		{`{"small":1e1}`, "got 1e1, want an integer written without a fraction or exponent"},
		{`{"small":2.0}`, "got 2.0, want an integer written without a fraction or exponent"},
		{`{"small":300}`, "300 is out of range for int8"},
	}
	for _, tt := range tests {
		rec := do(t, m, http.MethodPost, "/n", tt.body, "Content-Type", "application/json")
		var p struct {
			Errors []router.FieldError `json:"errors"`
		}
		if rec.Code != http.StatusUnprocessableEntity || json.Unmarshal(rec.Body.Bytes(), &p) != nil || len(p.Errors) != 1 {
			t.Fatalf("%s: %d %s", tt.body, rec.Code, rec.Body)
		}
		if e := p.Errors[0]; e.Location != "body.small" || e.Message != tt.want {
			t.Errorf("%s: %+v, want body.small %q", tt.body, e, tt.want)
		}
	}
}
