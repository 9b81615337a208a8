package openapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/swaggest/jsonschema-go"
	"github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"
	"github.com/swaggest/refl"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/internal/jsonyaml"
	"github.com/forgekit/forge/internal/schemaname"
)

// Version is the OpenAPI version of the documents this package builds.
const Version = "3.1.0"

// Spec is what a Document is built from: the application's metadata, its
// servers and the description of its routes.
type Spec struct {
	Info    apidoc.Info
	Servers []Server
	// Routes are the application's routes. The document describes those
	// that are REST routes and not hidden, each as an operation. Path
	// parameters that a route's Request does not declare are documented as
	// strings, matching their Pattern when set; a route without Responses
	// gets a default response saying so.
	Routes []apidoc.Route
}

// Server is a base URL the API is served at, "https://api.example.com".
type Server struct {
	URL         string
	Description string
}

// Document is a built OpenAPI 3.1 document.
type Document struct {
	// Spec is the document, for inspection.
	Spec *openapi31.Spec
}

// Build builds the document that spec describes. It fails when an
// operation cannot be described: a method and path given twice, an
// operationId used twice, a type that cannot be reflected, a security
// scheme of another type than http or apiKey.
func Build(spec Spec) (*Document, error) {
	b := &builder{shared: make(map[respKey]*sharedResponse), names: make(map[string]bool)}
	var ops []*apidoc.Route
	for i := range spec.Routes {
		if r := &spec.Routes[i]; !r.WebSocket && !r.Hidden {
			ops = append(ops, r)
		}
	}
	// Names depend on the set of types, not on the order they are met in.
	for _, op := range ops {
		if op.Request != nil {
			b.namer.AddTree(reflect.TypeOf(op.Request))
		}
		for _, resp := range responses(op) {
			if resp.Body != nil {
				b.namer.AddTree(reflect.TypeOf(resp.Body))
			}
			b.count(op, resp)
		}
	}
	b.r = openapi31.NewReflector()
	b.r.DefaultOptions = append(b.r.DefaultOptions, jsonschema.InterceptDefName(func(t reflect.Type, _ string) string {
		return b.namer.Name(t)
	}))
	if err := b.build(spec, ops); err != nil {
		return nil, err
	}
	return &Document{Spec: b.r.Spec}, nil
}

// builder builds one document.
type builder struct {
	r      *openapi31.Reflector
	namer  schemaname.Namer
	shared map[respKey]*sharedResponse
	names  map[string]bool // components.responses keys in use
}

// respKey identifies a documented response. A response that several
// operations document alike, such as the error responses of typed
// handlers, is reflected once and shared as a components.responses entry.
type respKey struct {
	body        reflect.Type
	status      int
	contentType string
	description string
	head        bool // HEAD responses have headers only
}

type sharedResponse struct {
	uses int
	ref  string // "#/components/responses/Name" once reflected
}

// responses returns the documented responses of op, or the default
// response that says there are none.
func responses(op *apidoc.Route) []apidoc.Response {
	if len(op.Responses) == 0 {
		return []apidoc.Response{{Description: "The route does not document its responses (see WithResponse)."}}
	}
	return op.Responses
}

func keyOf(op *apidoc.Route, resp apidoc.Response) respKey {
	k := respKey{status: resp.Status, contentType: resp.ContentType, description: resp.Description,
		head: strings.EqualFold(op.Method, http.MethodHead)}
	if resp.Body != nil {
		k.body = reflect.TypeOf(resp.Body)
	}
	return k
}

func (b *builder) count(op *apidoc.Route, resp apidoc.Response) {
	k := keyOf(op, resp)
	sr := b.shared[k]
	if sr == nil {
		sr = &sharedResponse{}
		b.shared[k] = sr
	}
	sr.uses++
}

