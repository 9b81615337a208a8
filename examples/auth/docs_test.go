package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgekit/forge/integration/spectest"
)

// TestDocuments checks the example's documents with the Go validators and
// the official tools, and that both carry the security schemes the routes
// enforce.
func TestDocuments(t *testing.T) {
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	dir := spectest.Documents(t, app)
	for _, name := range []string{"openapi.json", "asyncapi.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Components struct {
				SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
			} `json:"components"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		jwtScheme, key := string(doc.Components.SecuritySchemes["jwt"]), string(doc.Components.SecuritySchemes["apikey"])
		if !strings.Contains(jwtScheme, `"bearer"`) || !strings.Contains(key, `"X-API-Key"`) {
			t.Fatalf("%s security schemes %v, want jwt (bearer) and apikey (X-API-Key)", name, doc.Components.SecuritySchemes)
		}
	}
}
