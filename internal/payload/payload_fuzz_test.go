package payload

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// order has a constraint of each kind the tags give.
type order struct {
	ID    string   `json:"id" required:"true" minLength:"1" maxLength:"8" pattern:"^[a-z0-9]+$"`
	Qty   int      `json:"qty" required:"true" minimum:"1" maximum:"99"`
	Kind  string   `json:"kind,omitempty" enum:"buy,sell"`
	Tags  []string `json:"tags,omitempty" maxItems:"3" uniqueItems:"true"`
	Email string   `json:"email,omitempty" format:"email"`
	Note  *struct {
		Text string `json:"text" required:"true"`
	} `json:"note,omitempty"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+$`)

// FuzzValidate checks Validate against encoding/json and the constraints
// themselves: ErrSyntax exactly for what is not one JSON value, and a
// value that passes decodes into the type and meets every constraint.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		`{"id":"a1","qty":3,"kind":"buy","tags":["x","y"],"email":"a@b.example","note":{"text":"t"}}`,
		`{"id":"A","qty":0}`,
		`{"id":"abcdefghi","qty":100}`,
		`{"id":"a","qty":1.5}`,
		`{"id":"a","qty":1e1}`,
		`{"id":"a","qty":1,"tags":["x","x"]}`,
		`{"id":"a","qty":1,"email":"not an email"}`,
		`{"id":"a","qty":1,"note":{}}`,
		`{"id":"a","qty":1} {}`,
		`{"id":"a","qty":1,"id":"B"}`,
		`{"id":"\u00e9","qty":1}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	s, err := For(reflect.TypeFor[order]())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := s.Validate(raw, "payload")
		if errors.Is(err, ErrSyntax) != !json.Valid(raw) {
			t.Fatalf("%q: Validate %v, json.Valid %v", raw, err, json.Valid(raw))
		}
		var pe *Error
		if err != nil && !errors.Is(err, ErrSyntax) && (!errors.As(err, &pe) || !utf8.ValidString(pe.Error())) {
			t.Fatalf("%q: error %T %q", raw, err, err)
		}
		if err != nil {
			return
		}
		var o order
		if err := json.Unmarshal(raw, &o); err != nil {
			// JSON Schema's integers include 1e1 and 1.0, which
			// encoding/json does not decode into an int: the event layer
			// says so (events' describeDecode). Nothing else may fail.
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) || te.Field != "qty" || !strings.HasPrefix(te.Value, "number ") {
				t.Fatalf("%q passes the schema but does not decode: %v", raw, err)
			}
			return
		}
		switch {
		case utf8.RuneCountInString(o.ID) < 1 || utf8.RuneCountInString(o.ID) > 8 || !idPattern.MatchString(o.ID),
			o.Qty < 1 || o.Qty > 99,
			o.Kind != "" && o.Kind != "buy" && o.Kind != "sell",
			len(o.Tags) > 3:
			t.Fatalf("%q passes the schema as %+v", raw, o)
		}
		seen := map[string]bool{}
		for _, tag := range o.Tags {
			if seen[tag] {
				t.Fatalf("%q passes with a repeated tag", raw)
			}
			seen[tag] = true
		}
	})
}
