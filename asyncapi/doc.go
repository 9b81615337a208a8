// Package asyncapi builds AsyncAPI 3.0 documents that describe WebSocket
// APIs. It holds a typed model of the document ([Document]) and a builder
// ([Build]) that turns a description of WebSocket routes ([Spec]) into it.
// It knows nothing of forge's router; the root package translates routes
// into a Spec.
//
// # What a document says
//
// Every route is a channel whose address is the route's path, parameters
// written "{name}" and declared under parameters. Its ws binding describes
// the upgrade request: method GET, and the query and headers of the
// handshake type when the route declares one, plus Sec-WebSocket-Protocol
// for routes with subprotocols.
//
// Operations take the application's point of view: a message that clients
// send is one the application receives (action "receive"), and a message
// the server sends is "send". Each declared message gets its own operation,
// and a message with a reply gets the AsyncAPI 3 operation reply, pointing
// at the reply message on the same channel.
//
// Payload schemas come from the Go types through swaggest/jsonschema-go,
// with its field tags (description, enum, minimum, required, example, ...).
// Each named type appears once under components.schemas, named after the
// type; types of different packages that share a name are qualified by
// their package path. Messages are reusable components too, keyed by their
// name. An event message travels in forge's envelope, so its payload schema
// is {event: const name, id?: string, payload: type}. A payload type with an
// Examples() []any method ([Exampler]) gives its messages examples.
//
// A channel that requires credentials (ChannelSpec.Security) lists the
// security schemes on each of its operations; only the schemes in use are
// in components.securitySchemes.
//
// The same Spec always encodes to the same bytes.
package asyncapi
