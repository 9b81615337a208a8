package forge

import (
	"fmt"
	"net/url"
	"strings"
)

// docConfig is what the document options set.
type docConfig struct {
	off, uiOff   bool
	openapiPath  string
	asyncapiPath string
	uiPath       string
	publicURL    *url.URL
	description  string
}

// WithDocumentPaths serves the OpenAPI and AsyncAPI documents at the given
// paths instead of DefaultOpenAPIPath and DefaultAsyncAPIPath. Both must
// end in ".json"; the YAML forms are served at the same paths ending in
// ".yaml". Other paths panic.
func WithDocumentPaths(openapiJSON, asyncapiJSON string) Option {
	for _, p := range []string{openapiJSON, asyncapiJSON} {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, ".json") || strings.ContainsAny(p, "{}*:") {
			panic(fmt.Sprintf("forge: WithDocumentPaths: %q must start with '/', end in \".json\" and hold no parameters", p))
		}
	}
	if openapiJSON == asyncapiJSON {
		panic(fmt.Sprintf("forge: WithDocumentPaths: both documents at %q", openapiJSON))
	}
	return func(c *config) { c.docs.openapiPath, c.docs.asyncapiPath = openapiJSON, asyncapiJSON }
}

// WithDocsPath serves the docs UI (REST and WebSocket references, with a
// live WebSocket console) under path instead of DefaultDocsPath. A path
// that is the root or holds parameters panics.
func WithDocsPath(path string) Option {
	path = strings.TrimSuffix(path, "/")
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "{}*:") {
		panic(fmt.Sprintf("forge: WithDocsPath: %q must start with '/', not be the root, and hold no parameters", path))
	}
	return func(c *config) { c.docs.uiPath = path }
}

// WithoutDocs serves neither the documents nor the docs UI. WriteDocuments
// and FORGE_WRITE_DOCS still produce the documents.
func WithoutDocs() Option {
	return func(c *config) { c.docs.off = true }
}

// WithoutDocsUI keeps serving the documents but not the docs UI.
func WithoutDocsUI() Option {
	return func(c *config) { c.docs.uiOff = true }
}

// WithPublicURL sets the URL clients reach the application at, such as
// "https://api.example.com", for the documents' servers: the OpenAPI
// server is that URL, the AsyncAPI server its host with protocol wss (ws
// for http). Without it the servers are derived from the listen address,
// for local development: http://localhost:8080 and ws://localhost:8080.
// The URL is the deployment's to give, so an invalid one is an error
// returned by Run and Serve, not a panic.
func WithPublicURL(publicURL string) Option {
	return func(c *config) {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			c.fail(fmt.Errorf("forge: WithPublicURL %q: want an http or https URL without query", publicURL))
			return
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		c.docs.publicURL = u
	}
}

// WithAppDescription sets the description of the application in both
// documents.
func WithAppDescription(description string) Option {
	return func(c *config) { c.docs.description = description }
}
