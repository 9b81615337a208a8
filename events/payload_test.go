package events

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// opaque fails to decode with a message that names Go, as errors from
// UnmarshalJSON and UnmarshalText methods often do (net/netip's
// `ParseAddr("x"): unable to parse IP`).
type opaque string

func (*opaque) UnmarshalJSON([]byte) error { return errors.New(`ParseOpaque("x"): bad *events.opaque`) }

type ranges struct {
	Small int8   `json:"small"`
	Count uint   `json:"count"`
	Odd   opaque `json:"odd"`
}

// TestPayloadErrorsNameNoGoTypes: the payloads the JSON schema lets through
// but encoding/json refuses (numbers out of a Go type's range, methods
// that fail) are answered in JSON's terms, without Go type names.
func TestPayloadErrorsNameNoGoTypes(t *testing.T) {
	t.Parallel()
	d := New(quiet())
	On(d, "set", func(*Context, ranges) error { return nil })
	c := dial(t, serve(t, d), "/ws")
	tests := []struct {
		payload, want string
	}{
		{`{"small": 300}`, "payload/small: number 300 is out of range"},
		{`{"count": 1e30}`, "payload/count: number 1e30 is out of range"},
		{`{"odd": "x"}`, "the payload does not fit"},
		// Integers to JSON Schema, not to encoding/json.
		{`{"count": 1e1}`, "payload/count: got 1e1, want an integer written without a fraction or exponent"},
		{`{"small": 2.0}`, "payload/small: got 2.0, want an integer written without a fraction or exponent"},
	}
	for i, tt := range tests {
		id := fmt.Sprint(i)
		c.SendText(`{"event":"set","id":"` + id + `","payload":` + tt.payload + `}`)
		msg := c.expectError(id, CodeInvalidPayload)
		if msg != tt.want {
			t.Errorf("%s: error %q, want %q", tt.payload, msg, tt.want)
		}
		for _, goism := range []string{"int8", "uint", "Go ", "events.", "Parse", "json:"} {
			if strings.Contains(msg, goism) {
				t.Errorf("%s: error %q names %q", tt.payload, msg, goism)
			}
		}
	}
}
