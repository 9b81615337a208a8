package metrics

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestEventOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, data, key, want string
		ok                    bool
	}{
		{"first", `{"event":"say","payload":{}}`, "event", "say", true},
		{"repeated", `{"event":"a","x":1,"event":"b"}`, "event", "b", true},
		{"repeated, last not a string", `{"event":"a","event":2}`, "event", "", false},
		{"after nested values", `{"id":"1","payload":{"a":[1,{"event":"no"}],"b":"}"},"event":"join"}`, "event", "join", true},
		{"spaces", " { \"event\" :\t\"x\" } ", "event", "x", true},
		{"cmd", `{"channel":"c","cmd":"publish","param":1}`, "cmd", "publish", true},
		{"escaped name", `{"event":"s\u0061y"}`, "event", "", false},
		{"escaped key", `{"ev\u0065nt":"say"}`, "event", "", false},
		{"not a string", `{"event":7}`, "event", "", false},
		{"absent", `{"payload":"event"}`, "event", "", false},
		{"nested only", `{"payload":{"event":"say"}}`, "event", "", false},
		{"not an object", `["event","say"]`, "event", "", false},
		{"cut short", `{"event":"sa`, "event", "", false},
		{"empty", ``, "event", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := eventOf([]byte(tt.data), tt.key)
			if ok != tt.ok || string(got) != tt.want {
				t.Fatalf("eventOf(%s) = %q, %v; want %q, %v", tt.data, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzEventOf holds eventOf to encoding/json: when it finds a name in a
// valid message, that is the top-level member's value (for valid UTF-8:
// encoding/json replaces invalid bytes, and such a name is "other"
// anyway, declared names being ASCII); it never panics.
func FuzzEventOf(f *testing.F) {
	for _, s := range []string{`{"event":"say"}`, `{"event":"a","event":"b"}`, `{"id":"1","event":"x","payload":[{}]}`, `{"a":"\"","event":"y"}`, `{`, `{"event":"a\"b"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		got, ok := eventOf([]byte(data), "event")
		var m map[string]json.RawMessage
		if !ok || !utf8.Valid(got) || json.Unmarshal([]byte(data), &m) != nil {
			return
		}
		var want string
		if err := json.Unmarshal(m["event"], &want); err != nil {
			t.Fatalf("eventOf(%s) found %q, encoding/json no string: %v", data, got, err)
		}
		if want != string(got) {
			t.Fatalf("eventOf(%s) = %q, encoding/json %q", data, got, want)
		}
	})
}
