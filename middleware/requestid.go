package middleware

import (
	"context"
	"crypto/rand"
	"net/http"
)

// DefaultRequestIDHeader is the header RequestID reads and writes unless
// RequestIDHeader names another.
const DefaultRequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an incoming request ID: long enough for a UUID, a
// W3C trace ID or a proxy's composite ID, short enough that a client cannot
// bloat every log line of its requests.
const maxRequestIDLen = 128

type requestIDKey struct{ name string }

func (k *requestIDKey) String() string { return "forge middleware " + k.name }

// requestIDCtxKey is the context key of the request ID.
var requestIDCtxKey = &requestIDKey{"request id"}

// RequestIDOption configures RequestID.
type RequestIDOption func(*requestIDConfig)

type requestIDConfig struct {
	header string
}

// RequestIDHeader makes RequestID read and write the header name instead of
// X-Request-Id, for infrastructure that propagates another one
// (X-Correlation-Id). An empty name panics.
func RequestIDHeader(name string) RequestIDOption {
	if name == "" {
		panic("forge: RequestIDHeader: empty header name")
	}
	name = http.CanonicalHeaderKey(name)
	return func(c *requestIDConfig) { c.header = name }
}

// RequestID gives every request an ID, so that the log lines of one
// request (and of the WebSocket session it opens) can be told apart and
// matched with those of the proxy or client that sent it.
//
// An ID in the incoming X-Request-Id header is kept when it is sane: 1 to
// 128 characters among ASCII letters, digits and "-_.:+/=". Anything else
// (empty, oversized, spaces, control or non-ASCII characters that could
// forge log lines) is replaced by a new ID of 26 random base32 characters
// from crypto/rand. The ID is set on the response header and stored in the
// request context, where RequestIDFrom reads it; a WebSocket handler finds
// it in its context as well, since the connection's context keeps the
// request's values. (A refused WebSocket handshake carries the header; the
// 101 response does not, as the upgrade writes its own headers.)
//
// Put RequestID first, so that the access log and every later middleware
// see the ID.
func RequestID(opts ...RequestIDOption) func(http.Handler) http.Handler {
	c := requestIDConfig{header: DefaultRequestIDHeader}
	for _, o := range opts {
		if o == nil {
			panic("forge: RequestID: nil RequestIDOption")
		}
		o(&c)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(c.header)
			if !saneRequestID(id) {
				id = rand.Text()
			}
			w.Header().Set(c.header, id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDCtxKey, id)))
		})
	}
}

// RequestIDFrom returns the request ID that RequestID stored in ctx, or ""
// if there is none.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDCtxKey).(string)
	return id
}

// saneRequestID reports whether an incoming ID may be reused as is.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}
