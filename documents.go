package forge

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/asyncapi"
	"github.com/forgekit/forge/docs"
	"github.com/forgekit/forge/internal/jsonyaml"
	"github.com/forgekit/forge/openapi"
	"github.com/forgekit/forge/router"
)

// Where the documents and the docs UI are served unless options say
// otherwise. Each document's YAML form is served next to its JSON form,
// at the same path ending in ".yaml".
const (
	DefaultOpenAPIPath  = "/openapi.json"
	DefaultAsyncAPIPath = "/asyncapi.json"
	DefaultDocsPath     = "/docs"
)

// WriteDocsEnv names the environment variable that makes Run write the
// documents into the directory it names and return, without serving:
// FORGE_WRITE_DOCS=out go run ./cmd/app exports the documents of any app
// whose main calls Run.
const WriteDocsEnv = "FORGE_WRITE_DOCS"

// builtDocs are the encoded documents of one set of routes. The YAML
// forms are made from the JSON ones when first asked for.
type builtDocs struct {
	openapiJSON, asyncapiJSON []byte

	yamlOnce                  sync.Once
	openapiYAML, asyncapiYAML []byte // set by yamlOnce
	yamlErr                   error
}

// yaml returns the YAML forms of the documents.
func (d *builtDocs) yaml() (openapiYAML, asyncapiYAML []byte, err error) {
	d.yamlOnce.Do(func() {
		if d.openapiYAML, d.yamlErr = jsonyaml.FromJSON(d.openapiJSON); d.yamlErr != nil {
			return
		}
		d.asyncapiYAML, d.yamlErr = jsonyaml.FromJSON(d.asyncapiJSON)
	})
	if d.yamlErr != nil {
		return nil, nil, fmt.Errorf("forge: encode documents: %w", d.yamlErr)
	}
	return d.openapiYAML, d.asyncapiYAML, nil
}

// docCache holds the documents of the routes counted when they were built.
type docCache struct {
	mu    sync.Mutex // guards the fields below
	count int        // Mux.RouteCount when built; -1 before the first build
	docs  *builtDocs
	err   error
}

// documents returns the documents of the current routes, built once per
// route set: serving them costs a route count and a lock, no reflection.
func (a *App) documents() (*builtDocs, error) {
	n := a.mux.RouteCount()
	a.docCache.mu.Lock()
	defer a.docCache.mu.Unlock()
	if a.docCache.count == n && (a.docCache.docs != nil || a.docCache.err != nil) {
		return a.docCache.docs, a.docCache.err
	}
	routes := a.mux.Routes()
	d, err := a.buildDocuments(routes)
	a.docCache.count, a.docCache.docs, a.docCache.err = len(routes), d, err
	return d, err
}

// buildDocuments builds and encodes both documents of routes.
func (a *App) buildDocuments(routes []apidoc.Route) (*builtDocs, error) {
	info := apidoc.Info{
		Title:       cmp.Or(a.name, "forge application"),
		Version:     cmp.Or(a.version, "0.0.0"),
		Description: a.docCfg.description,
	}
	httpURL, servers := a.docServers()
	od, err := openapi.Build(openapi.Spec{Info: info, Servers: []openapi.Server{{URL: httpURL}}, Routes: routes})
	if err != nil {
		return nil, fmt.Errorf("forge: OpenAPI document: %w", err)
	}
	ad, err := asyncapi.Build(asyncapi.Spec{Info: info, Servers: servers, Routes: routes})
	if err != nil {
		return nil, fmt.Errorf("forge: AsyncAPI document: %w", err)
	}
	d := &builtDocs{}
	if d.openapiJSON, err = od.JSON(); err != nil {
		return nil, fmt.Errorf("forge: encode documents: %w", err)
	}
	if d.asyncapiJSON, err = ad.JSON(); err != nil {
		return nil, fmt.Errorf("forge: encode documents: %w", err)
	}
	return d, nil
}

