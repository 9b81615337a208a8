package asyncapi_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/swaggest/jsonschema-go"
	"go.uber.org/goleak"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/asyncapi"
	"github.com/forgekit/forge/internal/spectest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type Chat struct {
	Text string `json:"text" minLength:"1"`
	At   string `json:"at,omitempty" format:"date-time"`
}

func (Chat) Examples() []any { return []any{Chat{Text: "hello"}} }

type Ack struct {
	OK bool `json:"ok"`
}

// URL shares its name with net/url.URL.
type URL struct {
	Href string `json:"href"`
}

type handshake struct {
	Room  string `path:"room" description:"Room to join." enum:"lobby,garden" default:"lobby" example:"lobby"`
	User  string `query:"user" required:"true"`
	Token string `header:"Authorization" description:"Bearer token."`
}

// envelope is a wire form like package events' {"event", "id",
// "payload"}: asyncapi only wraps payloads in what it is given.
type envelope struct{}

func (envelope) Schema(name string, payload *jsonschema.Schema, reply bool) *jsonschema.Schema {
	required := `["event","payload"]`
	if reply {
		required = `["event","id","payload"]`
	}
	var s jsonschema.Schema
	if err := json.Unmarshal([]byte(`{"type":"object","required":`+required+
		`,"properties":{"event":{"type":"string","const":"`+name+`"},"id":{"type":"string"}}}`), &s); err != nil {
		panic(err)
	}
	return s.WithPropertiesItem("payload", payload.ToSchemaOrBool())
}

func (envelope) Example(name string, payload any) any {
	return map[string]any{"event": name, "payload": payload}
}

func (envelope) CorrelationID() string { return "$message.payload#/id" }

func chatSpec() asyncapi.Spec {
	ack := &asyncapi.MessageSpec{Name: "chat.ack", Action: asyncapi.ActionSend, Payload: &Ack{}, Envelope: envelope{}}
	return asyncapi.Spec{
		Info:    asyncapi.Info{Title: "chat", Version: "2.0.0", Description: "A chat."},
		Servers: map[string]*asyncapi.Server{"local": {Host: "localhost:8080", Protocol: "ws"}},
		Channels: []asyncapi.ChannelSpec{
			{
				Address: "/ws/chat/{room}", Params: []asyncapi.ParamSpec{{Name: "room"}},
				Summary: "Chat room", Description: "Talk.", Tags: []string{"chat"},
				Handshake: &handshake{}, Subprotocols: []string{"chat.v1"}, RequireSubprotocol: true,
				Messages: []asyncapi.MessageSpec{
					{Action: asyncapi.ActionReceive, Payload: &Chat{}},
					{Action: asyncapi.ActionSend, Payload: Chat{}, Summary: "A line of chat"},
					{Name: "chat.send", Action: asyncapi.ActionReceive, Payload: &Chat{}, Envelope: envelope{}, Reply: ack},
					{Action: asyncapi.ActionSend, Payload: &URL{}},
					{Action: asyncapi.ActionSend, Payload: &url.URL{}},
				},
			},
			{Address: "/ws/chat-room", Deprecated: true, Messages: []asyncapi.MessageSpec{{Action: asyncapi.ActionSend, Payload: &Ack{}}}},
			{ID: "items", Address: "/ws/items/{id}/*", Params: []asyncapi.ParamSpec{{Name: "id", Pattern: "[0-9]+"}, {Name: "*"}}},
			// A route named like the id derived for an earlier one keeps its name.
			{ID: "ws-chat-room", Address: "/ws/named"},
		},
	}
}

// decodeDoc builds spec and decodes its JSON form.
func decodeDoc(t *testing.T, spec asyncapi.Spec) (map[string]any, []byte) {
	t.Helper()
	doc, err := asyncapi.Build(spec)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	b, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	spectest.AsyncAPI(t, b)
	y, err := doc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	spectest.AsyncAPI(t, y)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, b
}

