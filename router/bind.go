package router

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	swag "github.com/swaggest/jsonschema-go"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/forgekit/forge/internal/payload"
)

// Where a request field comes from: the tags that name it.
const (
	inPath   = "path"
	inQuery  = "query"
	inHeader = "header"
	inCookie = "cookie"
)

var paramTags = []string{inPath, inQuery, inHeader, inCookie}

// param is a request field bound from a parameter.
type param struct {
	in, name string
	index    []int        // field index, through embedded structs
	typ      reflect.Type // the field's type
	def      string       // the default tag, used when the parameter is absent
	hasDef   bool
	conv     converter
}

// requestShape is what a request type holds: parameters and a JSON body.
type requestShape struct {
	params  []param
	body    bool    // json fields, or a type that is the body as a whole
	notBody [][]int // fields that the body must not set: all but json ones
}

// documented reports whether the shape has anything to document or bind.
func (sh requestShape) documented() bool { return len(sh.params) > 0 || sh.body }

// inspectRequest reads the shape of a request type from its tags.
func inspectRequest(t reflect.Type) (requestShape, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var sh requestShape
	if t.Kind() != reflect.Struct {
		sh.body = true
		return sh, nil
	}
	err := walkFields(t, nil, &sh)
	return sh, err
}

func walkFields(t reflect.Type, index []int, sh *requestShape) error {
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(slices.Clip(index), i)
		var tags []string
		for _, tag := range paramTags {
			if v, ok := f.Tag.Lookup(tag); ok && v != "-" && v != "" {
				tags = append(tags, tag)
			}
		}
		jsonName, jsonOK := f.Tag.Lookup("json")
		isJSON := jsonOK && jsonName != "-"
		if len(tags) > 1 {
			return fmt.Errorf("field %s is tagged both %s and %s", f.Name, tags[0], tags[1])
		}
		if len(tags) == 0 && !isJSON && f.Anonymous {
			ft := f.Type
			if ft.Kind() == reflect.Struct {
				if err := walkFields(ft, idx, sh); err != nil {
					return err
				}
				continue
			}
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				var inner requestShape
				if err := walkFields(ft.Elem(), nil, &inner); err != nil {
					return err
				}
				if inner.documented() {
					return fmt.Errorf("embedded field %s: embed the struct itself, not a pointer to it", f.Name)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if isJSON {
			sh.body = true
		} else {
			sh.notBody = append(sh.notBody, idx)
		}
		if len(tags) == 0 {
			continue
		}
		p := param{in: tags[0], name: f.Tag.Get(tags[0]), index: idx, typ: f.Type}
		p.def, p.hasDef = f.Tag.Lookup("default")
		conv, err := converterFor(f.Type, p.in != inPath && p.in != inCookie)
		if err != nil {
			return fmt.Errorf("field %s: %s parameter %q: %w", f.Name, p.in, p.name, err)
		}
		p.conv = conv
		if p.in == inHeader {
			p.name = http.CanonicalHeaderKey(p.name)
		}
		for _, q := range sh.params {
			if q.in == p.in && q.name == p.name {
				return fmt.Errorf("two fields are %s parameter %q", p.in, p.name)
			}
		}
		sh.params = append(sh.params, p)
	}
	return nil
}

// converter parses the values of a parameter into a value of the field's
// type, and gives the value that its schema validates.
type converter func(raw []string) (v reflect.Value, doc any, err error)

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	errSyntax       = errors.New("syntax")
)

