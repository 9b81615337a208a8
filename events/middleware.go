package events

import (
	"errors"
	"log/slog"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit allows each connection limit events per second, in bursts of
// up to burst; messages beyond are answered with CodeRateLimited and not
// handled. Every RateLimit middleware counts on its own: given to New it
// limits all of a connection's events together, given to a handler that
// event's.
func RateLimit(limit rate.Limit, burst int) Middleware {
	if burst <= 0 {
		panic("forge: events: RateLimit: burst must be positive")
	}
	key := &limiterKey{limit: limit, burst: burst}
	return func(c *Context, next Next) (any, error) {
		if !c.s.limiter(key).Allow() {
			return nil, &Error{Code: CodeRateLimited, Message: "too many messages: slow down"}
		}
		return next(c)
	}
}

// Authorize runs check before the handler (and before the payload is
// decoded): an error refuses the message with CodeForbidden and the
// error's text, or with the *Error it is. The upgrade request's values,
// such as the authenticated principal, are in c.ConnContext().
func Authorize(check func(c *Context) error) Middleware {
	if check == nil {
		panic("forge: events: Authorize: nil check")
	}
	return func(c *Context, next Next) (any, error) {
		if err := check(c); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return nil, e
			}
			return nil, &Error{Code: CodeForbidden, Message: err.Error()}
		}
		return next(c)
	}
}

// Log logs every message at debug level, with its event, id, connection,
// duration and outcome (the error code, if any); nil means slog.Default().
func Log(logger *slog.Logger) Middleware {
	if logger == nil {
		logger = slog.Default()
	}
	return func(c *Context, next Next) (any, error) {
		start := time.Now()
		res, err := next(c)
		code := ""
		if err != nil {
			code = CodeInternal
			var e *Error
			if errors.As(err, &e) {
				code = e.Code
			}
		}
		logger.LogAttrs(c.ctx, slog.LevelDebug, "event",
			slog.String("conn_id", c.s.conn.ID()), slog.String("event", c.event), slog.String("id", c.id),
			slog.Duration("duration", time.Since(start)), slog.String("error", code))
		return res, err
	}
}
