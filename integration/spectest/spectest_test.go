package spectest

import (
	"strings"
	"testing"
)

const validAsyncAPI = `asyncapi: 3.0.0
info:
  title: t
  version: "1"
channels:
  room:
    address: /ws/{room}
    parameters:
      room: {}
    messages:
      Msg:
        $ref: '#/components/messages/Msg'
    bindings:
      ws:
        query:
          type: object
          properties:
            user: {type: string}
        bindingVersion: 0.1.0
  other:
    address: /other
    messages:
      Msg:
        $ref: '#/components/messages/Msg'
operations:
  room.receive.Msg:
    action: receive
    channel:
      $ref: '#/channels/room'
    messages:
      - $ref: '#/channels/room/messages/Msg'
    reply:
      channel:
        $ref: '#/channels/room'
      messages:
        - $ref: '#/channels/room/messages/Msg'
components:
  schemas:
    Msg:
      type: object
  messages:
    Msg:
      payload:
        $ref: '#/components/schemas/Msg'
`

// TestCheckAsyncAPI shows that the checks pass a valid document and catch
// each defect the generator must never produce.
func TestCheckAsyncAPI(t *testing.T) {
	t.Parallel()
	if err := CheckAsyncAPI([]byte(validAsyncAPI)); err != nil {
		t.Fatalf("valid document: %v", err)
	}
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown action", "action: receive", "action: publish", "schema"},
		{"binding version", "bindingVersion: 0.1.0", "bindingVersion: 0.2.0", "schema"},
		{"undeclared placeholder", "address: /ws/{room}", "address: /ws/{room}/{id}", "placeholder {id}"},
		{"parameter not in address", "address: /ws/{room}", "address: /ws/room", `parameter "room" is not in address`},
		{"query in address", "address: /other", "address: /other?x=1", "query or fragment"},
		{"dangling ref", "$ref: '#/components/schemas/Msg'", "$ref: '#/components/schemas/Nope'", "does not resolve"},
		{"message of another channel", "    messages:\n      - $ref: '#/channels/room/messages/Msg'\n    reply",
			"    messages:\n      - $ref: '#/channels/other/messages/Msg'\n    reply", "is not a message of its channel"},
		{"reply of another channel", "      messages:\n        - $ref: '#/channels/room/messages/Msg'\ncomp",
			"      messages:\n        - $ref: '#/channels/other/messages/Msg'\ncomp", "reply message"},
		{"binding query not an object", "          type: object\n          properties", "          type: string\n          properties", "not an object schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckAsyncAPI(mutate(t, validAsyncAPI, tt.old, tt.new))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

const validOpenAPI = `openapi: 3.1.0
info:
  title: t
  version: "1"
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
        - name: id
          in: path
          required: true
          schema: {type: string}
      responses:
        "200":
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/User'
components:
  schemas:
    User:
      type: object
`

func TestCheckOpenAPI(t *testing.T) {
	t.Parallel()
	if err := CheckOpenAPI([]byte(validOpenAPI)); err != nil {
		t.Fatalf("valid document: %v", err)
	}
	tests := []struct{ name, old, new string }{
		{"undeclared path parameter", "/users/{id}:", "/users/{id}/{x}:"},
		{"dangling ref", "schemas/User'", "schemas/Nope'"},
		{"bad version", "openapi: 3.1.0", "openapi: 3.0.9"},
		{"bad schema type", "type: object\n", "type: thing\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := CheckOpenAPI(mutate(t, validOpenAPI, tt.old, tt.new)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// mutate returns valid with the first old replaced by new, failing the
// test when valid has no old.
func mutate(t *testing.T, valid, old, new string) []byte {
	t.Helper()
	doc := strings.Replace(valid, old, new, 1)
	if doc == valid {
		t.Fatalf("mutation %q did not apply", old)
	}
	return []byte(doc)
}
