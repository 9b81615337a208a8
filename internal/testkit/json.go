// Package testkit holds the helpers that the tests of every module in this
// repository share. It depends on the standard library alone, so that any
// package's tests may use it.
package testkit

import (
	"encoding/json"
	"strings"
)

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
