package jsonyaml

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzFromJSON: any JSON value converts, and its YAML form reads back as
// the same value, key order included; what is not JSON, or has an object
// with a key twice, is refused.
func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{
		`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}`,
		`{"b":1,"a":[1.5,-2e3,0,true,null,"yes","1","3.0.0","",{"":[]}]}`,
		`{"k":"line\nbreak","t":"\t#: - ? &*!|>'\"%@` + "`" + `"}`,
		`{"a":1,"a":2}`,
		`[1E+2,-0,0.0,1e-7,12345678901234567890]`,
		`"\u2028\u0085\ufeff\ud83d\ude00"`,
		`{"a":`, `[1,]`, `1 2`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := FromJSON(b)
		if !json.Valid(b) {
			if err == nil {
				t.Fatalf("%q is not JSON, converted to %q", b, out)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		want, repeats := ordered(t, dec)
		if repeats {
			if err == nil {
				t.Fatalf("%q has a key twice, converted to %q", b, out)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		var fromYAML yaml.Node
		if err := yaml.Unmarshal(out, &fromYAML); err != nil {
			t.Fatalf("%q converts to YAML that does not read: %v\n%s", b, err, out)
		}
		if got := plain(t, fromYAML.Content[0]); !reflect.DeepEqual(want, got) {
			t.Fatalf("%.200q reads back from YAML as %.200v, want %.200v\n%.200s", b, got, want, out)
		}
	})
}

// pair is one key and value of an object, in order.
type pair struct {
	k string
	v any
}

// plain reads a YAML node as the JSON value it stands for: objects as
// ordered pairs, numbers as exact rationals.
func plain(t *testing.T, n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		out := []pair{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, pair{n.Content[i].Value, plain(t, n.Content[i+1])})
		}
		return out
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			out = append(out, plain(t, c))
		}
		return out
	}
	switch n.ShortTag() {
	case "!!str":
		return n.Value
	case "!!int", "!!float":
		return number(n.Value)
	case "!!bool":
		return n.Value == "true"
	case "!!null":
		return nil
	}
	t.Fatalf("YAML node %v %q", n.ShortTag(), n.Value)
	return nil
}

// number is a number's exact value, or, for exponents past 400, its text
// without the ".0" FromJSON adds before an exponent (big.Rat would spell
// out a million digits).
func number(lit string) string {
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		if e, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+")); err != nil || e > 400 || e < -400 {
			return strings.ReplaceAll(strings.ToLower(lit), ".0e", "e")
		}
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		return "not a number: " + lit
	}
	return r.RatString()
}

// ordered reads the next JSON value from dec as plain returns it, and
// whether an object in it has a key twice.
func ordered(t *testing.T, dec *json.Decoder) (any, bool) {
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	repeats := false
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			out := []pair{}
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				val, r := ordered(t, dec)
				repeats = repeats || r || seen[k.(string)]
				seen[k.(string)] = true
				out = append(out, pair{k.(string), val})
			}
			dec.Token()
			return out, repeats
		}
		out := []any{}
		for dec.More() {
			val, r := ordered(t, dec)
			repeats = repeats || r
			out = append(out, val)
		}
		dec.Token()
		return out, repeats
	case json.Number:
		return number(v.String()), false
	}
	return tok, false
}