// converterFor returns the converter for fields of type t; slices only
// where a parameter may repeat.
func converterFor(t reflect.Type, multi bool) (converter, error) {
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		return func(raw []string) (reflect.Value, any, error) {
			v := reflect.New(t)
			if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw[0])); err != nil {
				return v, raw[0], err
			}
			return v.Elem(), raw[0], nil
		}, nil
	case t.Kind() == reflect.Pointer:
		elem, err := converterFor(t.Elem(), multi)
		if err != nil {
			return nil, err
		}
		return func(raw []string) (reflect.Value, any, error) {
			v, doc, err := elem(raw)
			if err != nil {
				return v, doc, err
			}
			p := reflect.New(t.Elem())
			p.Elem().Set(v)
			return p, doc, nil
		}, nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return nil, fmt.Errorf("type %s: use string", t)
	case t.Kind() == reflect.Slice && multi:
		elem, err := converterFor(t.Elem(), false)
		if err != nil {
			return nil, err
		}
		return func(raw []string) (reflect.Value, any, error) {
			s := reflect.MakeSlice(t, len(raw), len(raw))
			docs := make([]any, len(raw))
			var first error
			for i, r := range raw {
				v, doc, err := elem([]string{r})
				docs[i] = doc
				if err != nil {
					first = cmp.Or(first, err)
					continue
				}
				s.Index(i).Set(v)
			}
			return s, docs, first
		}, nil
	}
	scalar := func(parse func(string) (any, error), set func(reflect.Value, any)) converter {
		return func(raw []string) (reflect.Value, any, error) {
			x, err := parse(raw[0])
			if err != nil {
				return reflect.Value{}, raw[0], err
			}
			v := reflect.New(t).Elem()
			set(v, x)
			return v, x, nil
		}
	}
	numErr := func(err error) error {
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("out of range for %s", t.Kind())
		}
		return errSyntax // the schema tells the client what it wants
	}
	switch t.Kind() {
	case reflect.String:
		return scalar(func(s string) (any, error) { return s, nil },
			func(v reflect.Value, x any) { v.SetString(x.(string)) }), nil
	case reflect.Bool:
		return scalar(func(s string) (any, error) {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, errSyntax
			}
			return b, nil
		}, func(v reflect.Value, x any) { v.SetBool(x.(bool)) }), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar(func(s string) (any, error) {
			n, err := strconv.ParseInt(s, 10, t.Bits())
			if err != nil {
				return nil, numErr(err)
			}
			return n, nil
		}, func(v reflect.Value, x any) { v.SetInt(x.(int64)) }), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar(func(s string) (any, error) {
			n, err := strconv.ParseUint(s, 10, t.Bits())
			if err != nil {
				return nil, numErr(err)
			}
			return n, nil
		}, func(v reflect.Value, x any) { v.SetUint(x.(uint64)) }), nil
	case reflect.Float32, reflect.Float64:
		return scalar(func(s string) (any, error) {
			f, err := strconv.ParseFloat(s, t.Bits())
			if err != nil {
				return nil, numErr(err)
			}
			return f, nil
		}, func(v reflect.Value, x any) { v.SetFloat(x.(float64)) }), nil
	}
	if t.Kind() == reflect.Slice {
		return nil, fmt.Errorf("type %s: only query parameters and headers may repeat", t)
	}
	return nil, fmt.Errorf("type %s cannot hold a parameter", t)
}

// binder binds and validates a typed handler's input.
type binder struct {
	typ    reflect.Type
	shape  requestShape
	params map[string]*payload.Schema // by location
	body   *payload.Schema
}

// binders caches the binder of each input type: routes that share an
// input type share its schemas. A binder never changes once made.
var binders sync.Map // reflect.Type → *binder

// binderFor returns the binder of t, made once per type.
func binderFor(t reflect.Type) (*binder, error) {
	if b, ok := binders.Load(t); ok {
		return b.(*binder), nil
	}
	b, err := newBinder(t)
	if err != nil {
		return nil, err
	}
	actual, _ := binders.LoadOrStore(t, b)
	return actual.(*binder), nil
}

