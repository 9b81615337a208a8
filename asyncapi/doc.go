// Package asyncapi builds AsyncAPI 3.0 documents that describe WebSocket
// APIs. It holds a typed model of the document ([Document]) and a builder
// ([Build]) that turns the description of an application's routes
// (apidoc.Route, what router.Mux.Routes returns, in a [Spec]) into it. It
// knows nothing of forge's router and never imports it; package openapi
// builds the OpenAPI document from the same description.
//
// # What a document says
//
// Every WebSocket route is a channel whose address is the route's path,
// parameters written "{name}" and declared under parameters; REST routes
// and hidden routes are left out. Its ws binding describes the upgrade
// request: method GET, and the query and headers of the route's request
// type when it declares one, plus Sec-WebSocket-Protocol for routes with
// subprotocols.
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
// name. A message in an envelope (apidoc.Message.Envelope, such as package
// events' {"event", "id", "payload"}) is described as the envelope's
// schema around the payload's; the envelope says what it adds. A payload
// type with an Examples() []any method ([apidoc.Exampler]) gives its
// messages examples, wrapped in the envelope if there is one.
//
// # Message keys
//
// A message's key in components.messages, which operation ids and the
// docs UI show, is its name, so that it reads like the event a client
// sends or receives. When messages of both directions share a name (an
// event "message" that clients send, and one of another payload that the
// server sends back), the one clients send keeps the name and the one they
// receive gets ".received": "message" and "message.received", whatever
// order they were declared in. Equal messages share one key. Another
// message of a name already taken in the same direction (two routes whose
// "message" events differ) is keyed by its payload type's name, and only
// when that is taken too by the name and a number: "message_2".
//
// # Titles
//
// Code generators name a type after a schema's title, or number it
// (AsyncAPI Modelina's AnonymousSchema_11) when the schema has none and is
// not a component. So every envelope has a title made of its message key
// ("message.ack" gives MessageAckEnvelope), so has every payload schema
// that is not a reference to a component (MessageAckPayload), and so have
// the objects and enums nested in component schemas, after their place
// (PresenceAction for the enum of Presence's "action").
//
// A channel that requires credentials (apidoc.Route.Security) lists the
// security schemes on each of its operations; only the schemes in use are
// in components.securitySchemes.
//
// The same Spec always encodes to the same bytes.
package asyncapi
