package main

import (
	"testing"

	"github.com/forgekit/forge/integration/spectest"
)

// TestDocuments checks the example's OpenAPI and AsyncAPI documents with
// the Go validators and the official tools.
func TestDocuments(t *testing.T) {
	spectest.Documents(t, newApp("admin-token"))
}
