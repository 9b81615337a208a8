package middleware

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
)

// maxLoggedUserAgent bounds the logged User-Agent: the header is the
// client's to choose, up to the server's header limit.
const maxLoggedUserAgent = 256

// redactedQuery lists the words that mark a query parameter as a
// credential; AccessLogQuery documents them.
var redactedQuery = []string{
	"token", "key", "secret", "passw", "auth", "session", "signature", "credential", "jwt",
}

// AccessLogOption configures AccessLog.
type AccessLogOption func(*accessLogConfig)

type accessLogConfig struct {
	query  bool
	redact []string // lowercased words, defaults included
}

// AccessLogQuery makes AccessLog log each request's query string, with the
// value of every parameter named like a credential replaced by "REDACTED".
// A name is a credential's when, unescaped and lowercased, it contains one
// of "token", "key", "secret", "passw", "auth", "session", "signature",
// "credential", "jwt" (which catches access_token, id_token, api_key,
// apiKey, X-Amz-Signature...) or one of the words given here. A parameter
// without '=' is logged as REDACTED, since it may be a bare token. Without
// this option no query string is logged at all: query strings carry
// tokens, a WebSocket handshake from a browser above all.
func AccessLogQuery(redact ...string) AccessLogOption {
	return func(c *accessLogConfig) {
		c.query = true
		for _, w := range redact {
			if w = strings.ToLower(w); w != "" {
				c.redact = append(c.redact, w)
			}
		}
	}
}

// AccessLog logs one Info line per request through logger (nil means
// slog.Default()): method, path, status, bytes, duration, remote_ip,
// request_id (when RequestID ran before it) and user_agent.
//
// A WebSocket handshake gets the line "websocket handshake" with status
// 101 once upgraded (or the status it was refused with), and its session,
// which outlives the HTTP handler, gets a second line "websocket session"
// when the connection ends: conn_id, duration, close_code, close_reason,
// subprotocol, and the messages and bytes each way. The session line is
// always logged after the handshake line and carries the same request_id,
// path and remote_ip. It needs the upgrade to be done by forge (connection
// Serve, which every forge WebSocket route uses).
//
// Nothing that can carry a credential is logged: no header but User-Agent
// (so no Authorization, Cookie, Sec-WebSocket-Protocol or Referer), and no
// query string unless AccessLogQuery asks for it with redaction. The path
// is logged (decoded); keep secrets out of paths. remote_ip is the peer's
// address: behind a proxy, that is the proxy.
//
// Put AccessLog after RequestID and before Recover, so that its lines carry
// the request ID and a recovered panic is logged with its 500. If a panic
// goes through AccessLog unrecovered, the line is logged with status 500
// (or the status already sent) and the panic carries on.
func AccessLog(logger *slog.Logger, opts ...AccessLogOption) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	c := accessLogConfig{}
	for _, o := range opts {
		if o == nil {
			panic("forge: AccessLog: nil AccessLogOption")
		}
		o(&c)
	}
	if c.query {
		c.redact = append(c.redact, redactedQuery...)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &recorder{ResponseWriter: w}
			var sess *sessionLog
			if websocket.IsWebSocketUpgrade(r) {
				sess = &sessionLog{logger: logger, ctx: context.WithoutCancel(r.Context())}
				r = r.WithContext(connection.ObserveSession(r.Context(), sess.observe))
			}
			done := false
			defer func() {
				status := rec.status
				switch {
				case rec.hijacked:
					status = http.StatusSwitchingProtocols
				case !done && status == 0:
					// A panic on its way up; net/http or an outer
					// Recover turns it into a 500 or an aborted response.
					status = http.StatusInternalServerError
				case status == 0:
					status = http.StatusOK // nothing written: net/http sends 200
				}
				attrs := c.requestAttrs(r, status)
				attrs = append(attrs,
					slog.Int64("bytes", rec.bytes),
					slog.Duration("duration", time.Since(start)),
				)
				if sess == nil {
					logger.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
					return
				}
				sess.handshake(r.Context(), attrs)
			}()
			next.ServeHTTP(rec, r)
			done = true
		})
	}
}

// requestAttrs returns the attributes that identify a request, shared by
// its handshake and session lines.
func (c *accessLogConfig) requestAttrs(r *http.Request, status int) []slog.Attr {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
	)
	if c.query && r.URL.RawQuery != "" {
		attrs = append(attrs, slog.String("query", redactQuery(r.URL.RawQuery, c.redact)))
	}
	attrs = append(attrs,
		slog.Int("status", status),
		slog.String("remote_ip", remoteIP(r.RemoteAddr)),
	)
	if id := RequestIDFrom(r.Context()); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	ua := r.UserAgent()
	if len(ua) > maxLoggedUserAgent {
		ua = ua[:maxLoggedUserAgent]
	}
	return append(attrs, slog.String("user_agent", ua))
}

