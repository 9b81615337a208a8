// Package problem writes RFC 9457 problem details, the one error body format
// every part of forge answers HTTP errors with.
package problem

import (
	"encoding/json"
	"net/http"
)

// Details is an RFC 9457 problem object.
type Details struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Write answers with status and detail as application/problem+json.
func Write(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Details{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}
