// Package openapi builds OpenAPI 3.1 documents of REST routes with
// swaggest/openapi-go. [Build] turns the description of an application's
// routes (apidoc.Route, what router.Mux.Routes returns, in a [Spec]) into
// a [Document]; every REST route that is not hidden is an operation. It
// knows nothing of forge's router and never imports it; package asyncapi
// builds the AsyncAPI document from the same description.
//
// Request types follow openapi-go's conventions, which forge's typed
// handlers bind by: fields tagged path, query, header or cookie are
// parameters, fields tagged json make the JSON body, and the constraint tags
// of swaggest/jsonschema-go (required, enum, minimum, maxLength, pattern,
// default, example, description, ...) become the schemas. Path parameters
// that the request type does not declare are documented as strings.
//
// Named types become components.schemas entries named after the type, the
// same names the AsyncAPI document uses; types of different packages that
// share a name are qualified by their package path. A request or response
// type with an Examples() []any method ([apidoc.Exampler]) gives its media
// type examples. Responses that several operations document alike (the
// error responses of typed handlers) are shared as components.responses
// entries. An operation lists the security schemes of its route
// (apidoc.Route.Security) as alternatives, each with the route's scopes,
// and components.securitySchemes holds those in use. The same Spec always
// encodes to the same bytes.
package openapi
