package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/forgekit/forge/connection"
)

// DefaultBodyLimit is the request body size, in bytes, above which
// Context.Bind fails with 413 unless WithBodyLimit says otherwise.
const DefaultBodyLimit = 1 << 20

// Context is what a handler gets for one request: its parameters, its body,
// and ways to respond.
//
// In a WebSocket handler the response belongs to the connection: JSON,
// String and NoContent return an error wrapping http.ErrHijacked. There,
// Context and Request().Context() return the connection's context, which
// carries the request's values and ends with the connection.
//
// Param, Query, Header, Request and Context are safe for concurrent use, and
// Param keeps working after the handler returns.
type Context interface {
	// Param returns the value of the path parameter name, from ":name" or
	// "{name}" in the route path, or "" if there is none.
	Param(name string) string
	// Query returns the first value of the query parameter name, or "".
	Query(name string) string
	// Header returns the first value of the request header name, or "".
	Header(name string) string
	// Request returns the request being served.
	Request() *http.Request
	// Context returns the request's context, with every value middleware
	// stored in it. In a WebSocket handler it is the connection's context:
	// the same values, cancelled when the connection ends.
	Context() context.Context
	// ResponseWriter returns the writer for the response.
	ResponseWriter() http.ResponseWriter
	// JSON writes v as a JSON response with the given status.
	JSON(status int, v any) error
	// String writes s as a plain text response with the given status.
	String(status int, s string) error
	// NoContent writes a response with the given status and no body.
	NoContent(status int) error
	// Bind decodes the request's JSON body into v. It fails with an
	// *HTTPError, ready to be returned by the handler: 415 when the
	// Content-Type is not JSON, 413 when the body exceeds the route's limit,
	// 400 when the body is empty or is not one valid JSON value for v.
	Bind(v any) error
}

// reqContext is the Context of one request.
type reqContext struct {
	w         http.ResponseWriter // what handlers write to
	raw       http.ResponseWriter // the writer the router was given
	r         *http.Request
	params    []string // key, value pairs copied from chi's route context
	bodyLimit int64

	queryOnce sync.Once
	query     url.Values // set by queryOnce

	// conn is the WebSocket connection; nil for REST. Set, like r's
	// context, before the handler runs and never changed.
	conn *connection.Conn
	auth *authSession // WebSocket routes with WithAuth; nil otherwise
}

func newContext(w, raw http.ResponseWriter, r *http.Request, bodyLimit int64) *reqContext {
	c := &reqContext{w: w, raw: raw, r: r, bodyLimit: bodyLimit}
	// chi pools its route context and reuses it once ServeHTTP returns, so
	// the parameters are copied for handlers that outlive the request.
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		keys, values := rctx.URLParams.Keys, rctx.URLParams.Values
		c.params = make([]string, 0, 2*len(keys))
		for i := range keys {
			if i < len(values) {
				c.params = append(c.params, keys[i], values[i])
			}
		}
	}
	return c
}

func (c *reqContext) Param(name string) string {
	// The last match wins, as in chi, for parameters repeated by mounts.
	for i := len(c.params) - 2; i >= 0; i -= 2 {
		if c.params[i] == name {
			return c.params[i+1]
		}
	}
	return ""
}

func (c *reqContext) Query(name string) string {
	c.queryOnce.Do(func() { c.query = c.r.URL.Query() })
	return c.query.Get(name)
}

func (c *reqContext) Header(name string) string { return c.r.Header.Get(name) }

func (c *reqContext) Request() *http.Request { return c.r }

func (c *reqContext) Context() context.Context { return c.r.Context() }

func (c *reqContext) ResponseWriter() http.ResponseWriter { return c.w }

func (c *reqContext) JSON(status int, v any) error {
	if c.conn != nil {
		return fmt.Errorf("write JSON response: %w", http.ErrHijacked)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode JSON response: %w", err)
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	_, err = c.w.Write(append(b, '\n'))
	return err
}

func (c *reqContext) String(status int, s string) error {
	if c.conn != nil {
		return fmt.Errorf("write string response: %w", http.ErrHijacked)
	}
	c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	c.w.WriteHeader(status)
	_, err := io.WriteString(c.w, s)
	return err
}

func (c *reqContext) NoContent(status int) error {
	if c.conn != nil {
		return fmt.Errorf("write empty response: %w", http.ErrHijacked)
	}
	c.w.WriteHeader(status)
	return nil
}

func (c *reqContext) Bind(v any) error {
	ct := c.r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &HTTPError{
			Status:  http.StatusUnsupportedMediaType,
			Message: "Content-Type must be application/json",
			err:     err,
		}
	}
	limit := c.bodyLimit
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	body := c.r.Body
	if body == nil {
		body = http.NoBody
	}
	// MaxBytesReader wants the server's own writer to close the connection
	// after an oversized body.
	dec := json.NewDecoder(http.MaxBytesReader(c.raw, body, limit))
	if err := dec.Decode(v); err != nil {
		return bindError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bindError(err)
		}
		return &HTTPError{Status: http.StatusBadRequest, Message: "request body must hold a single JSON value", err: err}
	}
	return nil
}

