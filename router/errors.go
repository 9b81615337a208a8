package router

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/forgekit/forge/internal/problem"
)

// HTTPError is an error with the HTTP status a REST handler's failure should
// be answered with. A handler that returns one (or an error wrapping one)
// gets a problem+json response with Status, Message as its detail and
// Errors; every other error is answered with 500 and a generic body.
type HTTPError struct {
	Status  int    // HTTP status code, 4xx or 5xx
	Message string // shown to the client as the problem's detail; may be empty
	// Errors says what was wrong with each part of the request, for input
	// that failed validation; shown as the problem's "errors".
	Errors []FieldError

	err error // cause, for errors.Is and errors.As
}

// FieldError is one reason why a request's input was refused.
type FieldError struct {
	// Location is where the input is: "path.id", "query.limit",
	// "header.X-Request-Id", "body.items[0].name" ("body" for the body as a
	// whole).
	Location string `json:"location" description:"Where the refused input is: path.NAME, query.NAME, header.NAME, cookie.NAME, or body followed by the path to the value."`
	// Message says what is wrong with it.
	Message string `json:"message" description:"What is wrong with the input."`
	// Value is the refused value of a parameter, as sent.
	Value string `json:"value,omitempty" description:"The refused value of a parameter, as sent."`
}

// NewHTTPError returns an HTTPError with the given status and message.
func NewHTTPError(status int, message string) *HTTPError {
	return &HTTPError{Status: status, Message: message}
}

func (e *HTTPError) Error() string {
	s := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the error that caused e, if any.
func (e *HTTPError) Unwrap() error { return e.err }

// Problem is the RFC 9457 problem details object that every error
// response carries, as application/problem+json. The documents describe
// error responses with it; forge writes them with one writer
// (internal/problem), whose body has exactly these members.
type Problem struct {
	Type   string       `json:"type" description:"A URI reference that identifies the problem type; about:blank when the status says it all." example:"about:blank"`
	Title  string       `json:"title" description:"The status text." example:"Unprocessable Entity"`
	Status int          `json:"status" description:"The HTTP status code." example:"422"`
	Detail string       `json:"detail,omitempty" description:"What went wrong with this request."`
	Errors []FieldError `json:"errors,omitempty" description:"What was wrong with each part of the request, when its input failed validation."`
}

// writeProblem answers with an RFC 9457 problem+json body, a Problem,
// through the writer every part of forge shares.
func writeProblem(w http.ResponseWriter, status int, detail string, errs ...FieldError) {
	d := problem.Details{Status: status, Detail: detail}
	if len(errs) > 0 {
		d.Errors = errs
	}
	problem.WriteDetails(w, d)
}

// handleError is the one place where a REST handler's error becomes a
// response: an *HTTPError maps to its status and message, anything else to
// a generic 500. Server faults are logged; so is every error that comes
// after the handler already wrote its response.
func (m *Mux) handleError(w *responseWriter, r *http.Request, pattern string, err error) {
	status, detail := http.StatusInternalServerError, ""
	var fields []FieldError
	var he *HTTPError
	if errors.As(err, &he) && he.Status >= 400 && he.Status <= 599 {
		status, detail, fields = he.Status, he.Message, he.Errors
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", pattern),
		slog.Int("status", status),
		slog.Any("error", err),
	}
	switch {
	case w.wrote:
		m.logger.LogAttrs(r.Context(), slog.LevelError, "handler error after the response was written", attrs...)
		return
	case status >= 500:
		m.logger.LogAttrs(r.Context(), slog.LevelError, "handler error", attrs...)
	default:
		m.logger.LogAttrs(r.Context(), slog.LevelDebug, "handler error", attrs...)
	}
	writeProblem(w, status, detail, fields...)
}

// notFound and methodNotAllowed answer unrouted requests in the same
// problem+json format as handler errors.
func (m *Mux) notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, http.StatusNotFound, "")
}

func (m *Mux) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if allow := m.allowed(r); allow != "" {
		w.Header().Set("Allow", allow)
	}
	writeProblem(w, http.StatusMethodNotAllowed, "")
}
