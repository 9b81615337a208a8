package router

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// HTTPError is an error with the HTTP status a REST handler's failure should
// be answered with. A handler that returns one (or an error wrapping one)
// gets a problem+json response with Status and, as its detail, Message;
// every other error is answered with 500 and a generic body.
type HTTPError struct {
	Status  int    // HTTP status code, 4xx or 5xx
	Message string // shown to the client as the problem's detail; may be empty

	err error // cause, for errors.Is and errors.As
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

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// writeProblem answers with an RFC 9457 problem+json body.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	title := http.StatusText(status)
	if title == "" {
		title = "Error"
	}
	b, _ := json.Marshal(problem{Type: "about:blank", Title: title, Status: status, Detail: detail})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// handleError is the one place where a REST handler's error becomes a
// response: an *HTTPError maps to its status and message, anything else to
// a generic 500. Server faults are logged; so is every error that comes
// after the handler already wrote its response.
func (m *Mux) handleError(w *responseWriter, r *http.Request, pattern string, err error) {
	status, detail := http.StatusInternalServerError, ""
	var he *HTTPError
	if errors.As(err, &he) && he.Status >= 400 && he.Status <= 599 {
		status, detail = he.Status, he.Message
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
	writeProblem(w, status, detail)
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
