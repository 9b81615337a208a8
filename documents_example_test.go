package forge_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/forgekit/forge"
)

// ChatLine is the chat route's message, in both directions.
type ChatLine struct {
	Text string `json:"text"`
}

// WriteDocuments exports the documents without serving, for CI or go
// generate; FORGE_WRITE_DOCS=dir does the same for an app that calls Run.
func ExampleApp_WriteDocuments() {
	app := forge.New(forge.WithAppName("chat"), forge.WithVersion("1.0.0"))
	app.Router().WebSocket("/ws/chat/:room", func(ctx forge.Context, conn forge.Connection) error {
		return nil
	}, forge.WithWebSocketMessages(&ChatLine{}, &ChatLine{}))

	dir, _ := os.MkdirTemp("", "docs")
	defer os.RemoveAll(dir)
	if err := app.WriteDocuments(dir); err != nil {
		fmt.Println(err)
		return
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	b, _ := os.ReadFile(filepath.Join(dir, "asyncapi.yaml"))
	fmt.Printf("%.53s", b) // the first four lines
	// Output:
	// asyncapi.json
	// asyncapi.yaml
	// openapi.json
	// openapi.yaml
	// asyncapi: 3.0.0
	// info:
	//   title: chat
	//   version: 1.0.0
}
