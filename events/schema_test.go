package events

import (
	"encoding/json"
	"testing"

	"github.com/swaggest/jsonschema-go"
)

// TestEnvelopeSchema: what the documents say about the envelope around a
// payload: the event name fixed, the id required of replies, and the
// position of messages in rooms with history.
func TestEnvelopeSchema(t *testing.T) {
	t.Parallel()
	payload := (&jsonschema.Schema{}).WithRef("#/components/schemas/Chat")
	tests := []struct {
		name  string
		env   Envelope
		reply bool
		want  string
	}{
		{"message", Envelope{}, false, `{"required":["event","payload"],"properties":{"event":{"const":"chat","type":"string"},"id":{"description":"Set by a sender that wants a reply, which carries the same id.","examples":["1"],"type":"string"},"payload":{"$ref":"#/components/schemas/Chat"}},"type":"object"}`},
		{"reply", Envelope{}, true, `{"required":["event","id","payload"],"properties":{"event":{"const":"chat","type":"string"},"id":{"description":"The id of the message this one answers.","examples":["1"],"type":"string"},"payload":{"$ref":"#/components/schemas/Chat"}},"type":"object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.env.Schema("chat", payload, tt.reply))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("schema\n%s\nwant\n%s", b, tt.want)
			}
		})
	}
	s := Envelope{positioned: true}.Schema("chat", payload, false)
	if p := s.Properties["position"].TypeObject; p == nil || p.Title == nil || *p.Title != "StreamPosition" {
		t.Fatalf("positioned envelope: position %+v", s.Properties["position"])
	}
	ex, _ := json.Marshal(Envelope{}.Example("chat", map[string]string{"text": "hi"}))
	if string(ex) != `{"event":"chat","payload":{"text":"hi"}}` {
		t.Fatalf("example %s", ex)
	}
	if got := (Envelope{}).CorrelationID(); got != "$message.payload#/id" {
		t.Fatalf("correlation id %q", got)
	}
}
