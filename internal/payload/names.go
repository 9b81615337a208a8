package payload

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// NameError reports an object property whose name differs from a field's
// JSON name only in case. encoding/json matches names without regard to
// case, and the schema matches them exactly: such a property would be
// decoded into the field without the field's constraints being checked
// ({"id":"ok","ID":"anything"} sets ID to "anything").
type NameError struct {
	Location []string // JSON pointer tokens of the object holding the property
	Name     string   // the property's name
	Want     string   // the field's name
}

func (e *NameError) Error() string {
	return "property " + pointer(append(e.Location, e.Name)) + ": " + e.reason()
}

func (e *NameError) reason() string {
	return fmt.Sprintf("property names are case-sensitive: want %q", e.Want)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// CheckNames returns a *NameError for the first property of v, a decoded
// JSON value, that encoding/json would decode into a field of s's Go type
// under another name than the field's own. A schema made by Compile has no
// Go type and passes everything.
func (s *Schema) CheckNames(v any) error {
	if s == nil || s.typ == nil {
		return nil
	}
	return checkNames(s.typ, v, nil)
}

func checkNames(t reflect.Type, v any, loc []string) error {
	for t.Kind() == reflect.Pointer {
		if t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) {
			return nil
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil // the type reads its JSON itself
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for name, val := range obj {
			if f, ok := fields[name]; ok {
				if err := checkNames(f, val, append(loc, name)); err != nil {
					return err
				}
				continue
			}
			for want := range fields {
				if strings.EqualFold(name, want) {
					return &NameError{Location: loc, Name: name, Want: want}
				}
			}
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for name, val := range obj {
				if err := checkNames(t.Elem(), val, append(loc, name)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := v.([]any); ok {
			for i, val := range arr {
				if err := checkNames(t.Elem(), val, append(loc, strconv.Itoa(i))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonFields returns the JSON names of t's fields that encoding/json
// decodes, with their types, embedded structs' fields included.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type)
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct && depth < 8 {
					walk(ft, depth+1)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, seen := out[name]; !seen || depth == 0 {
				out[name] = f.Type
			}
		}
	}
	walk(t, 0)
	return out
}
