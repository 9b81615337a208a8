package jsonyaml

import (
	"encoding/json"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestFromJSON(t *testing.T) {
	t.Parallel()
	in := `{"z":"3.0.0","a":{"yes":"true","n":"1","null":"null","num":1,"f":1.5,"e":1e3,"b":false,"nil":null},` +
		`"empty":{},"list":[],"strs":["on","- x","a: b","#c"," lead","multi\nline"]}`
	got, err := FromJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `z: 3.0.0
a:
  "yes": "true"
  "n": "1"
  "null": "null"
  num: 1
  f: 1.5
  e: 1.0e3
  b: false
  nil: null
empty: {}
list: []
strs:
  - "on"
  - '- x'
  - 'a: b'
  - '#c'
  - ' lead'
  - |-
    multi
    line
`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// Read back, the YAML is the same value as the JSON.
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal(got, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(in), &fromJSON); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(fromYAML)
	var round any
	_ = json.Unmarshal(b, &round)
	if !reflect.DeepEqual(round, fromJSON) {
		t.Fatalf("YAML reads back as %v, want %v", round, fromJSON)
	}
	for _, bad := range []string{`{"a":}`, `{} {}`, `[1,`} {
		if _, err := FromJSON([]byte(bad)); err == nil {
			t.Errorf("FromJSON(%q) did not fail", bad)
		}
	}
}
