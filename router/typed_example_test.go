package router_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/forgekit/forge/router"
)

type createRoom struct {
	Org   string `path:"org"`
	Name  string `json:"name" required:"true" minLength:"3" maxLength:"40"`
	Topic string `json:"topic,omitempty"`
}

type room struct {
	Org  string `json:"org"`
	Name string `json:"name"`
}

// A typed handler gets its input bound from the path and the JSON body and
// checked against the tags; invalid input never reaches it.
func ExamplePost() {
	m := router.New(router.Config{Logger: slog.New(slog.DiscardHandler)})
	router.Post(m, "/orgs/:org/rooms", func(ctx router.Context, in createRoom) (room, error) {
		return room{Org: in.Org, Name: in.Name}, nil
	}, router.WithName("createRoom"), router.WithStatus(http.StatusCreated))

	for _, body := range []string{`{"name":"lobby"}`, `{"name":"x"}`} {
		req := httptest.NewRequest(http.MethodPost, "/orgs/acme/rooms", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 201 {"org":"acme","name":"lobby"}
	// 422 {"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"validation failed","errors":[{"location":"body.name","message":"minLength: got 1, want 3"}]}
}