func (b *builder) build(spec Spec, ops []*apidoc.Route) error {
	s := b.r.SpecEns()
	s.Info.Title = cmp.Or(spec.Info.Title, "forge application")
	s.Info.Version = cmp.Or(spec.Info.Version, "0.0.0")
	if spec.Info.Description != "" {
		s.Info.WithDescription(spec.Info.Description)
	}
	for _, sv := range spec.Servers {
		srv := openapi31.Server{URL: sv.URL}
		if sv.Description != "" {
			srv.WithDescription(sv.Description)
		}
		s.Servers = append(s.Servers, srv)
	}
	schemes := make(map[string]apidoc.SecurityScheme)
	for _, op := range ops {
		for _, sec := range op.Security {
			schemes[sec.Key] = sec.Scheme
		}
	}
	for _, key := range slices.Sorted(maps.Keys(schemes)) {
		ss := schemes[key]
		var sch openapi31.SecurityScheme
		switch ss.Type {
		case "http":
			if strings.EqualFold(ss.Scheme, "bearer") {
				h := openapi31.SecuritySchemeHTTPBearer{Scheme: "bearer"}
				if ss.BearerFormat != "" {
					h.BearerFormat = &ss.BearerFormat
				}
				sch.HTTPBearer = &h
			} else {
				sch.HTTP = &openapi31.SecuritySchemeHTTP{Scheme: ss.Scheme}
			}
		case "apiKey":
			sch.APIKey = &openapi31.SecuritySchemeAPIKey{Name: ss.Name, In: openapi31.SecuritySchemeAPIKeyIn(ss.In)}
		default:
			return fmt.Errorf("openapi: security scheme %q: type %q is neither http nor apiKey", key, ss.Type)
		}
		if ss.Description != "" {
			sch.WithDescription(ss.Description)
		}
		s.ComponentsEns().WithSecuritySchemesItem(key, openapi31.SecuritySchemeOrReference{SecurityScheme: &sch})
	}
	ids := make(map[string]string)
	for _, op := range ops {
		where := op.Method + " " + op.Path
		if op.Name != "" {
			if prev, ok := ids[op.Name]; ok {
				return fmt.Errorf("openapi: operationId %q is used by %s and %s", op.Name, prev, where)
			}
			ids[op.Name] = where
		}
		if err := b.addOperation(op); err != nil {
			return fmt.Errorf("openapi: %s: %w", where, err)
		}
	}
	s.PathsEns() // an API without REST routes still has "paths": {}
	return nil
}

func (b *builder) addOperation(op *apidoc.Route) error {
	oc, err := b.r.NewOperationContext(op.Method, op.Path)
	if err != nil {
		return err
	}
	if op.Name != "" {
		oc.SetID(op.Name)
	}
	if op.Summary != "" {
		oc.SetSummary(op.Summary)
	}
	if op.Description != "" {
		oc.SetDescription(op.Description)
	}
	if len(op.Tags) > 0 {
		oc.SetTags(slices.Clone(op.Tags)...)
	}
	if op.Deprecated {
		oc.SetIsDeprecated(true)
	}
	for _, sec := range op.Security {
		oc.AddSecurity(sec.Key, slices.Clone(op.Scopes)...)
	}

	declared := map[string]bool{}
	if op.Request != nil {
		refl.WalkTaggedFields(reflect.ValueOf(op.Request), func(_ reflect.Value, _ reflect.StructField, tag string) {
			declared[tag] = true
		}, "path")
		oc.AddReqStructure(op.Request, openapi.WithCustomize(func(cor openapi.ContentOrReference) {
			if rb, ok := cor.(*openapi31.RequestBodyOrReference); ok && rb.RequestBody != nil {
				// A route that documents a body expects one: forge's typed
				// handlers refuse a request without it.
				rb.RequestBody.WithRequired(true)
				addExamples(rb.RequestBody.Content, op.Request)
			}
		}))
	}
	o := oc.(openapi31.OperationExposer).Operation()
	for _, p := range op.Params {
		if p.Name == "*" || declared[p.Name] {
			continue
		}
		schema := map[string]any{"type": "string"}
		if p.Pattern != "" {
			schema["pattern"] = "^(?:" + p.Pattern + ")$"
		}
		o.Parameters = append(o.Parameters, openapi31.ParameterOrReference{Parameter: &openapi31.Parameter{
			Name:     p.Name,
			In:       openapi31.ParameterInPath,
			Required: ptr(true),
			Schema:   schema,
		}})
	}

	var reflected []respKey
	for _, resp := range responses(op) {
		key := keyOf(op, resp)
		if sr := b.shared[key]; sr != nil && sr.ref != "" {
			setResponse(o, resp.Status, openapi31.ResponseOrReference{Reference: &openapi31.Reference{Ref: sr.ref}})
			continue
		}
		reflected = append(reflected, key)
		opts := []openapi.ContentOption{func(cu *openapi.ContentUnit) {
			cu.HTTPStatus = resp.Status
			cu.IsDefault = resp.Status == 0
			cu.Description = resp.Description
			if resp.Body != nil {
				cu.ContentType = resp.ContentType
			}
			if cu.Description == "" && cu.IsDefault {
				cu.Description = "Error"
			}
		}}
		if resp.Body != nil {
			body := resp.Body
			opts = append(opts, openapi.WithCustomize(func(cor openapi.ContentOrReference) {
				if rr, ok := cor.(*openapi31.ResponseOrReference); ok && rr.Response != nil {
					addExamples(rr.Response.Content, body)
				}
			}))
		}
		oc.AddRespStructure(resp.Body, opts...)
	}
	if err := b.r.AddOperation(oc); err != nil {
		return err
	}
	for _, key := range reflected {
		if sr := b.shared[key]; sr.uses > 1 {
			if err := b.share(oc, key, sr); err != nil {
				return err
			}
		}
	}
	return nil
}