// sessionLog orders the two lines of a WebSocket request. The session can
// end, in the connection's goroutine, before the handler that upgraded it
// has returned and logged the handshake; its line then waits in pending
// and the handshake logs it.
type sessionLog struct {
	logger *slog.Logger
	ctx    context.Context // the request's values, not its cancellation; chi's route a copy once handshake ran

	mu      sync.Mutex // guards the fields below
	base    []slog.Attr
	logged  bool // the handshake line was logged
	pending *connection.SessionInfo
}

func (s *sessionLog) handshake(ctx context.Context, attrs []slog.Attr) {
	s.logger.LogAttrs(ctx, slog.LevelInfo, "websocket handshake", attrs...)
	s.mu.Lock()
	// chi gives its route context to the next request once ServeHTTP
	// returns: the session line, logged when the connection ends, must
	// not read it through the request's context (a slog.Handler that
	// labels records by route would read another request's, as it
	// changes). It gets a copy, made now that the request is routed.
	if rc := chi.RouteContext(s.ctx); rc != nil {
		s.ctx = &routeCopy{Context: s.ctx, rc: copyRoute(rc)}
	}
	// The session line repeats what identifies the request, not the
	// handshake's status, size and duration.
	s.base = make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		switch a.Key {
		case "status", "bytes", "duration":
		default:
			s.base = append(s.base, a)
		}
	}
	s.logged = true
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	if p != nil {
		s.session(*p)
	}
}

func (s *sessionLog) observe(info connection.SessionInfo) {
	s.mu.Lock()
	if !s.logged {
		s.pending = &info
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.session(info)
}

func (s *sessionLog) session(info connection.SessionInfo) {
	attrs := make([]slog.Attr, 0, len(s.base)+9)
	attrs = append(attrs, s.base...)
	attrs = append(attrs,
		slog.String("conn_id", info.ID),
		slog.Duration("duration", info.Duration),
		slog.Int("close_code", int(info.Code)),
		slog.String("close_reason", info.Reason),
		slog.String("subprotocol", info.Subprotocol),
		slog.Uint64("messages_in", info.MessagesIn),
		slog.Uint64("bytes_in", info.BytesIn),
		slog.Uint64("messages_out", info.MessagesOut),
		slog.Uint64("bytes_out", info.BytesOut),
	)
	s.logger.LogAttrs(s.ctx, slog.LevelInfo, "websocket session", attrs...)
}

// routeCopy answers chi's route context key with a copy of the request's
// route, and every other key with the request's context.
type routeCopy struct {
	context.Context
	rc *chi.Context
}

func (c *routeCopy) Value(key any) any {
	if key == chi.RouteCtxKey {
		return c.rc
	}
	return c.Context.Value(key)
}

// copyRoute copies what a routed request's route context says: its router,
// method, patterns and parameters. The values are copied off the request
// line, of which chi's are substrings, so that the copy does not keep it.
func copyRoute(rc *chi.Context) *chi.Context {
	cp := chi.NewRouteContext()
	cp.Routes = rc.Routes
	cp.RouteMethod = rc.RouteMethod
	cp.RoutePatterns = append([]string(nil), rc.RoutePatterns...)
	for i, k := range rc.URLParams.Keys {
		if i < len(rc.URLParams.Values) {
			cp.URLParams.Add(k, strings.Clone(rc.URLParams.Values[i]))
		}
	}
	return cp
}

// remoteIP returns the host part of a RemoteAddr.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// redactQuery returns raw with the values of the parameters whose names
// contain one of words replaced by REDACTED. It keeps the parameters'
// order and splits on ';' as well as '&', so that no server's idea of a
// separator lets a credential through. A name that does not unescape is
// treated as a credential's, and so is a part without '=' (a bare token).
func redactQuery(raw string, words []string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for raw != "" {
		var part string
		if sep := strings.IndexAny(raw, "&;"); sep < 0 {
			part, raw = raw, ""
		} else {
			part, raw = raw[:sep+1], raw[sep+1:]
		}
		pair := strings.TrimRight(part, "&;")
		switch name, _, hasValue := strings.Cut(pair, "="); {
		case pair == "":
		case !hasValue:
			b.WriteString("REDACTED")
		case sensitiveName(name, words):
			b.WriteString(name)
			b.WriteString("=REDACTED")
		default:
			b.WriteString(pair)
		}
		b.WriteString(part[len(pair):])
	}
	return b.String()
}

func sensitiveName(name string, words []string) bool {
	n, err := url.QueryUnescape(name)
	if err != nil {
		return true
	}
	n = strings.ToLower(n)
	for _, w := range words {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
