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
	"github.com/forgekit/forge/integration/spectest"
	"github.com/forgekit/forge/internal/testkit"
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

const (
	in  = apidoc.ClientToServer
	out = apidoc.ServerToClient
)

func chatSpec() asyncapi.Spec {
	ack := &apidoc.Message{Name: "chat.ack", Direction: out, Payload: &Ack{}, Envelope: envelope{}}
	return asyncapi.Spec{
		Info:    apidoc.Info{Title: "chat", Version: "2.0.0", Description: "A chat."},
		Servers: map[string]*asyncapi.Server{"local": {Host: "localhost:8080", Protocol: "ws"}},
		Routes: []apidoc.Route{
			{
				WebSocket: true, Path: "/ws/chat/{room}", Params: []apidoc.Param{{Name: "room"}},
				Summary: "Chat room", Description: "Talk.", Tags: []string{"chat"},
				Request: &handshake{}, Subprotocols: []string{"chat.v1"}, RequireSubprotocol: true,
				Messages: []apidoc.Message{
					{Direction: in, Payload: &Chat{}},
					{Direction: out, Payload: Chat{}, Summary: "A line of chat"},
					{Name: "chat.send", Direction: in, Payload: &Chat{}, Envelope: envelope{}, Reply: ack},
					{Direction: out, Payload: &URL{}},
					{Direction: out, Payload: &url.URL{}},
				},
			},
			// REST and hidden routes are not channels.
			{Method: "GET", Path: "/health"},
			{WebSocket: true, Path: "/ws/hidden", Hidden: true},
			{WebSocket: true, Path: "/ws/chat-room", Deprecated: true, Messages: []apidoc.Message{{Direction: out, Payload: &Ack{}}}},
			{WebSocket: true, Name: "items", Path: "/ws/items/{id}/*", Params: []apidoc.Param{{Name: "id", Pattern: "[0-9]+"}, {Name: "*"}}},
			// A route named like the id derived for an earlier one keeps its name.
			{WebSocket: true, Name: "ws-chat-room", Path: "/ws/named"},
		},
	}
}

// decodeDoc builds spec, validates it and decodes its JSON form.
func decodeDoc(t *testing.T, spec asyncapi.Spec) (map[string]any, []byte) {
	t.Helper()
	doc, err := asyncapi.Build(spec)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return spectest.Decode(t, doc, spectest.AsyncAPI)
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
		if got := testkit.At(m, c.path); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	if n := len(m["operations"].(map[string]any)); n != 6 {
		t.Errorf("%d operations, want 6 (one per message, none for the reply alone)", n)
	}
	if n := len(m["channels"].(map[string]any)); n != 4 {
		t.Errorf("%d channels, want 4 (no REST route, no hidden route)", n)
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
	slices.Reverse(spec.Routes[0].Messages)
	m, _ := decodeDoc(t, spec)
	schemas := m["components"].(map[string]any)["schemas"].(map[string]any)
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
		ch   apidoc.Route
		want string
	}{
		{"query in address", apidoc.Route{Path: "/ws?x=1"}, "query or fragment"},
		{"undeclared placeholder", apidoc.Route{Path: "/ws/{id}"}, "placeholder {id} has no parameter"},
		{"parameter not in address", apidoc.Route{Path: "/ws", Params: []apidoc.Param{{Name: "id"}}}, `parameter "id" is not in the address`},
		{"handshake path parameter", apidoc.Route{Path: "/ws/{x}", Params: []apidoc.Param{{Name: "x"}}, Request: &handshake{}}, `path parameter "room"`},
		{"no direction", apidoc.Route{Path: "/ws", Messages: []apidoc.Message{{Payload: &Ack{}}}}, "neither client-to-server nor server-to-client"},
		{"unnamed in an envelope", apidoc.Route{Path: "/ws", Messages: []apidoc.Message{{Direction: out, Payload: &Ack{}, Envelope: envelope{}}}}, "needs a name"},
		{"reply same way", apidoc.Route{Path: "/ws", Messages: []apidoc.Message{{Direction: out, Payload: &Ack{},
			Reply: &apidoc.Message{Direction: out, Payload: &Ack{}}}}}, "same way"},
		{"unreflectable payload", apidoc.Route{Path: "/ws", Messages: []apidoc.Message{{Direction: out, Payload: &struct {
			F func() `json:"f"`
		}{}}}}, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.ch.WebSocket = true
			_, err := asyncapi.Build(asyncapi.Spec{Routes: []apidoc.Route{tt.ch}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBuildEmpty(t *testing.T) {
	t.Parallel()
	m, _ := decodeDoc(t, asyncapi.Spec{})
	if got := testkit.At(m, ""); got != `{"asyncapi":"3.0.0","defaultContentType":"application/json","info":{"title":"forge application","version":"0.0.0"}}` {
		t.Fatalf("empty document %s", got)
	}
}

func TestSecurity(t *testing.T) {
	t.Parallel()
	jwt := apidoc.Security{Key: "jwt", Scheme: apidoc.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT", Subprotocol: "bearer."}}
	key := apidoc.Security{Key: "key", Scheme: apidoc.SecurityScheme{Type: "apiKey", In: "query", Name: "key"}}
	basic := apidoc.Security{Key: "basic", Scheme: apidoc.SecurityScheme{Type: "http", Scheme: "basic"}}
	spec := asyncapi.Spec{
		Routes: []apidoc.Route{
			{WebSocket: true, Path: "/a", Security: []apidoc.Security{jwt, key}, Messages: []apidoc.Message{{Direction: out, Payload: &Ack{}}}},
			{WebSocket: true, Path: "/b", Security: []apidoc.Security{basic}}, // no operation: nothing to secure
			{Method: "GET", Path: "/c", Security: []apidoc.Security{basic}},   // a REST route
		},
	}
	m, _ := decodeDoc(t, spec)
	for _, c := range []struct{ path, want string }{
		{"operations/a.send.Ack/security", `[{"$ref":"#/components/securitySchemes/jwt"},{"$ref":"#/components/securitySchemes/key"}]`},
		{"components/securitySchemes", `{"jwt":{"bearerFormat":"JWT","scheme":"bearer","type":"http","x-forge-subprotocol-prefix":"bearer."},"key":{"in":"query","name":"key","type":"httpApiKey"}}`},
	} {
		if got := testkit.At(m, c.path); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
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
		msgs := []apidoc.Message{
			{Name: "say", Direction: out, Payload: &Said{}, Envelope: envelope{}},
			{Name: "say", Direction: in, Payload: &SaidPayload{}, Envelope: envelope{},
				Reply: &apidoc.Message{Name: "say.ack", Direction: out, Payload: &struct{}{}, Envelope: envelope{}}},
		}
		if reverse {
			slices.Reverse(msgs)
		}
		return asyncapi.Spec{Routes: []apidoc.Route{
			{WebSocket: true, Path: "/a", Messages: msgs},
			{WebSocket: true, Path: "/b", Messages: []apidoc.Message{{Name: "say", Direction: out, Payload: &Notice{}, Envelope: envelope{}}}},
			// Equal messages both ways are one message.
			{WebSocket: true, Path: "/c", Messages: []apidoc.Message{{Direction: out, Payload: &Ack{}}, {Direction: in, Payload: &Ack{}}}},
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
			if got := testkit.At(m, c.path); got != c.want {
				t.Errorf("reverse=%v: %s = %s, want %s", reverse, c.path, got, c.want)
			}
		}
	}
}
