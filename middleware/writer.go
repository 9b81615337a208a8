package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// recorder wraps a ResponseWriter to learn what became of the response:
// its status, its size, and whether the connection was hijacked (a
// WebSocket upgrade). The access log reports them; Recover needs to know
// whether a response was started before it may write one.
//
// It implements http.Flusher and http.Hijacker by delegating through
// http.ResponseController, and Unwrap for everything else the controller
// reaches (deadlines, full duplex), so wrapping never hides a capability:
// gorilla's Upgrade type-asserts http.Hijacker. It is used by the goroutine
// that serves the request only, like the writer it wraps.
type recorder struct {
	http.ResponseWriter
	status   int   // first final status written; 0 until then
	bytes    int64 // body bytes written
	hijacked bool
}

func (w *recorder) WriteHeader(code int) {
	// 1xx responses (103 Early Hints) may precede the final one and do not
	// start the response.
	if w.status == 0 && (code < 100 || code > 199) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy on the wrapped writer's fast path (sendfile for
// http.ServeContent), counting what it copies.
func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, src)
	w.bytes += n
	return n, err
}

func (w *recorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
