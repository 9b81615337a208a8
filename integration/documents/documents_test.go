// Package documents_test validates the documents of forge applications with
// the Go validators and the official JavaScript ones. The root module's
// tests check what the documents say; these check that they are valid.
package documents_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/integration/spectest"
	"github.com/forgekit/forge/internal/docshapes"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestShapesDocuments validates the four documents of the app with every
// route shape, with the Go validators and the official ones.
func TestShapesDocuments(t *testing.T) {
	t.Parallel()
	spectest.Documents(t, docshapes.App())
}

// TestServersDocuments validates, with the Go validators, the documents of
// an app for each way of stating its address: the servers sections differ.
func TestServersDocuments(t *testing.T) {
	t.Parallel()
	quiet := forge.WithLogger(slog.New(slog.DiscardHandler))
	for name, opt := range map[string]forge.Option{
		"any interface": forge.WithAddr(":8081"),
		"IPv6":          forge.WithAddr("[::1]:80"),
		"public https":  forge.WithPublicURL("https://api.example.com/base/"),
		"public http":   forge.WithPublicURL("http://10.0.0.1:9000"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := forge.New(opt, quiet)
			app.Router().WebSocket("/ws", docshapes.WSNoop)
			goValid(t, app)
		})
	}
}

// goValid checks the four documents of app with the Go validators.
func goValid(t *testing.T, app *forge.App) {
	t.Helper()
	dir := t.TempDir()
	if err := app.WriteDocuments(dir); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	for name, check := range map[string]func(testing.TB, []byte){
		"openapi.json": spectest.OpenAPI, "openapi.yaml": spectest.OpenAPI,
		"asyncapi.json": spectest.AsyncAPI, "asyncapi.yaml": spectest.AsyncAPI,
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		check(t, b)
	}
}
