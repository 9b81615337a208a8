package router

import (
	"cmp"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"

	swag "github.com/swaggest/jsonschema-go"

	"github.com/forgekit/forge/apidoc"
)

// Media types of the documented bodies.
const (
	jsonType    = "application/json"
	problemType = "application/problem+json"
)

// WithHidden keeps routes out of the documents. It applies to routes and
// groups of any kind; the framework's own routes use it.
func WithHidden() RouteOption {
	return func(s *settings) { s.hidden = true }
}

// WithRequest documents the request of a route whose handler reads it
// itself: v is a value of a type whose fields tagged path, query, header,
// cookie and json describe the path parameters, the query, the headers, the
// cookies and the JSON body, with the constraint tags of
// swaggest/jsonschema-go; a type that is not a struct is the JSON body as a
// whole. On a WebSocket route it describes the upgrade request (path, query
// and header fields only).
//
// WithRequest only documents: the handler still reads its input (with
// Context.Bind, Param, Query, Header). A typed handler (Get, Post, ...)
// binds and validates its input type instead and takes no WithRequest.
// It applies to single routes, and registration fails when the request
// cannot be documented as declared: a path field the path lacks, a body on
// a GET, HEAD or DELETE route or a WebSocket handshake, a type with
// nothing to document.
func WithRequest(v any) RouteOption {
	if v == nil {
		panic("forge: WithRequest: nil request type")
	}
	return func(s *settings) {
		if s.singleRoute("WithRequest") {
			s.request = v
		}
	}
}

// WithResponse documents a response of a REST route: its status, a value
// of its body type (nil for none) and when it is sent. A Problem body is
// documented as application/problem+json, any other as application/json.
// Responses accumulate from the defaults, the groups and the route; a
// later one replaces an earlier one with the same status. On a typed route
// it documents the responses besides the handler's own success, such as
// WithResponse(404, &Problem{}, "No such user"); to change the success
// status, use WithStatus.
func WithResponse(status int, body any, description string) RESTOption {
	if status < 100 || status > 599 {
		panic(fmt.Sprintf("forge: WithResponse: status %d is not an HTTP status", status))
	}
	r := apidoc.Response{Status: status, Body: body, Description: description}
	if body != nil {
		r.ContentType = jsonType
		if t := reflect.TypeOf(body); t == reflect.TypeFor[Problem]() || t == reflect.TypeFor[*Problem]() {
			r.ContentType = problemType
		}
	}
	return restOnly(func(s *settings) {
		if !s.restRoute("WithResponse") {
			return
		}
		if s.websocket {
			return // given to a group or as a default: REST routes only
		}
		s.responses = slices.DeleteFunc(slices.Clone(s.responses), func(x apidoc.Response) bool { return x.Status == status })
		s.responses = append(s.responses, r)
	})
}

// WithStatus sets the status of a typed handler's successful response:
// 2xx, 200 by default (204 when the output type is struct{}). It applies
// to single typed routes.
func WithStatus(status int) RESTOption {
	if status < 200 || status > 299 {
		panic(fmt.Sprintf("forge: WithStatus: status %d is not a success (2xx) status", status))
	}
	return restOnly(func(s *settings) {
		if s.singleRoute("WithStatus") && s.restRoute("WithStatus") {
			s.status = status
		}
	})
}

// describable caches, by type, whether swaggest/jsonschema-go can describe
// a type (it cannot describe funcs, channels or complex numbers).
var describable sync.Map // reflect.Type → describeResult

type describeResult struct{ err error }

// checkDescribable reports whether the documents can describe v's type,
// so that a type they cannot describe fails at registration.
func checkDescribable(v any) error {
	t := reflect.TypeOf(v)
	if r, ok := describable.Load(t); ok {
		return r.(describeResult).err
	}
	var r swag.Reflector
	_, err := r.Reflect(v)
	describable.Store(t, describeResult{err})
	return err
}

