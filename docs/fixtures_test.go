package docs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/asyncapi/spec-json-schemas/v6"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestFixturesAreValid keeps the hand-written documents the browser test
// serves valid by the official schemas, so that the UI is tested on
// documents a conforming producer could emit.
func TestFixturesAreValid(t *testing.T) {
	t.Parallel()
	t.Run("asyncapi", func(t *testing.T) {
		raw, err := specs.Get("3.0.0")
		if err != nil || raw == nil {
			t.Fatalf("AsyncAPI 3.0.0 schema: %v", err)
		}
		schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		const id = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
		c := jsonschema.NewCompiler()
		if err := c.AddResource(id, schemaDoc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile(id)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join("testdata", "asyncapi.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("testdata/asyncapi.json: %v", err)
		}
	})
	t.Run("openapi", func(t *testing.T) {
		doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join("testdata", "openapi.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(t.Context()); err != nil {
			t.Errorf("testdata/openapi.json: %v", err)
		}
	})
}
