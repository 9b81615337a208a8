package events

import "reflect"

// payload returns the value that describes the payload of event name in
// the documents. For forge's envelope it is a value of the payload type
// (the documents wrap it in the envelope); for command envelopes, whose
// shape the documents do not know, it is a value of a struct type made for
// the whole message, {"channel", "cmd": name, "id", "param"}.
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
