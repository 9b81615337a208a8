package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/forgekit/forge/internal/problem"
)

// Recover turns a panic in the handlers it wraps into a 500 problem+json
// response and one Error log line with the panic value and the stack, so
// that a bug fails one request rather than dropping the connection with
// nothing in the logs. A nil logger means slog.Default().
//
// What Recover does depends on how far the response got:
//   - nothing written yet: headers describing the lost body
//     (Content-Length, Content-Encoding, ETag...) are dropped, those of
//     earlier middleware (request ID, CORS) kept, and the 500 is sent;
//   - the response started: its status is gone and a truncated body must
//     not look complete, so Recover panics with http.ErrAbortHandler and
//     net/http aborts the response without logging it again;
//   - the connection was hijacked (a WebSocket upgrade): the handler owns
//     it and nothing is written.
//
// A panic with http.ErrAbortHandler is the handler's own way to abort a
// response: it is not logged and is re-panicked, as net/http expects.
//
// Recover covers the HTTP part of a WebSocket route, up to the upgrade;
// the WebSocket handler runs in the connection's goroutine, where forge
// recovers its panics and closes the connection with 1011. Put Recover
// after RequestID and AccessLog, so that the access log records the 500
// and the error line carries the request ID.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &recorder{ResponseWriter: w}
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				attrs := make([]slog.Attr, 0, 6)
				attrs = append(attrs,
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Any("panic", p),
					slog.String("stack", string(debug.Stack())),
				)
				if id := RequestIDFrom(r.Context()); id != "" {
					attrs = append(attrs, slog.String("request_id", id))
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "handler panicked", attrs...)
				switch {
				case rec.hijacked:
					return
				case rec.status != 0:
					panic(http.ErrAbortHandler)
				}
				h := w.Header()
				for _, k := range [...]string{"Content-Length", "Content-Encoding", "Content-Range", "Etag", "Last-Modified"} {
					h.Del(k)
				}
				problem.Write(w, http.StatusInternalServerError, "")
			}()
			next.ServeHTTP(rec, r)
		})
	}
}
