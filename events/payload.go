package events

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/forgekit/forge/internal/payload"
)

// payloadType decodes and validates the payloads of one Go type against
// the JSON schema reflected from it (see internal/payload), checked before
// the payload is decoded into the type. The documents describe the payload
// with the same reflection, so what they promise is what is enforced.
type payloadType struct {
	typ      reflect.Type
	schema   *payload.Schema // nil: any JSON value
	emptyObj bool            // an absent or null payload reads as {}
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
	sch, err := payload.For(t)
	if err != nil {
		return nil, err
	}
	p.schema = sch
	actual, _ := payloadTypes.LoadOrStore(t, p)
	return actual.(*payloadType), nil
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
	switch err := p.schema.Validate(raw, "payload"); {
	case errors.Is(err, payload.ErrSyntax):
		return &Error{Code: CodeInvalidPayload, Message: "the payload is not valid JSON"}
	case err != nil:
		return &Error{Code: CodeInvalidPayload, Message: err.Error()}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &Error{Code: CodeInvalidPayload, Message: describeDecode(err)}
	}
	return nil
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
	if lit, ok := strings.CutPrefix(te.Value, "number "); ok && (want == "integer" || want == "number") {
		// The schema let it through: out of the Go type's range, or an
		// integer in JSON Schema's sense (1e1, 1.0) that encoding/json
		// does not read as one.
		if f, err := strconv.ParseFloat(lit, 64); want == "integer" && err == nil && math.Abs(f) < 1<<53 && strings.ContainsAny(lit, ".eE") {
			return fmt.Sprintf("%s: got %s, want an integer written without a fraction or exponent", loc, lit)
		}
		return fmt.Sprintf("%s: %s is out of range", loc, te.Value)
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
