package docs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/forgekit/forge/integration/spectest"
)

// TestFixturesAreValid keeps the hand-written documents the browser test
// serves valid by the official schemas and the project's own document
// checks, so that the UI is tested on documents a conforming producer could
// emit.
func TestFixturesAreValid(t *testing.T) {
	t.Parallel()
	for name, check := range map[string]func(testing.TB, []byte){
		"asyncapi.json": spectest.AsyncAPI,
		"openapi.json":  spectest.OpenAPI,
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			check(t, b)
		})
	}
}