// newBinder prepares the binding of t: its shape and the schemas that
// validate each location, from the same tags the documents read.
func newBinder(t reflect.Type) (*binder, error) {
	shape, err := inspectRequest(t)
	if err != nil {
		return nil, err
	}
	b := &binder{typ: t, shape: shape, params: make(map[string]*payload.Schema)}
	zero := reflect.New(t).Interface()
	for _, in := range paramTags {
		if !slices.ContainsFunc(shape.params, func(p param) bool { return p.in == in }) {
			continue
		}
		var r swag.Reflector
		s, err := r.Reflect(zero, swag.PropertyNameTag(in), swag.InlineRefs)
		if err != nil {
			return nil, fmt.Errorf("%s parameters: %w", in, err)
		}
		for name, p := range s.Properties {
			if p.TypeObject != nil {
				p.TypeObject.RemoveType(swag.Null) // a parameter is absent, never null
			}
			if in == inHeader {
				delete(s.Properties, name)
				s.Properties[http.CanonicalHeaderKey(name)] = p
			}
		}
		for i, name := range s.Required {
			if in == inHeader {
				s.Required[i] = http.CanonicalHeaderKey(name)
			}
		}
		if in == inPath {
			for _, p := range shape.params {
				if p.in == inPath && !slices.Contains(s.Required, p.name) {
					s.Required = append(s.Required, p.name)
				}
			}
		}
		if b.params[in], err = payload.Compile(s); err != nil {
			return nil, fmt.Errorf("%s parameters: %w", in, err)
		}
	}
	if shape.body {
		// The body is checked as events check payloads: one compiler, one
		// draft (internal/payload).
		if b.body, err = payload.For(t); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	return b, nil
}

// bind fills dst, a settable value of the input type, from the request.
// Client errors come back as *HTTPError: 415, 413 and 400 for a body that
// cannot be read, 422 with the field errors for input that is invalid.
func (b *binder) bind(c Context, dst reflect.Value) error {
	var errs []FieldError
	if b.shape.body {
		fe, err := b.bindBody(c, dst)
		if err != nil {
			return err
		}
		errs = append(errs, fe...)
	}
	r := c.Request()
	var query map[string][]string
	if b.params[inQuery] != nil {
		query = r.URL.Query()
	}
	for _, in := range paramTags {
		sch := b.params[in]
		if sch == nil {
			continue
		}
		doc := make(map[string]any)
		values := make(map[int]reflect.Value) // param index → value to set
		var failed []string                   // names whose values could not be parsed
		for i, p := range b.shape.params {
			if p.in != in {
				continue
			}
			raw := paramValues(c, r, query, p)
			if len(raw) == 0 && p.hasDef {
				raw = []string{p.def}
			}
			if len(raw) == 0 {
				continue
			}
			v, d, err := p.conv(raw)
			doc[p.name] = d
			switch {
			case err == nil:
				values[i] = v
			case errors.Is(err, errSyntax):
				// The schema says what the value should have been.
			default:
				errs = append(errs, FieldError{Location: in + "." + p.name, Message: err.Error(), Value: strings.Join(raw, ",")})
				failed = append(failed, p.name)
				delete(doc, p.name)
			}
		}
		if err := sch.ValidateValue(doc); err != nil {
			for _, fe := range fieldErrors(in, err) {
				if !slices.ContainsFunc(failed, func(n string) bool { return fe.Location == in+"."+n }) {
					fe.Value = rawValue(doc, in, fe.Location)
					errs = append(errs, fe)
				}
			}
		}
		for i, v := range values {
			dst.FieldByIndex(b.shape.params[i].index).Set(v)
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b FieldError) int { return cmp.Compare(a.Location, b.Location) })
		return &HTTPError{Status: http.StatusUnprocessableEntity, Message: "validation failed", Errors: errs}
	}
	return nil
}

// paramValues returns the values a request gives for p: repeated query
// parameters, comma-separated header values.
func paramValues(c Context, r *http.Request, query map[string][]string, p param) []string {
	switch p.in {
	case inPath:
		v := c.Param(p.name)
		if r.URL.RawPath != "" {
			// The route matched the escaped path (a segment with an
			// escaped slash, say): bind the value the client meant, as
			// when it matched the decoded one. RawPath is a valid
			// encoding, so its segments unescape.
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
		}
		if v != "" {
			return []string{v}
		}
	case inQuery:
		return query[p.name]
	case inHeader:
		var out []string
		for _, v := range r.Header.Values(p.name) {
			if p.typ.Kind() == reflect.Slice {
				for part := range strings.SplitSeq(v, ",") {
					out = append(out, strings.TrimSpace(part))
				}
			} else {
				out = append(out, v)
			}
		}
		return out
	case inCookie:
		if ck, err := r.Cookie(p.name); err == nil {
			return []string{ck.Value}
		}
	}
	return nil
}