// share moves a response that other operations document too into
// components.responses, and refers to it from the operation just added.
func (b *builder) share(oc openapi.OperationContext, key respKey, sr *sharedResponse) error {
	added, err := b.r.Spec.Paths.MapOfPathItemValues[oc.PathPattern()].Operation(oc.Method())
	if err != nil || added == nil || added.Responses == nil {
		return fmt.Errorf("reflected operation not found: %v", err)
	}
	var ror openapi31.ResponseOrReference
	if key.status == 0 {
		ror = *added.Responses.Default
	} else {
		ror = added.Responses.MapOfResponseOrReferenceValues[strconv.Itoa(key.status)]
	}
	base := "Response"
	if key.body != nil {
		t := key.body
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Name() != "" {
			base = b.namer.Name(t)
		}
	}
	if key.status == 0 {
		base += "Default"
	} else {
		base += strconv.Itoa(key.status)
	}
	if key.head {
		base += "Head"
	}
	name := base
	for n := 2; b.names[name]; n++ {
		name = base + "_" + strconv.Itoa(n)
	}
	b.names[name] = true
	b.r.Spec.ComponentsEns().WithResponsesItem(name, ror)
	sr.ref = "#/components/responses/" + name
	setResponse(added, key.status, openapi31.ResponseOrReference{Reference: &openapi31.Reference{Ref: sr.ref}})
	return nil
}

// setResponse sets a response of o, the default one for status 0.
func setResponse(o *openapi31.Operation, status int, ror openapi31.ResponseOrReference) {
	if status == 0 {
		o.ResponsesEns().Default = &ror
		return
	}
	o.ResponsesEns().WithMapOfResponseOrReferenceValuesItem(strconv.Itoa(status), ror)
}

// addExamples adds the examples that v's type provides to the JSON media
// types of content.
func addExamples(content map[string]openapi31.MediaType, v any) {
	examples := apidoc.Examples(v)
	if len(examples) == 0 {
		return
	}
	for ct, mt := range content {
		if ct != "application/json" && !strings.HasSuffix(ct, "+json") {
			continue
		}
		mt.Examples = make(map[string]openapi31.ExampleOrReference, len(examples))
		for i, ex := range examples {
			mt.Examples["example"+strconv.Itoa(i+1)] = openapi31.ExampleOrReference{
				Example: (&openapi31.Example{}).WithValue(ex),
			}
		}
		content[ct] = mt
	}
}

// JSON encodes the document as indented JSON.
func (d *Document) JSON() ([]byte, error) {
	raw, err := d.Spec.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// YAML encodes the document as YAML, with the keys in the order of JSON.
func (d *Document) YAML() ([]byte, error) {
	raw, err := d.Spec.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return jsonyaml.FromJSON(raw)
}

func ptr[T any](v T) *T { return &v }
