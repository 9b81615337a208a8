// Package problem writes RFC 9457 problem details, the one error body format
// every part of forge answers HTTP errors with: handler errors and unrouted
// requests (router), refused handshakes (connection), refused credentials
// (auth), rate limits and recovered panics (middleware).
package problem

import (
	"encoding/json"
	"net/http"
)

// Details is an RFC 9457 problem object. router.Problem documents the same
// members for the API documents.
type Details struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors says what was wrong with each part of the request, such as
	// router's []FieldError; nil leaves the member out.
	Errors any `json:"errors,omitempty"`
}

// Write answers with status and detail as application/problem+json.
// detail is shown to the client: it says what the client can do, without
// the "forge: " prefix of the errors a program sees.
func Write(w http.ResponseWriter, status int, detail string) {
	WriteDetails(w, Details{Status: status, Detail: detail})
}

// WriteDetails answers with d as application/problem+json, with d.Status
// as the response's status. An empty Type becomes "about:blank" and an
// empty Title the status text ("Error" for a status without one). A
// Content-Length set for the body that was to be written is dropped.
func WriteDetails(w http.ResponseWriter, d Details) {
	if d.Type == "" {
		d.Type = "about:blank"
	}
	if d.Title == "" {
		d.Title = http.StatusText(d.Status)
	}
	if d.Title == "" {
		d.Title = "Error"
	}
	b, err := json.Marshal(d)
	if err != nil { // an Errors value that cannot be encoded: leave it out
		d.Errors = nil
		b, _ = json.Marshal(d)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(d.Status)
	_, _ = w.Write(append(b, '\n'))
}
