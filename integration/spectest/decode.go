package spectest

import (
	"encoding/json"
	"testing"
)

// Encoder is a built document: an *asyncapi.Document or *openapi.Document.
type Encoder interface {
	JSON() ([]byte, error)
	YAML() ([]byte, error)
}

// Decode encodes doc in both forms, validates each with check (OpenAPI or
// AsyncAPI), and returns the JSON form, decoded and as bytes.
func Decode(t testing.TB, doc Encoder, check func(testing.TB, []byte)) (map[string]any, []byte) {
	t.Helper()
	j, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	check(t, j)
	y, err := doc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	check(t, y)
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return m, j
}