// docServers returns the OpenAPI server URL and the AsyncAPI servers: the
// public URL, or the listen address as seen from the same machine.
func (a *App) docServers() (string, map[string]*asyncapi.Server) {
	if u := a.docCfg.publicURL; u != nil {
		proto := "wss"
		if u.Scheme == "http" {
			proto = "ws"
		}
		return u.String(), map[string]*asyncapi.Server{
			"public": {Host: u.Host, Protocol: proto, Pathname: u.Path},
		}
	}
	host, port, err := net.SplitHostPort(a.addr)
	if err != nil {
		host, port = "localhost", "8080"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	hostport := net.JoinHostPort(host, port)
	return "http://" + hostport, map[string]*asyncapi.Server{
		"local": {Host: hostport, Protocol: "ws", Description: "The listen address of the application."},
	}
}

// WriteDocuments writes the application's documents into dir, creating
// it if needed: openapi.json, openapi.yaml, asyncapi.json and
// asyncapi.yaml. It serves nothing, so it suits tests, go generate and CI.
func (a *App) WriteDocuments(dir string) error {
	d, err := a.documents()
	if err != nil {
		return err
	}
	oy, ay, err := d.yaml()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("forge: write documents: %w", err)
	}
	for name, b := range map[string][]byte{
		"openapi.json": d.openapiJSON, "openapi.yaml": oy,
		"asyncapi.json": d.asyncapiJSON, "asyncapi.yaml": ay,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("forge: write documents: %w", err)
		}
	}
	return nil
}

// writeDocsFromEnv handles FORGE_WRITE_DOCS for Run: it reports whether
// the variable is set and, if so, writes the documents.
func (a *App) writeDocsFromEnv() (bool, error) {
	dir := os.Getenv(WriteDocsEnv)
	if dir == "" {
		return false, nil
	}
	if err := a.WriteDocuments(dir); err != nil {
		a.logger.LogAttrs(context.Background(), slog.LevelError, "writing documents failed", slog.String("dir", dir), slog.Any("error", err))
		return true, err
	}
	a.logger.LogAttrs(context.Background(), slog.LevelInfo, "wrote documents", slog.String("dir", dir))
	return true, nil
}

// installDocs registers the routes that serve the documents and the docs
// UI, hidden from the documents themselves. It runs once, when the App
// starts serving, after the application registered its routes.
func (a *App) installDocs() (err error) {
	cfg := a.docCfg
	if cfg.off {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("forge: documents: %s; change the paths with WithDocumentPaths or WithDocsPath, or turn them off with WithoutDocs",
				strings.TrimPrefix(fmt.Sprint(v), "forge: "))
		}
	}()
	serve := func(contentType string, pick func(*builtDocs) ([]byte, error)) router.Handler {
		return func(ctx Context) error {
			d, err := a.documents()
			if err != nil {
				return err // logged by the router, answered with 500
			}
			b, err := pick(d)
			if err != nil {
				return err
			}
			h := ctx.ResponseWriter().Header()
			h.Set("Content-Type", contentType)
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Content-Type-Options", "nosniff")
			_, err = ctx.ResponseWriter().Write(b)
			return err
		}
	}
	r := a.mux
	yaml := func(p string) string { return strings.TrimSuffix(p, ".json") + ".yaml" }
	r.GET(cfg.openapiPath, serve("application/json", func(d *builtDocs) ([]byte, error) {
		return d.openapiJSON, nil
	}), router.WithHidden())
	r.GET(yaml(cfg.openapiPath), serve("application/yaml", func(d *builtDocs) ([]byte, error) {
		b, _, err := d.yaml()
		return b, err
	}), router.WithHidden())
	r.GET(cfg.asyncapiPath, serve("application/json", func(d *builtDocs) ([]byte, error) {
		return d.asyncapiJSON, nil
	}), router.WithHidden())
	r.GET(yaml(cfg.asyncapiPath), serve("application/yaml", func(d *builtDocs) ([]byte, error) {
		_, b, err := d.yaml()
		return b, err
	}), router.WithHidden())
	if !cfg.uiOff {
		r.Mount(cfg.uiPath, docs.Handler(docs.Config{
			Title:       cmp.Or(a.name, docs.DefaultTitle),
			BasePath:    cfg.uiPath,
			OpenAPIURL:  cfg.openapiPath,
			AsyncAPIURL: cfg.asyncapiPath,
		}))
	}
	return nil
}

// start prepares the App for serving, once: it installs the document
// routes. Its error is reported by Serve, Run and Handler.
func (a *App) start() error {
	a.startOnce.Do(func() { a.startErr = a.installDocs() })
	return a.startErr
}
