package router

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
)

// TypedHandler handles a REST request whose input was bound and validated
// into In; its Out becomes the JSON response. A returned error becomes the
// response as for Handler.
type TypedHandler[In, Out any] func(ctx Context, in In) (Out, error)

// typedRoute is what a typed handler's registration tells its route, for
// the checks and the documents.
type typedRoute struct {
	in     reflect.Type
	out    reflect.Type // the response body's type; nil when Out is struct{}
	shape  requestShape
	status int // the success status, settled at registration
}

// Get registers a typed GET handler on r; see Post.
func Get[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	handle(r, http.MethodGet, path, h, opts)
}

// Post registers a typed POST handler on r: before h runs, its input In is
// bound from the request and validated, and its output Out is written as
// JSON with the success status (200, or WithStatus's; 204 without body when
// Out is struct{}). Both types become the route's OpenAPI operation.
//
// In is a struct whose fields tagged path, query, header or cookie are
// bound from those parameters (strings, numbers, booleans, time.Time and
// other encoding.TextUnmarshaler types, pointers to them, and slices of
// them for repeated query parameters and comma-separated headers), and
// whose fields tagged json are decoded from the JSON body; a type that is
// not a struct is the JSON body as a whole. The constraint tags of
// swaggest/jsonschema-go (required, enum, minimum, maximum, minLength,
// maxLength, pattern, format, default, ...) are checked against the same
// schemas the document shows, and a parameter's default tag fills it in
// when the request omits it.
//
// A request that breaks them gets an RFC 9457 problem: 415 for a body that
// is not JSON, 413 for one over the route's limit, 400 for one that is
// empty or malformed, and 422 with an "errors" list of every invalid value
// ({"location": "query.limit", "message": ..., "value": ...}).
//
// Registration panics when In or Out cannot be bound or documented, or
// when In declares a path parameter that the path lacks.
func Post[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	handle(r, http.MethodPost, path, h, opts)
}

// Put registers a typed PUT handler on r; see Post.
func Put[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	handle(r, http.MethodPut, path, h, opts)
}

// Patch registers a typed PATCH handler on r; see Post.
func Patch[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	handle(r, http.MethodPatch, path, h, opts)
}

// Delete registers a typed DELETE handler on r; see Post.
func Delete[In, Out any](r Router, path string, h TypedHandler[In, Out], opts ...RESTOption) {
	handle(r, http.MethodDelete, path, h, opts)
}

func handle[In, Out any](r Router, method, path string, h TypedHandler[In, Out], opts []RESTOption) {
	if r == nil {
		panic(fmt.Sprintf("forge: nil router (%s %s)", method, path))
	}
	if h == nil {
		panic(fmt.Sprintf("forge: nil handler (%s %s)", method, path))
	}
	in := reflect.TypeFor[In]()
	if k := in.Kind(); k == reflect.Pointer || k == reflect.Interface {
		panic(fmt.Sprintf("forge: input type %s must not be a pointer or an interface (%s %s)", in, method, path))
	}
	b, err := binderFor(in)
	if err != nil {
		panic(fmt.Sprintf("forge: input type %s: %v (%s %s)", in, err, method, path))
	}
	t := &typedRoute{in: in, shape: b.shape}
	if out := reflect.TypeFor[Out](); out != reflect.TypeFor[struct{}]() {
		for out.Kind() == reflect.Pointer {
			out = out.Elem()
		}
		t.out = out
	}
	bindInput := b.shape.documented()
	handler := func(c Context) error {
		var input In
		if bindInput {
			if err := b.bind(c, reflect.ValueOf(&input).Elem()); err != nil {
				return err
			}
		}
		out, err := h(c, input)
		if err != nil {
			return err
		}
		if rw, ok := c.ResponseWriter().(*responseWriter); ok && rw.wrote {
			return nil // the handler wrote its response itself
		}
		if t.out == nil {
			return c.NoContent(t.status)
		}
		return c.JSON(t.status, out)
	}
	opts = append(slices.Clip(opts), restOnly(func(s *settings) {
		if s.level == levelRoute {
			s.typed = t
		}
	}))
	switch method {
	case http.MethodGet:
		r.GET(path, handler, opts...)
	case http.MethodPost:
		r.POST(path, handler, opts...)
	case http.MethodPut:
		r.PUT(path, handler, opts...)
	case http.MethodPatch:
		r.PATCH(path, handler, opts...)
	case http.MethodDelete:
		r.DELETE(path, handler, opts...)
	}
}
