// Package payload checks JSON values against the JSON schema of a Go
// type: the schema swaggest/jsonschema-go reflects from the type and its
// struct tags (required, enum, minLength, maximum, pattern, format, ...),
// compiled once with santhosh-tekuri/jsonschema. The documents describe
// messages and bodies with the same reflection, so what they publish is
// what is enforced. The event layer checks payloads with it, connections
// the messages of raw WebSocket routes that declare their type, and the
// router the bodies and parameters of typed REST routes: forge has this
// one compiler.
//
// # One draft
//
// Every schema is compiled as JSON Schema draft 2020-12 (Draft), the
// dialect of OpenAPI 3.1, with formats asserted. The reflector writes a
// field of a named struct type as a $ref, with the field's own
// constraints beside it (minProperties, say): draft 2020-12 applies them,
// where draft 7 would ignore every keyword beside a $ref.
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
	s   *santhosh.Schema
	typ reflect.Type // the Go type values decode into, for CheckNames; nil if unknown
}

// Draft is the JSON Schema draft of every schema forge validates with.
var Draft = santhosh.Draft2020

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
	var r jsonschema.Reflector
	// References stay references (a recursive type has no inline form);
	// draft 2020-12 applies the keywords beside them.
	js, err := r.Reflect(reflect.New(t).Elem().Interface())
	if err != nil {
		return nil, fmt.Errorf("reflect a JSON schema from %s: %w", t, err)
	}
	sch, err := Compile(js)
	if err != nil {
		return nil, fmt.Errorf("compile the JSON schema of %s: %w", t, err)
	}
	sch.typ = t
	actual, _ := schemas.LoadOrStore(t, sch)
	return actual.(*Schema), nil
}

// Compile compiles a schema reflected by swaggest/jsonschema-go, as every
// schema of forge is compiled (see Draft). The *Schema it returns has no
// Go type: CheckNames passes everything.
func Compile(js jsonschema.Schema) (*Schema, error) {
	doc, err := json.Marshal(js)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	v, err := santhosh.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	c := santhosh.NewCompiler()
	c.DefaultDraft(Draft)
	c.AssertFormat()
	const url = "forge:///schema.json"
	if err := c.AddResource(url, v); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, err
	}
	return &Schema{s: sch}, nil
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
	if err := s.CheckNames(inst); err != nil {
		var ne *NameError
		errors.As(err, &ne)
		return &Error{msg: root + pointer(append(ne.Location, ne.Name)) + ": " + ne.reason()}
	}
	return nil
}

// ValidateValue checks v, a JSON value as santhosh-tekuri/jsonschema's
// UnmarshalJSON or a json.Decoder with UseNumber reads it, against s: it
// returns nil, a *jsonschema.ValidationError, or a *NameError (see
// CheckNames), for callers that report each violation on its own.
func (s *Schema) ValidateValue(v any) error {
	if s == nil {
		return nil
	}
	if err := s.s.Validate(v); err != nil {
		return err
	}
	return s.CheckNames(v)
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
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
