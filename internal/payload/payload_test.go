package payload

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

type say struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"200"`
}

func TestValidate(t *testing.T) {
	t.Parallel()
	s, err := For(reflect.TypeFor[*say]())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"valid", `{"text":"hi"}`, ""},
		{"too short", `{"text":""}`, "message/text: minLength: got 0, want 1"},
		{"missing", `{}`, "message: missing property 'text'"},
		{"not an object", `[1]`, "message: got array, want object"},
		{"not JSON", `{"text":`, ErrSyntax.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.Validate([]byte(tt.in), "message")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Validate(%s) = %q, want %q", tt.in, got, tt.want)
			}
			var pe *Error
			if tt.want != "" && tt.want != ErrSyntax.Error() && !errors.As(err, &pe) {
				t.Fatalf("Validate(%s) = %T, want *Error", tt.in, err)
			}
		})
	}
}

// TestAnyValue: interfaces and json.RawMessage take any JSON value, and a
// type's schema is compiled once.
func TestAnyValue(t *testing.T) {
	t.Parallel()
	for _, typ := range []reflect.Type{reflect.TypeFor[any](), reflect.TypeFor[json.RawMessage]()} {
		s, err := For(typ)
		if err != nil || s != nil {
			t.Fatalf("For(%s) = %v, %v; want nil, nil", typ, s, err)
		}
		if err := s.Validate([]byte(`not even JSON`), "message"); err != nil {
			t.Fatalf("nil schema: %v", err)
		}
	}
	a, _ := For(reflect.TypeFor[say]())
	b, _ := For(reflect.TypeFor[say]())
	if a != b {
		t.Fatal("the schema of a type was compiled twice")
	}
}

type treeNode struct {
	Name     string     `json:"name" required:"true" minLength:"1"`
	Children []treeNode `json:"children,omitempty"`
}

// TestRecursiveType: a type that contains itself compiles, and its
// constraints hold at every depth.
func TestRecursiveType(t *testing.T) {
	t.Parallel()
	s, err := For(reflect.TypeFor[treeNode]())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`{"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]}`), "payload"); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`{"name":"a","children":[{"name":"b","children":[{"name":""}]}]}`), "payload"); err == nil {
		t.Fatal("an empty name two levels down passed")
	}
	if err := s.Validate([]byte(`{"name":"a","children":[{"name":"b","NAME":""}]}`), "payload"); err == nil {
		t.Fatal("a name in another case two levels down passed")
	}
}
