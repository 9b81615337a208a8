package events

import (
	"reflect"

	"github.com/swaggest/jsonschema-go"

	"github.com/forgekit/forge/apidoc"
)

// envelope returns how the documents describe the envelope of the
// dispatcher's messages: forge's event envelope, or nil with command
// envelopes, whose payload (see payload) describes the whole message.
// positioned marks a server event that may carry its place in a room's
// history.
func (d *Dispatcher) envelope(positioned bool) apidoc.Envelope {
	if d.cfg.commands {
		return nil
	}
	return Envelope{positioned: positioned}
}

// Envelope describes forge's event envelope, {"event", "id", "payload"},
// to the documents. A Dispatcher declares its messages in it; give it to a
// message declared by hand (router.WithMessages) on a route whose handler
// reads and writes the envelope itself.
type Envelope struct {
	positioned bool // may carry a "position" member (hub.WithHistory)
}

var _ apidoc.Envelope = Envelope{}

// Schema implements apidoc.Envelope: the event name is a constant, and
// the id is required of replies.
func (e Envelope) Schema(name string, payload *jsonschema.Schema, reply bool) *jsonschema.Schema {
	s := (&jsonschema.Schema{}).WithType(jsonschema.Object.Type())
	s.WithPropertiesItem(eventEnvelope.event, (&jsonschema.Schema{}).
		WithType(jsonschema.String.Type()).WithConst(name).ToSchemaOrBool())
	// The id has an example, so that the docs console's example of a
	// message asks for the reply.
	id := (&jsonschema.Schema{}).WithType(jsonschema.String.Type()).WithExamples("1")
	if reply {
		id.WithDescription("The id of the message this one answers.")
		s.WithRequired(eventEnvelope.event, eventEnvelope.id, eventEnvelope.payload)
	} else {
		id.WithDescription("Set by a sender that wants a reply, which carries the same id.")
		s.WithRequired(eventEnvelope.event, eventEnvelope.payload)
	}
	s.WithPropertiesItem(eventEnvelope.id, id.ToSchemaOrBool())
	s.WithPropertiesItem(eventEnvelope.payload, payload.ToSchemaOrBool())
	if e.positioned {
		s.WithPropertiesItem("position", positionSchema().ToSchemaOrBool())
	}
	return s
}

// Example implements apidoc.Envelope.
func (Envelope) Example(name string, payload any) any {
	return map[string]any{eventEnvelope.event: name, eventEnvelope.payload: payload}
}

// CorrelationID implements apidoc.Envelope: a reply carries the id of
// the message it answers.
func (Envelope) CorrelationID() string { return "$message.payload#/" + eventEnvelope.id }

// positionSchema describes the "position" member that the hub adds to the
// messages of rooms with history (hub.StreamPosition).
func positionSchema() *jsonschema.Schema {
	str := func(d string) jsonschema.SchemaOrBool {
		return (&jsonschema.Schema{}).WithType(jsonschema.String.Type()).WithDescription(d).ToSchemaOrBool()
	}
	s := (&jsonschema.Schema{}).WithType(jsonschema.Object.Type()).WithTitle("StreamPosition").
		WithDescription("The message's place in the room's history: give the last one seen when reconnecting (?recover=room:epoch:offset) to receive what was missed.")
	s.WithPropertiesItem("room", str("The room the message was sent to."))
	s.WithPropertiesItem("epoch", str("The life of the room's history; it changes when the history is lost."))
	s.WithPropertiesItem("offset", (&jsonschema.Schema{}).WithType(jsonschema.Integer.Type()).WithMinimum(1).
		WithDescription("The message's number in the epoch: one more than the one before.").ToSchemaOrBool())
	s.WithRequired("room", "epoch", "offset")
	return s
}

// payload returns the value that describes the payload of event name in
// the documents. For forge's envelope it is a value of the payload type
// (the documents wrap it in the envelope); for command envelopes it is a
// value of a struct type made for the whole message, {"channel", "cmd":
// name, "id", "param"}.
func (d *Dispatcher) payload(name string, t reflect.Type, reply bool) any {
	if t == nil {
		t = reflect.TypeFor[struct{}]()
	}
	if !d.cfg.commands {
		return zeroPointer(t)
	}
	idTag := `json:"id,omitempty" description:"Set by a client that wants a reply; echoed in the reply."`
	if reply {
		idTag = `json:"id" required:"true" description:"The id of the message replied to."`
	}
	st := reflect.StructOf([]reflect.StructField{
		{Name: "Channel", Type: reflect.TypeFor[string](), Tag: `json:"channel"`},
		{Name: "Cmd", Type: reflect.TypeFor[string](), Tag: reflect.StructTag(`json:"cmd" required:"true" const:"` + name + `"`)},
		{Name: "ID", Type: reflect.TypeFor[string](), Tag: reflect.StructTag(idTag)},
		{Name: "Param", Type: t, Tag: `json:"param"`},
	})
	return reflect.New(st).Interface()
}

// anyName and anyPayload describe the messages of an OnAny handler.
func (d *Dispatcher) anyName() string {
	if d.cfg.commands {
		return "command"
	}
	return "event"
}

func (d *Dispatcher) anyPayload(reply bool) any {
	switch {
	case d.cfg.commands && reply:
		return &struct {
			Channel string `json:"channel"`
			Cmd     string `json:"cmd" required:"true"`
			ID      string `json:"id" required:"true"`
			Param   any    `json:"param"`
		}{}
	case d.cfg.commands:
		return &struct {
			Channel string `json:"channel"`
			Cmd     string `json:"cmd" required:"true"`
			ID      string `json:"id,omitempty"`
			Param   any    `json:"param"`
		}{}
	case reply:
		return &struct {
			Event   string `json:"event" required:"true"`
			ID      string `json:"id" required:"true"`
			Payload any    `json:"payload"`
		}{}
	}
	return &struct {
		Event   string `json:"event" required:"true"`
		ID      string `json:"id,omitempty"`
		Payload any    `json:"payload"`
	}{}
}

// zeroPointer returns a pointer to a zero value of t, or for a pointer
// type a pointer to a zero value of its element.
func zeroPointer(t reflect.Type) any {
	if t.Kind() == reflect.Pointer {
		return reflect.New(t.Elem()).Interface()
	}
	return reflect.New(t).Interface()
}
