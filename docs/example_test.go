package docs_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/forgekit/forge/docs"
)

func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("/docs/", docs.Handler(docs.Config{
		Title:       "Chat",
		BasePath:    "/docs",
		OpenAPIURL:  "/openapi.json",
		AsyncAPIURL: "/asyncapi.json",
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{"/docs/", "/docs/rest/", "/docs/websocket/"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(path, res.StatusCode, strings.Split(res.Header.Get("Content-Type"), ";")[0])
	}
	// Output:
	// /docs/ 200 text/html
	// /docs/rest/ 200 text/html
	// /docs/websocket/ 200 text/html
}
