package events

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in                    string
		event, id, channel, payload string // payload "" means absent
		err                         error
	}{
		{"full", `{"event":"message","id":"7","payload":{"text":"hi"}}`, "message", "7", "", `{"text":"hi"}`, nil},
		{"spaces", " {\n\t\"payload\" : [1, {\"a\":\"}\"}] ,\"event\" :\"m\" } ", "m", "", "", `[1, {"a":"}"}]`, nil},
		{"no payload", `{"event":"ping"}`, "ping", "", "", "", nil},
		{"null payload", `{"event":"ping","payload":null}`, "ping", "", "", "null", nil},
		{"scalar payload", `{"event":"n","payload":-1.5e3}`, "n", "", "", "-1.5e3", nil},
		{"null id", `{"event":"e","id":null}`, "e", "", "", "", nil},
		{"unknown keys", `{"x":{"event":"no"},"event":"yes","Event":"no"}`, "yes", "", "", "", nil},
		{"last wins", `{"event":"a","event":"b","id":1,"id":"2"}`, "b", "2", "", "", nil},
		{"escapes", `{"\u0065vent":"caf\u00e9","id":"\"q\""}`, "café", `"q"`, "", "", nil},
		{"unicode", `{"event":"héllo"}`, "héllo", "", "", "", nil},
		{"channel ignored", `{"event":"e","channel":"c"}`, "e", "", "", "", nil},
		{"not JSON", `{"event":"e"`, "", "", "", "", errNotJSON},
		{"trailing data", `{"event":"e"} x`, "", "", "", "", errNotJSON},
		{"array", `[{"event":"e"}]`, "", "", "", "", errNotObject},
		{"null", `null`, "", "", "", "", errNotObject},
		{"no event", `{"payload":{}}`, "", "", "", "", errNoEvent},
		{"null event", `{"event":null}`, "", "", "", "", errNoEvent},
		{"empty event", `{"event":""}`, "", "", "", "", errNoEvent},
		{"number event", `{"event":1}`, "", "", "", "", errEventString},
		{"object id", `{"event":"e","id":{}}`, "", "", "", "", errIDString},
		{"deep payload", `{"event":"e","payload":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`,
			"e", "", "", strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1), nil},
		{"too deep", `{"event":"e","payload":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`,
			"", "", "", "", errNotJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in inbound
			err := eventEnvelope.decode([]byte(tt.in), &in)
			if err != tt.err {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if got := in.eventName(); got != tt.event || in.id != tt.id || in.channel != tt.channel || string(in.payload) != tt.payload {
				t.Fatalf("decoded event %q id %q channel %q payload %q", got, in.id, in.channel, in.payload)
			}
		})
	}
	var in inbound
	if err := commandEnvelope.decode([]byte(`{"channel":"c","cmd":"chat","param":{"t":1},"id":"x"}`), &in); err != nil ||
		in.eventName() != "chat" || in.channel != "c" || string(in.payload) != `{"t":1}` || in.id != "x" {
		t.Fatalf("command envelope: %v %+v", err, in)
	}
}

func TestAppendEnvelope(t *testing.T) {
	t.Parallel()
	got := eventEnvelope.appendEnvelope(nil, "caf\u00e9\n", `a"b`, "", []byte(`{"x":1}`))
	want := `{"event":"café\n","id":"a\"b","payload":{"x":1}}`
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil || !jsonEqual(a, b) {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got := string(commandEnvelope.appendEnvelope(nil, "pong", "", "ch", nil)); got != `{"channel":"ch","cmd":"pong"}` {
		t.Fatalf("command envelope %s", got)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// oracle decodes an envelope with encoding/json: a JSON object whose keys
// match exactly, the last of repeated keys counting, as in a map.
func oracle(e *envelope, data []byte) (event, id, channel string, payload []byte, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || m == nil {
		return "", "", "", nil, false
	}
	raw, has := m[e.event]
	if !has || json.Unmarshal(raw, &event) != nil || event == "" {
		return "", "", "", nil, false
	}
	if raw, has := m[e.id]; has && json.Unmarshal(raw, &id) != nil {
		return "", "", "", nil, false
	}
	if e.channel != "" {
		if raw, has := m[e.channel]; has && json.Unmarshal(raw, &channel) != nil {
			return "", "", "", nil, false
		}
	}
	if raw, has := m[e.payload]; has {
		payload = raw
	}
	return event, id, channel, payload, true
}

// FuzzDecodeEnvelope checks the envelope decoder against encoding/json on
// arbitrary input, in both wire formats: it accepts what encoding/json
// accepts and finds the same fields, payload bytes included, and it never
// panics. The corpus in testdata/fuzz runs with every go test.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"event":"message","id":"7","payload":{"text":"hi"}}`,
		`{"channel":"c","cmd":"chat","param":[1,2,{"a":null}],"id":"x"}`,
		`{"ev\u0065nt":"\ud83d\ude00","payload":"}"}`,
		`{"event":"a","event":1}`,
		`{"event":"\xff"}`,
		`{"event":"e","payload":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`,
		`{"event":"n","payload":-0.0e+00}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, e := range []*envelope{eventEnvelope, commandEnvelope} {
			var in inbound
			err := e.decode(data, &in)
			event, id, channel, payload, ok := oracle(e, data)
			if (err == nil) != ok {
				t.Fatalf("%s: decode error %v, encoding/json ok=%v", data, err, ok)
			}
			if !ok {
				continue
			}
			if got := in.eventName(); got != event || in.id != id || in.channel != channel || !bytes.Equal(in.payload, payload) {
				t.Fatalf("%s: decoded (%q %q %q %q), encoding/json (%q %q %q %q)",
					data, got, in.id, in.channel, in.payload, event, id, channel, payload)
			}
		}
	})
}
