package main

import (
	"testing"

	"github.com/forgekit/forge/integration/spectest"
)

// TestDocuments checks the example's OpenAPI and AsyncAPI documents with
// the Go validators and the official tools.
func TestDocuments(t *testing.T) {
	app, rooms, err := newApp("127.0.0.1:19500", new(benchCounters))
	if err != nil {
		t.Fatal(err)
	}
	defer rooms.Close()
	spectest.Documents(t, app)
}
