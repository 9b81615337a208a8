// Package forge is a Go framework in which WebSocket routes live on the same
// router as REST routes.
//
// An [App] holds a chi-backed router. REST handlers take a [Context] and
// return an error; WebSocket handlers also get the [Connection], after the
// upgrade:
//
//	app := forge.New(forge.WithAppName("chat-server"))
//	r := app.Router()
//	r.GET("/healthz", func(ctx forge.Context) error {
//		return ctx.String(http.StatusOK, "ok")
//	})
//	r.WebSocket("/ws/chat/:room", func(ctx forge.Context, conn forge.Connection) error {
//		for {
//			var m ChatMessage
//			if err := conn.ReadJSON(&m); err != nil {
//				return err
//			}
//			m.Room = ctx.Param("room")
//			if err := conn.WriteJSON(m); err != nil {
//				return err
//			}
//		}
//	}, forge.WithSummary("Chat room"), forge.WithWebSocketMessages(&ChatMessage{}, &ChatMessage{}))
//	if err := app.Run(); err != nil {
//		log.Fatal(err)
//	}
//
// # Routes
//
// Paths take parameters as ":name" or as chi's "{name}" and "{name:regexp}";
// both are read with [Context.Param]. Routes are grouped with
// [Router.Group] and [Router.Route]: a group's prefix, options and middleware
// apply to its routes. [Router.Mount] attaches any http.Handler under a path.
// Mistakes in a registration, such as a route registered twice or an
// option that cannot apply to the route, panic with a "forge: " message, so
// they show the first time the program starts (see "Mistakes and errors").
//
// # Route options
//
// One set of [RouteOption] values describes routes: [WithName],
// [WithSummary], [WithDescription], [WithTags] and [WithDeprecated] for the
// documents, [WithMiddleware] for route middleware, [WithBodyLimit] for the
// bodies [Context.Bind] reads, [WithAuth], [WithScopes] and
// [WithAuthExpiry] for authentication, [WithWebSocketMessages] for a
// WebSocket route's message types, and the WebSocket connection
// settings ([WithOrigins], [WithReadLimit], [WithKeepalive],
// [WithWriteTimeout], [WithCloseTimeout], [WithQueueBytes],
// [WithSlowConsumerPolicy], [WithCompression], [WithSubprotocols],
// [WithRequiredSubprotocol], [WithMessageRateLimit], [WithUpgrader]). The
// same options apply to a route, to a group, and through
// [WithRouteDefaults] to every route of the app; the most specific wins.
//
// An option that belongs to one kind of route has that kind's type: the
// REST verbs take [RESTOption] values and WebSocket takes
// [WebSocketOption] values, so WithReadLimit on a GET route or
// WithBodyLimit on a WebSocket route does not compile. Options of both
// kinds are [RouteOption] values, which both accept; a group and
// WithRouteDefaults take any [GroupOption], applying each to the routes of
// its kind.
//
// # Names of options
//
// An option of what a package's constructor or registration call builds
// is named With*: the [Option] values of [New], the route options, and the
// options of hub.New and events.New and of event handlers. A package with
// several constructors names each one's options after it instead
// (middleware.CORSOrigins, auth.APIKeyFromQuery, hub.MemoryPresenceTTL),
// since a With* name could not say which constructor it configures.
//
// Options that recur across packages mean one thing. WithLogger sets the
// logger of what its package builds, nil meaning slog.Default(): [WithLogger]
// here covers the app, its router and its connections; a hub and an events
// dispatcher take their own (hub.WithLogger, events.WithLogger).
// WithSummary and WithDescription document what they are given to: a
// route here (the OpenAPI operation or the AsyncAPI channel), one event's
// message in package events.
//
// # Middleware
//
// Middleware is func(http.Handler) http.Handler, so chi's and net/http's
// middleware fit. It runs in this order: the app router's Use (before
// routing, for every request), WithMiddleware given to WithRouteDefaults,
// each enclosing group's WithMiddleware then Use, outermost first, and last
// the route's WithMiddleware. Values that middleware
// stores in the request context reach REST and WebSocket handlers through
// [Context.Context]; in a WebSocket handler that context is the
// connection's, which ends when the connection does.
//
// # Mistakes and errors
//
// Every package of forge sorts what can go wrong while an application is
// set up by one rule.
//
// A mistake in the program panics, with a message that begins "forge: ",
// as net/http.ServeMux and chi do. Mistakes are option values that no
// correct program passes (a zero read limit or shutdown timeout, a nil
// handler, function, middleware or provider, an empty name, a malformed
// route pattern or event name), an option given where it cannot apply
// (WithName as a group's option), and
// registrations that conflict (a route registered twice, WithAuth naming a
// provider the app does not have, options that contradict each other). The
// panic comes where the mistake is first seen: in the option's constructor
// when its argument alone is wrong, otherwise in the call that takes the
// options ([New], a route registration, [Router.Group], hub.New,
// events.New). A program that starts once therefore starts every time,
// and the panic's stack points at the line to fix. Such mistakes are never
// returned as errors: nothing could handle them but a fix to the code.
//
// What depends on where the program runs is an error, returned by the call
// that meets it: the settings a deployment supplies (the listen address
// from [WithAddr] or the PORT environment variable, the public URL from
// [WithPublicURL], the keys given to auth.JWT), a port already in use, a
// broker that cannot be reached (hub.New, the brokers' New). [New] returns
// only the App, so that a program can build it in one expression; it keeps
// the deployment's errors for [App.Run] and [App.Serve], which return them
// before serving, and [App.Handler], which answers 500.
//
// Where the types can rule a mistake out, they do instead: an option of
// one kind of route cannot be given to a route of the other ([RESTOption],
// [WebSocketOption]), nor an events dispatcher's option to one event
// (events.DispatcherOption, events.HandlerOption), nor a hub member's
// option to the hub (hub.Option, hub.MemberOption). What the types cannot
// tell apart, such as WithName given to a group, panics as above.
//
// # Errors
//
// A REST handler's error becomes an RFC 9457 application/problem+json
// response: an [HTTPError] (see [NewHTTPError]) with its status and
// message, any other error with 500 and a generic body, logged. A
// WebSocket handler's error closes the connection with 1011, or with the
// code of a [CloseError] it carries.
//
// # Serving and shutdown
//
// [App.Run] listens on the address from [WithAddr] (else ":$PORT", else
// ":8080") and shuts down gracefully on SIGINT or SIGTERM. [App.Serve]
// serves on a listener of one's own, and [App.Handler] returns the app as an
// http.Handler for any server. [App.Shutdown] stops every server started by
// Run or Serve and closes every WebSocket connection with 1001 (going away),
// waiting for the handlers to return.
package forge
