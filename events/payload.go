package events

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	santhosh "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/swaggest/jsonschema-go"
)

// payloadType decodes and validates the payloads of one Go type: the JSON
// schema that swaggest/jsonschema-go reflects from the type and its struct
// tags (required, enum, minLength, maximum, pattern, format, ...) is
// compiled once with santhosh-tekuri/jsonschema and checked before the
// payload is decoded into the type. The documents describe the payload
// with the same reflection, so what they promise is what is enforced.
type payloadType struct {
	typ      reflect.Type
	schema   *santhosh.Schema // nil: any JSON value
	emptyObj bool             // an absent or null payload reads as {}
}

// payloadTypes caches payloadType by reflect.Type: the schema of a type
// does not change.
var payloadTypes sync.Map

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// payloadTypeOf returns the payloadType of t, compiling its schema on first
// use. It fails for a type whose schema cannot be reflected or compiled (a
// programmer error, reported at registration).
func payloadTypeOf(t reflect.Type) (*payloadType, error) {
	if p, ok := payloadTypes.Load(t); ok {
		return p.(*payloadType), nil
	}
	p := &payloadType{typ: t}
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	p.emptyObj = base.Kind() == reflect.Struct || base.Kind() == reflect.Map
	if t.Kind() != reflect.Interface && t != rawMessageType {
		sch, err := compileSchema(t)
		if err != nil {
			return nil, err
		}
		p.schema = sch
	}
	actual, _ := payloadTypes.LoadOrStore(t, p)
	return actual.(*payloadType), nil
}

func compileSchema(t reflect.Type) (*santhosh.Schema, error) {
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

var (
	emptyObject = []byte("{}")
	jsonNull    = []byte("null")
)

// decode validates raw and decodes it into v, a pointer to a value of p's
// type. A payload that does not fit is an *Error with CodeInvalidPayload.
func (p *payloadType) decode(raw []byte, v any) error {
	if p.typ == rawMessageType {
		// The message is the dispatcher's own fresh copy: no need for
		// another.
		if raw == nil {
			raw = jsonNull
		}
		*v.(*json.RawMessage) = raw
		return nil
	}
	if raw == nil || string(raw) == "null" {
		raw = jsonNull
		if p.emptyObj {
			raw = emptyObject
		}
	}
	if p.schema != nil {
		inst, err := santhosh.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return &Error{Code: CodeInvalidPayload, Message: "the payload is not valid JSON"}
		}
		if err := p.schema.Validate(inst); err != nil {
			return &Error{Code: CodeInvalidPayload, Message: describeInvalid(err)}
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &Error{Code: CodeInvalidPayload, Message: describeDecode(err)}
	}
	return nil
}

// describeInvalid turns a schema validation error into a short message:
// up to three leaf errors, each with where it is in the payload.
func describeInvalid(err error) string {
	var ve *santhosh.ValidationError
	if !errors.As(err, &ve) {
		return "the payload is invalid"
	}
	var msgs []string
	var walk func(u *santhosh.OutputUnit)
	walk = func(u *santhosh.OutputUnit) {
		if u.Error != nil && len(u.Errors) == 0 {
			loc := "payload" + u.InstanceLocation
			msg := loc + ": " + u.Error.String()
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
		return "the payload is invalid"
	}
	if len(msgs) > 3 {
		msgs = append(msgs[:3], "...")
	}
	return strings.Join(msgs, "; ")
}

// describeDecode turns a decoding error into a short message in JSON's
// terms. encoding/json's own text names Go types (int8, netip.Addr), and
// errors from UnmarshalJSON or UnmarshalText methods name Go functions:
// neither is the client's business.
func describeDecode(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "the payload does not fit"
	}
	loc := "payload"
	if te.Field != "" {
		loc += "/" + strings.ReplaceAll(te.Field, ".", "/")
	}
	want := jsonKind(te.Type)
	if (want == "integer" || want == "number") && strings.HasPrefix(te.Value, "number ") {
		return fmt.Sprintf("%s: %s is out of range", loc, te.Value) // the schema let it through
	}
	return fmt.Sprintf("%s: got %s, want %s", loc, te.Value, want)
}

// jsonKind names the JSON type that decodes into a value of type t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return "string" // netip.Addr, time.Time
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "another value"
}
