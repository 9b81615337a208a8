package apidoc_test

import (
	"fmt"
	"maps"
	"slices"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/asyncapi"
	"github.com/forgekit/forge/openapi"
)

type User struct {
	ID   string `json:"id"`
	Name string `json:"name" required:"true"`
}

type Line struct {
	Text string `json:"text" minLength:"1"`
}

// Both documents of an application, built offline from one description of
// its routes.
func Example() {
	routes := []apidoc.Route{
		{
			Method: "GET", Path: "/users/{id}", Params: []apidoc.Param{{Name: "id"}}, Name: "getUser",
			Responses: []apidoc.Response{{Status: 200, Body: &User{}}},
		},
		{
			Method: "GET", Path: "/ws/chat", Name: "chat", WebSocket: true,
			Messages: []apidoc.Message{
				{Direction: apidoc.ClientToServer, Payload: &Line{}},
				{Direction: apidoc.ServerToClient, Payload: &Line{}},
			},
		},
	}
	info := apidoc.Info{Title: "chat", Version: "1.0.0"}
	oas, err := openapi.Build(openapi.Spec{Info: info, Routes: routes})
	if err != nil {
		panic(err)
	}
	aas, err := asyncapi.Build(asyncapi.Spec{Info: info, Routes: routes})
	if err != nil {
		panic(err)
	}
	fmt.Println("OpenAPI paths:", slices.Sorted(maps.Keys(oas.Spec.Paths.MapOfPathItemValues)))
	fmt.Println("AsyncAPI operations:", slices.Sorted(maps.Keys(aas.Operations)))
	// Output:
	// OpenAPI paths: [/users/{id}]
	// AsyncAPI operations: [chat.receive.Line chat.send.Line]
}