// rawValue returns the value of a parameter that failed validation, as
// sent, for FieldError.Value.
func rawValue(doc map[string]any, in, location string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(location, in+"."), "[")
	switch v := doc[name].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// bindBody decodes and validates the JSON body into dst. Failures to read
// it are returned as errors; its invalid values as field errors.
func (b *binder) bindBody(c Context, dst reflect.Value) ([]FieldError, error) {
	r := c.Request()
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, &HTTPError{Status: http.StatusUnsupportedMediaType, Message: "Content-Type must be application/json", err: err}
	}
	limit, raw := int64(DefaultBodyLimit), c.ResponseWriter()
	if rc, ok := c.(*reqContext); ok {
		raw = rc.raw
		if rc.bodyLimit > 0 {
			limit = rc.bodyLimit
		}
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	data, err := io.ReadAll(http.MaxBytesReader(raw, body, limit))
	if err != nil {
		return nil, bindError(err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &HTTPError{Status: http.StatusBadRequest, Message: "request body is empty"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, bindError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &HTTPError{Status: http.StatusBadRequest, Message: "request body must hold a single JSON value", err: err}
	}
	if err := b.body.ValidateValue(doc); err != nil {
		return fieldErrors("body", err), nil
	}
	if err := json.Unmarshal(data, dst.Addr().Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			loc := "body"
			if te.Field != "" {
				loc += "." + te.Field
			}
			return []FieldError{{Location: loc, Message: doesNotFit(te)}}, nil
		}
		return nil, bindError(err)
	}
	// Fields that are not json ones belong to parameters or to nobody:
	// encoding/json fills untagged fields by name, which the documents do
	// not describe.
	for _, idx := range b.shape.notBody {
		f := dst.FieldByIndex(idx)
		f.SetZero()
	}
	return nil, nil
}

// doesNotFit says why a value the schema let through does not decode: a
// number out of the field's range, or an integer in JSON Schema's sense
// (1e1, 2.0) that encoding/json does not read as one.
func doesNotFit(te *json.UnmarshalTypeError) string {
	lit, ok := strings.CutPrefix(te.Value, "number ")
	if !ok {
		return "value " + te.Value + " does not fit " + te.Type.String()
	}
	switch te.Type.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if f, err := strconv.ParseFloat(lit, 64); err == nil && math.Abs(f) < 1<<53 && strings.ContainsAny(lit, ".eE") {
			return "got " + lit + ", want an integer written without a fraction or exponent"
		}
	}
	return lit + " is out of range for " + te.Type.String()
}

var printer = message.NewPrinter(language.English)

// fieldErrors flattens a validation error into one FieldError per failed
// leaf, located under loc ("body", "query", ...).
func fieldErrors(loc string, err error) []FieldError {
	var ne *payload.NameError
	if errors.As(err, &ne) {
		return []FieldError{{Location: location(loc, append(ne.Location, ne.Name)), Message: fmt.Sprintf("names are case-sensitive: want %q", ne.Want)}}
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []FieldError{{Location: loc, Message: err.Error()}}
	}
	var out []FieldError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		where := location(loc, e.InstanceLocation)
		if req, ok := e.ErrorKind.(*kind.Required); ok {
			for _, m := range req.Missing {
				out = append(out, FieldError{Location: location(where, []string{m}), Message: "required"})
			}
			return
		}
		out = append(out, FieldError{Location: where, Message: e.ErrorKind.LocalizedString(printer)})
	}
	walk(ve)
	return out
}

// location appends instance location tokens to loc: names with a dot,
// array indexes in brackets.
func location(loc string, tokens []string) string {
	var b strings.Builder
	b.WriteString(loc)
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
		} else {
			b.WriteString("." + t)
		}
	}
	return b.String()
}
