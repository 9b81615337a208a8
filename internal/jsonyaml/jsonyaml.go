// Package jsonyaml converts JSON documents to YAML, keeping the order of
// object keys, so that a document's YAML form reads like its JSON form and
// is as deterministic.
package jsonyaml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// FromJSON returns the YAML form of the JSON value in b. Object keys keep
// their order; strings that YAML would read as another type are quoted. An
// object with a key twice is refused, since YAML has no form for it.
func FromJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := node(dec)
	if err != nil {
		return nil, fmt.Errorf("jsonyaml: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("jsonyaml: data after the JSON value")
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("jsonyaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("jsonyaml: %w", err)
	}
	return out.Bytes(), nil
}

// node reads the next JSON value from dec as a YAML node.
func node(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				// YAML refuses a mapping with a key twice; JSON only
				// advises against it.
				for i := 0; i < len(n.Content); i += 2 {
					if n.Content[i].Value == key {
						return nil, fmt.Errorf("object key %q repeats", key)
					}
				}
				val, err := node(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, str(key), val)
			}
			if len(n.Content) == 0 {
				n.Style = yaml.FlowStyle
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			for dec.More() {
				val, err := node(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, val)
			}
			if len(n.Content) == 0 {
				n.Style = yaml.FlowStyle
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", v)
	case string:
		return str(v), nil
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s}, nil
		}
		// YAML 1.1 wants a dot in a float with an exponent: 1e3 → 1.0e3.
		if i := strings.IndexAny(s, "eE"); i >= 0 && !strings.Contains(s, ".") {
			s = s[:i] + ".0" + s[i:]
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}, nil
	case bool:
		if v {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// str is a string scalar; the encoder quotes it when its plain form would
// read as another type ("3.0.0" stays a string, so do "true" and "1").
// Strings that YAML 1.1 reads as booleans are quoted too, for the readers
// that still follow it.
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off":
		n.Style = yaml.DoubleQuotedStyle
	case "<<": // a merge key to YAML, plain
		n.Style = yaml.DoubleQuotedStyle
	}
	if strings.Contains(s, "\n") && !blockSafe(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// blockSafe reports whether yaml.v3 writes s, a string of several lines,
// as a literal block that reads back as s: text whose first line starts
// with a visible character, without tabs or other control characters.
// yaml.v3 loses the line breaks before a first visible line ("\n0" reads
// back as "0") and writes blocks with tabs that no reader accepts; such
// strings are quoted.
func blockSafe(s string) bool {
	if s == "" || s[0] == ' ' || s[0] == '\n' {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			return false
		}
	}
	return true
}
