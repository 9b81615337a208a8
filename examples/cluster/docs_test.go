package main

import (
	"testing"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/integration/spectest"
)

// TestDocuments checks the documents of a node with the Go validators and
// the official tools.
func TestDocuments(t *testing.T) {
	bus := hub.NewMemoryBroker()
	defer bus.Close()
	app, rooms, err := newNode(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer rooms.Close()
	spectest.Documents(t, app)
}
