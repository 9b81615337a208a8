package main

import (
	"testing"

	"github.com/forgekit/forge/integration/spectest"
)

// TestDocuments checks the example's OpenAPI and AsyncAPI documents with
// the Go validators and the official tools.
func TestDocuments(t *testing.T) {
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	spectest.Documents(t, app)
}