// bindError turns a JSON decoding failure into the client error it is, or
// returns it as is when the handler is at fault (v not a pointer).
func bindError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		ie  *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &ie):
		return fmt.Errorf("bind request body: %w", err)
	case errors.As(err, &mbe):
		return &HTTPError{
			Status:  http.StatusRequestEntityTooLarge,
			Message: "request body exceeds " + strconv.FormatInt(mbe.Limit, 10) + " bytes",
			err:     err,
		}
	case err == io.EOF:
		return &HTTPError{Status: http.StatusBadRequest, Message: "request body is empty", err: err}
	case errors.As(err, &se):
		return &HTTPError{
			Status:  http.StatusBadRequest,
			Message: "malformed JSON at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error(),
			err:     err,
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &HTTPError{Status: http.StatusBadRequest, Message: "malformed JSON: unexpected end of body", err: err}
	case errors.As(err, &te):
		msg := "JSON value of type " + te.Value + " cannot be stored in a Go value of type " + te.Type.String()
		if te.Field != "" {
			msg = "field " + strconv.Quote(te.Field) + ": " + msg
		}
		return &HTTPError{Status: http.StatusBadRequest, Message: msg, err: err}
	default:
		return &HTTPError{Status: http.StatusBadRequest, Message: "could not read request body", err: err}
	}
}

// responseWriter records whether a REST handler has started its response,
// so that a later error is logged instead of written over it. Unwrap lets
// http.ResponseController reach the server's writer.
type responseWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *responseWriter) WriteHeader(status int) {
	if status >= 200 {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client, for streaming responses.
func (w *responseWriter) Flush() {
	w.wrote = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the writer that w wraps.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// chiRoute is the route a WebSocket connection's context answers chi's
// route context key with (see routeContext): the patterns chi matched and
// the router that served the handshake. A route's connections share one
// when chi routed the handshake through the Mux's own router and the
// route's pattern alone; a Mux mounted on another (or served by another
// chi router) sees the mount's pattern too, and a router of its own, so
// its connections each keep a copy (see of).
type chiRoute struct {
	patterns []string
	routes   chi.Routes
}

// of returns the route chi's rc describes during the handshake: shared, the
// route's own, when it is that one, or else a copy.
func (shared *chiRoute) of(rc *chi.Context) *chiRoute {
	if rc == nil {
		return shared
	}
	if mx, ok := rc.Routes.(*chi.Mux); ok && mx == shared.routes &&
		len(rc.RoutePatterns) == 1 && rc.RoutePatterns[0] == shared.patterns[0] {
		return shared
	}
	return &chiRoute{patterns: slices.Clone(rc.RoutePatterns), routes: rc.Routes}
}

// routeContext is the request context a WebSocket connection's context is
// made from. chi pools its route context and gives it to the next request
// once ServeHTTP returns, while the connection's handler runs on: looked up
// through the request's context, chi.URLParam and chi.RouteContext would
// read another request's route, as it changes. routeContext answers chi's
// key with a copy of the connection's own route instead, made the first
// time it is asked for; every other key goes to the request's context.
//
// It must not keep the handler's Context (nor, through it, the request's
// headers and URL) alive: a handler that does not hold its Context lets
// them go while it waits. (The request's context it is made from still
// leads to chi's pooled route context, which keeps the parameters, and so
// the request line, of the last request that used it: this one's, when
// the pool let go of it since.)
type routeContext struct {
	context.Context
	params []string // key, value pairs, as in reqContext; the values copied off the request line (see webSocketHandler)
	route  *chiRoute
	snap   atomic.Pointer[chi.Context]
}

func (x *routeContext) Value(key any) any {
	if key != chi.RouteCtxKey {
		return x.Context.Value(key)
	}
	if rc := x.snap.Load(); rc != nil {
		return rc
	}
	rc := chi.NewRouteContext()
	rc.Routes = x.route.routes
	rc.RouteMethod = http.MethodGet
	rc.RoutePatterns = slices.Clone(x.route.patterns)
	for i := 0; i+1 < len(x.params); i += 2 {
		rc.URLParams.Add(x.params[i], x.params[i+1])
	}
	if !x.snap.CompareAndSwap(nil, rc) {
		return x.snap.Load()
	}
	return rc
}
