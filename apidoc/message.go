package apidoc

import "github.com/swaggest/jsonschema-go"

// Envelope is a wire form that carries message payloads, such as package
// events' {"event": "join", "id": "7", "payload": {...}}. The AsyncAPI
// document describes a message in an envelope as the envelope's schema
// around the payload type's, titled after the message ("JoinEnvelope"),
// and wraps the payload's examples in it.
type Envelope interface {
	// Schema returns the schema of message name in the envelope, around
	// payload, the schema of the payload type (a reference to a component
	// schema for named types). reply reports a message sent as the reply
	// to another.
	Schema(name string, payload *jsonschema.Schema, reply bool) *jsonschema.Schema
	// Example returns message name in the envelope, carrying payload, an
	// example of the payload type.
	Example(name string, payload any) any
	// CorrelationID is where the envelope carries the id that pairs a
	// message with its reply, as an AsyncAPI runtime expression
	// ("$message.payload#/id"); "" when it carries none. The AsyncAPI
	// document gives it to the messages that have a reply or are one.
	CorrelationID() string
}
