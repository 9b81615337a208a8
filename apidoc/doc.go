// Package apidoc holds what forge's two documents are built from: package
// openapi builds the OpenAPI document from it and package asyncapi the
// AsyncAPI document, so that both read one description and neither a copy.
//
// # Types
//
// A type that the documents describe (a request, a response body, a
// message payload) is given as a value of the type, such as &User{}. The
// documents reflect it with swaggest/jsonschema-go and its field tags
// (description, enum, minimum, required, example, ...). A type with an
// Examples() []any method ([Exampler]) gives the documents examples.
//
// # Security
//
// A [SecurityScheme] is one way of presenting a credential, in terms that
// OpenAPI and AsyncAPI documents both express. Auth providers describe
// themselves with them (auth.Provider.Schemes).
package apidoc