func get(v any, path string) any {
	for k := range strings.SplitSeq(path, "/") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := int(k[0] - '0')
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBuild(t *testing.T) {
	t.Parallel()
	m, _ := decodeDoc(t, chatSpec())
	checks := []struct{ path, want string }{
		{"asyncapi", `"3.0.0"`},
		{"info", `{"description":"A chat.","title":"chat","version":"2.0.0"}`},
		{"servers/local", `{"host":"localhost:8080","protocol":"ws"}`},
		{"channels/ws-chat-room/address", `"/ws/named"`},
		{"channels/ws-chat-room-2/address", `"/ws/chat/{room}"`},
		{"channels/ws-chat-room-2/parameters/room", `{"default":"lobby","description":"Room to join.","enum":["lobby","garden"],"examples":["lobby"]}`},
		{"channels/ws-chat-room-2/tags", `[{"name":"chat"}]`},
		{"channels/ws-chat-room-2/bindings/ws/method", `"GET"`},
		{"channels/ws-chat-room-2/bindings/ws/bindingVersion", `"0.1.0"`},
		{"channels/ws-chat-room-2/bindings/ws/query", `{"properties":{"user":{"type":"string"}},"required":["user"],"type":"object"}`},
		{"channels/ws-chat-room-2/bindings/ws/headers/required", `["Sec-WebSocket-Protocol"]`},
		{"channels/ws-chat-room-2/bindings/ws/headers/properties/Authorization", `{"description":"Bearer token.","type":"string"}`},
		{"channels/ws-chat-room-2/messages", `{"AsyncapiTestURL":{"$ref":"#/components/messages/AsyncapiTestURL"},"Chat":{"$ref":"#/components/messages/Chat"},"Chat.received":{"$ref":"#/components/messages/Chat.received"},"UrlURL":{"$ref":"#/components/messages/UrlURL"},"chat.ack":{"$ref":"#/components/messages/chat.ack"},"chat.send":{"$ref":"#/components/messages/chat.send"}}`},
		// The application's point of view: what clients send, it receives.
		{"operations/ws-chat-room-2.receive.Chat/action", `"receive"`},
		{"operations/ws-chat-room-2.receive.Chat/summary", `"Chat room"`},
		{"operations/ws-chat-room-2.receive.Chat/description", `"Talk."`},
		{"operations/ws-chat-room-2.receive.Chat/tags", `[{"name":"chat"}]`},
		{"operations/ws-chat-room-2.send.Chat.received/action", `"send"`},
		{"operations/ws-chat-room-2.send.Chat.received/summary", `"A line of chat"`},
		{"operations/ws-chat-room-2.receive.chat.send/reply", `{"channel":{"$ref":"#/channels/ws-chat-room-2"},"messages":[{"$ref":"#/channels/ws-chat-room-2/messages/chat.ack"}]}`},
		{"components/messages/Chat/payload", `{"$ref":"#/components/schemas/Chat"}`},
		{"components/messages/Chat/examples", `[{"payload":{"text":"hello"}}]`},
		{"components/messages/chat.send/payload/properties/event", `{"const":"chat.send","type":"string"}`},
		{"components/messages/chat.send/payload/properties/payload", `{"$ref":"#/components/schemas/Chat"}`},
		{"components/messages/chat.send/payload/required", `["event","payload"]`},
		{"components/messages/chat.send/examples", `[{"payload":{"event":"chat.send","payload":{"text":"hello"}}}]`},
		{"components/messages/chat.send/correlationId/location", `"$message.payload#/id"`},
		{"components/messages/chat.ack/payload/required", `["event","id","payload"]`},
		{"components/schemas/Chat/properties/text", `{"minLength":1,"type":"string"}`},
		{"components/schemas/AsyncapiTestURL/properties/href", `{"type":"string"}`},
		{"channels/ws-chat-room-3/address", `"/ws/chat-room"`},
		{"channels/ws-chat-room-3/x-deprecated", `true`},
		{"operations/ws-chat-room-3.send.Ack/x-deprecated", `true`},
		{"channels/items/address", `"/ws/items/{id}/*"`},
		{"channels/items/parameters", `{"id":{"description":"Matches the regular expression ` + "`[0-9]+`" + `."}}`},
	}
	for _, c := range checks {
		if got := jsonOf(get(m, c.path)); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	if n := len(get(m, "operations").(map[string]any)); n != 6 {
		t.Errorf("%d operations, want 6 (one per message, none for the reply alone)", n)
	}
}

// TestBuildDeterministic builds the same spec twice, and a spec whose
// channels come in another order: type names must not depend on it.
func TestBuildDeterministic(t *testing.T) {
	t.Parallel()
	_, a := decodeDoc(t, chatSpec())
	_, b := decodeDoc(t, chatSpec())
	if !bytes.Equal(a, b) {
		t.Fatal("same spec, different bytes")
	}
	spec := chatSpec()
	slices.Reverse(spec.Channels[0].Messages)
	m, _ := decodeDoc(t, spec)
	schemas := get(m, "components/schemas").(map[string]any)
	for _, name := range []string{"AsyncapiTestURL", "UrlURL", "Chat", "Ack"} {
		if _, ok := schemas[name]; !ok {
			t.Errorf("schema %s missing after reordering; have %v", name, keys(schemas))
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestBuildRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ch   asyncapi.ChannelSpec
		want string
	}{
		{"query in address", asyncapi.ChannelSpec{Address: "/ws?x=1"}, "query or fragment"},
		{"undeclared placeholder", asyncapi.ChannelSpec{Address: "/ws/{id}"}, "placeholder {id} has no parameter"},
		{"parameter not in address", asyncapi.ChannelSpec{Address: "/ws", Params: []asyncapi.ParamSpec{{Name: "id"}}}, `parameter "id" is not in the address`},
		{"handshake path parameter", asyncapi.ChannelSpec{Address: "/ws/{x}", Params: []asyncapi.ParamSpec{{Name: "x"}}, Handshake: &handshake{}}, `path parameter "room"`},
		{"no action", asyncapi.ChannelSpec{Address: "/ws", Messages: []asyncapi.MessageSpec{{Payload: &Ack{}}}}, "neither send nor receive"},
		{"unnamed in an envelope", asyncapi.ChannelSpec{Address: "/ws", Messages: []asyncapi.MessageSpec{{Action: "send", Payload: &Ack{}, Envelope: envelope{}}}}, "needs a name"},
		{"reply same way", asyncapi.ChannelSpec{Address: "/ws", Messages: []asyncapi.MessageSpec{{Action: "send", Payload: &Ack{},
			Reply: &asyncapi.MessageSpec{Action: "send", Payload: &Ack{}}}}}, "same way"},
		{"unreflectable payload", asyncapi.ChannelSpec{Address: "/ws", Messages: []asyncapi.MessageSpec{{Action: "send", Payload: &struct {
			F func() `json:"f"`
		}{}}}}, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := asyncapi.Build(asyncapi.Spec{Channels: []asyncapi.ChannelSpec{tt.ch}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBuildEmpty(t *testing.T) {
	t.Parallel()
	m, _ := decodeDoc(t, asyncapi.Spec{})
	if got := jsonOf(m); got != `{"asyncapi":"3.0.0","defaultContentType":"application/json","info":{"title":"forge application","version":"0.0.0"}}` {
		t.Fatalf("empty document %s", got)
	}
}

func TestSecurity(t *testing.T) {
	t.Parallel()
	spec := asyncapi.Spec{
		SecuritySchemes: map[string]apidoc.SecurityScheme{
			"jwt": {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Subprotocol: "bearer."},
			"key": {Type: "apiKey", In: "query", Name: "key"},
		},
		Channels: []asyncapi.ChannelSpec{
			{Address: "/a", Security: []string{"jwt", "key"}, Messages: []asyncapi.MessageSpec{{Action: "send", Payload: &Ack{}}}},
			{Address: "/b", Security: []string{"key"}}, // no operation: nothing to secure
		},
	}
	m, _ := decodeDoc(t, spec)
	for _, c := range []struct{ path, want string }{
		{"operations/a.send.Ack/security", `[{"$ref":"#/components/securitySchemes/jwt"},{"$ref":"#/components/securitySchemes/key"}]`},
		{"components/securitySchemes", `{"jwt":{"bearerFormat":"JWT","scheme":"bearer","type":"http","x-forge-subprotocol-prefix":"bearer."},"key":{"in":"query","name":"key","type":"httpApiKey"}}`},
	} {
		if got := jsonOf(get(m, c.path)); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	spec.Channels[0].Security = []string{"nope"}
	if _, err := asyncapi.Build(spec); err == nil || !strings.Contains(err.Error(), `no security scheme "nope"`) {
		t.Errorf("unknown scheme: %v", err)
	}
}

type SaidPayload struct {
	Text string `json:"text"`
}

type Said struct {
	Text   string `json:"text"`
	Status string `json:"status" enum:"sent,edited"`
}

type Notice struct {
	Level string `json:"level"`
}

// TestMessageKeys checks that messages sharing a name get readable keys
// that do not depend on the order they are declared in: the one clients
// send keeps the name, the one they receive gets ".received", and another
// of the same name and direction is keyed by its payload type's name.
func TestMessageKeys(t *testing.T) {
	t.Parallel()
	spec := func(reverse bool) asyncapi.Spec {
		msgs := []asyncapi.MessageSpec{
			{Name: "say", Action: asyncapi.ActionSend, Payload: &Said{}, Envelope: envelope{}},
			{Name: "say", Action: asyncapi.ActionReceive, Payload: &SaidPayload{}, Envelope: envelope{},
				Reply: &asyncapi.MessageSpec{Name: "say.ack", Action: asyncapi.ActionSend, Payload: &struct{}{}, Envelope: envelope{}}},
		}
		if reverse {
			slices.Reverse(msgs)
		}
		return asyncapi.Spec{Channels: []asyncapi.ChannelSpec{
			{Address: "/a", Messages: msgs},
			{Address: "/b", Messages: []asyncapi.MessageSpec{{Name: "say", Action: asyncapi.ActionSend, Payload: &Notice{}, Envelope: envelope{}}}},
			// Equal messages both ways are one message.
			{Address: "/c", Messages: []asyncapi.MessageSpec{{Action: asyncapi.ActionSend, Payload: &Ack{}}, {Action: asyncapi.ActionReceive, Payload: &Ack{}}}},
		}}
	}
	for _, reverse := range []bool{false, true} {
		m, _ := decodeDoc(t, spec(reverse))
		for _, c := range []struct{ path, want string }{
			{"channels/a/messages", `{"say":{"$ref":"#/components/messages/say"},"say.ack":{"$ref":"#/components/messages/say.ack"},"say.received":{"$ref":"#/components/messages/say.received"}}`},
			{"channels/b/messages", `{"Notice":{"$ref":"#/components/messages/Notice"}}`},
			{"channels/c/messages", `{"Ack":{"$ref":"#/components/messages/Ack"}}`},
			{"components/messages/say/name", `"say"`},
			{"components/messages/say.received/name", `"say"`},
			{"components/messages/say.received/payload/properties/payload", `{"$ref":"#/components/schemas/Said"}`},
			{"components/messages/Notice/name", `"say"`},
			// Every envelope and inline payload has a title that code
			// generators can name a type after, and so do nested enums.
			{"components/messages/say/payload/title", `"SayEnvelope"`},
			{"components/messages/say.received/payload/title", `"SayReceivedEnvelope"`},
			{"components/messages/say.ack/payload/properties/payload/title", `"SayAckPayload"`},
			{"components/schemas/Said/properties/status/title", `"SaidStatus"`},
			{"components/schemas/Said/properties/text/title", `null`},
		} {
			if got := jsonOf(get(m, c.path)); got != c.want {
				t.Errorf("reverse=%v: %s = %s, want %s", reverse, c.path, got, c.want)
			}
		}
	}
}
