package apidoc

import (
	"strconv"

	"github.com/swaggest/jsonschema-go"
)

// Message describes one kind of message a WebSocket route exchanges. A
// route may declare any number per direction; package events declares one
// per registered event.
type Message struct {
	// Name identifies the message in the documents. For an event it is the
	// event name; when empty, the payload's Go type name is used.
	Name string
	// Direction is which way the message travels.
	Direction Direction
	// Payload is a value of the payload's type, such as &ChatMessage{}.
	Payload any
	// Envelope, when set, is the wire form that carries the payload, such
	// as the event envelope {"event": Name, "id": "...", "payload": ...}
	// of package events, which declares its messages with it. A message in
	// an envelope needs a Name.
	Envelope Envelope
	// Reply, when set, is the message sent back for this one, carrying the
	// same envelope id (an acknowledgement). It travels the other way.
	Reply *Message
	// Summary and Description document the message.
	Summary     string
	Description string
}

// Direction says which way a WebSocket message travels.
type Direction int

// Message directions.
const (
	ClientToServer Direction = iota + 1
	ServerToClient
)

func (d Direction) String() string {
	switch d {
	case ClientToServer:
		return "client-to-server"
	case ServerToClient:
		return "server-to-client"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

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
