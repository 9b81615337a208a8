// Package middleware holds forge's general HTTP middleware, each a
// func(http.Handler) http.Handler that works on any router, in the shape
// of chi's middleware package: [RequestID], [Recover], [AccessLog] (which
// also logs how each WebSocket session ended), [CORS] and a per-client-IP
// [RateLimiter]. Authentication lives in package auth.
//
// A suggested order on the root router:
//
//	r.Use(middleware.RequestID(), middleware.AccessLog(logger), middleware.Recover(logger), cors, limiter.Handler)
//
// Per-connection message rate limits for WebSocket routes are a route
// setting (forge.WithMessageRateLimit), enforced by the connection itself.
//
// Each constructor's options carry its name (CORSOrigins, AccessLogQuery,
// RateLimitMaxClients, RequestIDHeader) rather than With*: with several
// constructors in one package, a With* name would not say which one it
// configures, and CORS and RequestID would both want WithHeader.
//
// Setup follows forge's one rule: a value no program should pass (a
// malformed origin or proxy address, a zero rate) panics with a "forge: "
// message where the option or middleware is built, so the constructors
// return no error and fit in a Use call: r.Use(middleware.CORS(...)).
package middleware
