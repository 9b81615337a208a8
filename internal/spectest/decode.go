package spectest

import (
	"encoding/json"
	"strings"
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

// At returns the compact JSON of what path finds in doc, a decoded
// document: keys and array indexes separated by "/", a "/" in a key
// written "~1" as in a JSON pointer ("paths/~1users/get"). It returns
// "null" when nothing is there, and doc itself for the empty path.
func At(doc any, path string) string {
	v := doc
	if path != "" {
		for k := range strings.SplitSeq(path, "/") {
			switch x := v.(type) {
			case map[string]any:
				v = x[strings.ReplaceAll(k, "~1", "/")]
			case []any:
				i := int(k[0] - '0')
				if i >= len(x) {
					return "null"
				}
				v = x[i]
			default:
				return "null"
			}
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
