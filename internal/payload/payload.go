// Package payload checks JSON messages against the JSON schema of a Go
// type: the schema swaggest/jsonschema-go reflects from the type and its
// struct tags (required, enum, minLength, maximum, pattern, format, ...),
// compiled once with santhosh-tekuri/jsonschema. The documents describe
// messages with the same reflection, so what they publish is what is
// enforced. The event layer checks payloads with it, and connections the
// messages of raw WebSocket routes that declare their type.
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	santhosh "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/swaggest/jsonschema-go"
)

// Schema is the compiled JSON schema of one Go type. A nil *Schema, the
// schema of a type that takes any JSON value, validates anything: the
// decoder then judges the syntax.
type Schema struct {
	s *santhosh.Schema
}

// schemas caches *Schema by reflect.Type: the schema of a type does not
// change.
var schemas sync.Map

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// For returns the schema of t, compiling it on first use. Interfaces and
// json.RawMessage take any JSON value: their schema is nil. For fails for a
// type whose schema cannot be reflected or compiled, a programmer error
// that callers report at registration.
func For(t reflect.Type) (*Schema, error) {
	if t.Kind() == reflect.Interface || t == rawMessageType {
		return nil, nil
	}
	if s, ok := schemas.Load(t); ok {
		return s.(*Schema), nil
	}
	sch, err := compile(t)
	if err != nil {
		return nil, err
	}
	actual, _ := schemas.LoadOrStore(t, &Schema{s: sch})
	return actual.(*Schema), nil
}

func compile(t reflect.Type) (*santhosh.Schema, error) {
	var r jsonschema.Reflector
	s, err := r.Reflect(reflect.New(t).Elem().Interface(), jsonschema.InlineRefs)
	if err != nil {
		return nil, fmt.Errorf("reflect a JSON schema from %s: %w", t, err)
	}
	doc, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode the JSON schema of %s: %w", t, err)
	}
	v, err := santhosh.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("read the JSON schema of %s: %w", t, err)
	}
	c := santhosh.NewCompiler()
	c.AssertFormat()
	const url = "forge:///payload.json"
	if err := c.AddResource(url, v); err != nil {
		return nil, fmt.Errorf("load the JSON schema of %s: %w", t, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile the JSON schema of %s: %w", t, err)
	}
	return sch, nil
}

// ErrSyntax is returned by Validate for input that is not JSON.
var ErrSyntax = errors.New("not valid JSON")

// Error reports a JSON value that breaks its schema. Its text says where
// and how in JSON's terms, never in Go's, so that it may reach the peer.
type Error struct {
	msg string
}

func (e *Error) Error() string { return e.msg }

// Validate checks raw against s: it returns nil, ErrSyntax, or an *Error
// naming up to three leaf errors, each located by a JSON pointer under
// root ("payload/text: minLength: got 0, want 1").
func (s *Schema) Validate(raw []byte, root string) error {
	if s == nil {
		return nil
	}
	inst, err := santhosh.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return ErrSyntax
	}
	if err := s.s.Validate(inst); err != nil {
		return &Error{msg: describe(err, root)}
	}
	return nil
}

// describe turns a schema validation error into a short message: up to
// three leaf errors, each with where it is under root.
func describe(err error, root string) string {
	var ve *santhosh.ValidationError
	if !errors.As(err, &ve) {
		return "the " + root + " is invalid"
	}
	var msgs []string
	var walk func(u *santhosh.OutputUnit)
	walk = func(u *santhosh.OutputUnit) {
		if u.Error != nil && len(u.Errors) == 0 {
			msg := root + u.InstanceLocation + ": " + u.Error.String()
			for _, m := range msgs {
				if m == msg {
					return
				}
			}
			msgs = append(msgs, msg)
		}
		for i := range u.Errors {
			walk(&u.Errors[i])
		}
	}
	walk(ve.BasicOutput())
	if len(msgs) == 0 {
		return "the " + root + " is invalid"
	}
	if len(msgs) > 3 {
		msgs = append(msgs[:3], "...")
	}
	return strings.Join(msgs, "; ")
}
