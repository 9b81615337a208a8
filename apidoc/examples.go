package apidoc

import (
	"reflect"
	"slices"
)

// Exampler is implemented by types that provide examples: request and
// response types, whose media types list them, and message payloads, whose
// messages do (wrapped in the message's envelope, if it has one).
type Exampler interface {
	Examples() []any
}

// Examples returns the examples v's type provides, if any: those of its
// Examples method, declared on the type or on a pointer to it. The slice
// is the caller's to change.
func Examples(v any) []any {
	ex, ok := v.(Exampler)
	if !ok && v != nil {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer {
			p := reflect.New(rv.Type())
			p.Elem().Set(rv)
			ex, ok = p.Interface().(Exampler)
		}
	}
	if !ok {
		return nil
	}
	return slices.Clone(ex.Examples())
}
