// Package router is forge's chi-backed router, where WebSocket routes sit
// next to REST routes.
//
// A [Mux] registers routes through the [Router] methods and serves them as
// an http.Handler. Every route is also recorded as an [apidoc.Route], in
// registration order: [Mux.Routes] is the one description of the routes
// that both documents (packages openapi and asyncapi) are built from.
//
// # Paths
//
// A path segment ":name" is a parameter, the same as chi's "{name}"; chi's
// "{name:regexp}" and a trailing "*" work too. Context.Param reads it; so
// do chi.URLParam and chi.RouteContext, in a WebSocket handler too for as
// long as it runs (its context answers with a copy of the connection's
// route, not chi's pooled one, which the next request reuses).
//
// # Mistakes
//
// Mistakes in code that builds options or registers routes panic with a
// "forge: " message, like http.ServeMux's and chi's, and are never
// returned as errors: an option value no program should pass panics in
// the option's constructor (WithReadLimit(0), WithTags("")), and the rest
// panics in the call that takes the options: an invalid path, a route
// whose method and path were already registered (whatever its parameter
// names), an option that does not apply where it is given (WithName on a
// group or in Config.Defaults, which New checks; an option of WebSocket
// routes on a REST route, or the other way round, does not even compile:
// see [RouteOption]), WithAuth naming no provider of Config.Auth, options
// that contradict each other. Nothing in this package fails at run time
// for the deployment's sake, so New returns no error.
//
// # Handlers and errors
//
// A [Handler] returns an error, which becomes the response in one place: an
// [HTTPError] keeps its status and message, any other error gives 500 and is
// logged; both as RFC 9457 application/problem+json. Unrouted requests get
// 404 and 405 in the same format.
//
// A [WebSocketHandler] runs once the request is upgraded, in the
// connection's own goroutine, through [connection.Serve] with the route's
// merged [connection.Config]. Route middleware wraps the handshake: it runs
// before the upgrade (and may refuse it) and returns once the connection is
// handed over; [Context.Context] in the handler is the connection's context,
// which keeps every value middleware stored and ends with the connection.
package router