// checkDocs reports document options that cannot be honoured once a
// route's options are merged, and settles a typed route's success status
// and request type.
func (s *settings) checkDocs(method string, pp parsedPath) error {
	if err := s.checkTypes(); err != nil {
		return err
	}
	var shape requestShape
	if t := s.typed; t != nil {
		if s.request != nil {
			return fmt.Errorf("WithRequest applies to handlers that read their own input; a typed handler's request is its input type %s", t.in)
		}
		t.status = cmp.Or(s.status, http.StatusOK)
		if s.status == 0 && t.out == nil {
			t.status = http.StatusNoContent
		}
		for _, r := range s.responses {
			if r.Status == t.status {
				return fmt.Errorf("WithResponse(%d) documents the typed handler's own response; use WithStatus to change its status", r.Status)
			}
		}
		shape = t.shape
		if !shape.documented() {
			return nil
		}
		s.request = reflect.New(t.in).Interface()
	} else {
		if s.status != 0 {
			return fmt.Errorf("WithStatus applies to typed handlers (Get, Post, ...)")
		}
		if s.request == nil {
			return nil
		}
		var err error
		if shape, err = inspectRequest(reflect.TypeOf(s.request)); err != nil {
			return fmt.Errorf("WithRequest: %T: %w", s.request, err)
		}
		if !shape.documented() {
			return fmt.Errorf("WithRequest: %T has no path, query, header, cookie or json fields to document", s.request)
		}
	}
	what := fmt.Sprintf("request type %T", s.request)
	for _, f := range shape.params {
		if f.in == inPath && !slices.ContainsFunc(pp.params, func(p apidoc.Param) bool { return p.Name == f.name }) {
			return fmt.Errorf("%s has path parameter %q, which the path %q lacks", what, f.name, pp.template)
		}
		if f.in == inCookie && s.websocket {
			return fmt.Errorf("%s has cookie %q: the documents cannot describe cookies of a WebSocket handshake", what, f.name)
		}
	}
	if shape.body {
		switch {
		case s.websocket:
			return fmt.Errorf("%s has a JSON body, but a WebSocket handshake has none", what)
		case method == http.MethodGet || method == http.MethodHead || method == http.MethodDelete:
			return fmt.Errorf("%s has a JSON body, but the documents describe no body for %s requests", what, method)
		}
	}
	return nil
}

// documentedResponses lists the route's responses for the documents: a
// typed handler's own, then WithResponse's, by status with the default
// last.
func (s *settings) documentedResponses() []apidoc.Response {
	if s.websocket {
		return nil
	}
	var out []apidoc.Response
	if t := s.typed; t != nil {
		ok := apidoc.Response{Status: t.status, Description: http.StatusText(t.status)}
		if t.out != nil {
			ok.Body, ok.ContentType = reflect.New(t.out).Interface(), jsonType
		}
		out = append(out, ok)
		if t.shape.body {
			out = append(out, apidoc.Response{Status: http.StatusBadRequest, Body: &Problem{}, ContentType: problemType,
				Description: "The request body is missing or is not one valid JSON value."})
		}
		if t.shape.documented() {
			out = append(out, apidoc.Response{Status: http.StatusUnprocessableEntity, Body: &Problem{}, ContentType: problemType,
				Description: "The request failed validation; the problem's errors say where."})
		}
		out = append(out, apidoc.Response{Status: 0, Body: &Problem{}, ContentType: problemType,
			Description: "Any other error, as an RFC 9457 problem."})
	}
	for _, r := range s.responses {
		out = slices.DeleteFunc(out, func(x apidoc.Response) bool { return x.Status == r.Status })
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b apidoc.Response) int {
		if (a.Status == 0) != (b.Status == 0) {
			if a.Status == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Status, b.Status)
	})
	return out
}

// checkTypes checks that the documents can describe the types the route
// declares: messages, responses, the request.
func (s *settings) checkTypes() error {
	for _, m := range s.messages {
		for p := &m; p != nil; p = p.Reply {
			if err := checkDescribable(p.Payload); err != nil {
				return fmt.Errorf("message %q: payload type %T cannot be documented: %w", p.Name, p.Payload, err)
			}
		}
	}
	if s.websocket {
		return nil
	}
	for _, r := range s.responses {
		if r.Body != nil {
			if err := checkDescribable(r.Body); err != nil {
				return fmt.Errorf("WithResponse(%d): body type %T cannot be documented: %w", r.Status, r.Body, err)
			}
		}
	}
	if s.request != nil {
		if err := checkDescribable(s.request); err != nil {
			return fmt.Errorf("WithRequest: type %T cannot be documented: %w", s.request, err)
		}
	}
	if t := s.typed; t != nil && t.out != nil {
		if err := checkDescribable(reflect.New(t.out).Interface()); err != nil {
			return fmt.Errorf("output type %s cannot be documented: %w", t.out, err)
		}
	}
	return nil
}
