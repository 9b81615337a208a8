// Package apidoc is the one description of an application's API that
// forge's two documents are built from: package openapi builds the OpenAPI
// document of its REST routes, package asyncapi the AsyncAPI document of
// its WebSocket routes, and neither reads anything else.
//
// Package router records a [Route] for every registered route
// (router.Mux.Routes): its path and parameters, its documentation, the
// security schemes of its auth providers, its request type and, for a REST
// route, its responses, for a WebSocket route its [Message] kinds. To build
// documents offline, describe the routes with these types directly and
// give them to openapi.Build and asyncapi.Build.
//
// # Types
//
// A type that the documents describe (a request, a response body, a
// message payload) is given as a value of the type, such as &User{}. The
// documents reflect it with swaggest/jsonschema-go and its field tags
// (description, enum, minimum, required, example, ...). A type with an
// Examples() []any method ([Exampler]) gives the documents examples.
//
// A message may travel in an [Envelope], a wire form around its payload
// such as package events' {"event", "id", "payload"}: the envelope, not
// the builders, knows its shape.
//
// # Security
//
// A [SecurityScheme] is one way of presenting a credential, in terms that
// OpenAPI and AsyncAPI documents both express. Auth providers describe
// themselves with them (auth.Provider.Schemes), and a route lists those of
// its providers under their document keys ([Security]).
package apidoc
