package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	forgeclient "github.com/forgekit/forge/client"
	"github.com/forgekit/forge/internal/testkit"
)

// TestClientTypesAreCurrent regenerates the page's TypeScript types from
// the chat's AsyncAPI document, as forge-client-gen does, and compares
// them with web/chat-api.d.ts (go test -update rewrites it): a change to
// the chat's events that the page's types miss fails here.
func TestClientTypesAreCurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := newApp().WriteDocuments(dir); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "asyncapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := forgeclient.WriteTypeScript(&got, doc); err != nil {
		t.Fatal(err)
	}
	// go run ./cmd/forge-client-gen on the chat's asyncapi.json makes it too.
	testkit.Golden(t, filepath.Join("web", "chat-api.d.ts"), got.Bytes(), *update)
}

// TestChatPageTypeChecks runs tsc --noEmit on the page's script, which
// uses the generated types through JSDoc, and checks that the types are
// in force: the script with a call that breaks them appended fails.
func TestChatPageTypeChecks(t *testing.T) {
	t.Parallel()
	tsc := typescript(t)
	if out, err := exec.Command("node", tsc, "-p", filepath.Join("web", "tsconfig.json")).CombinedOutput(); err != nil {
		t.Fatalf("tsc on the chat page: %v\n%s", err, out)
	}

	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("web", "chat.js"))
	if err != nil {
		t.Fatal(err)
	}
	api, err := os.ReadFile(filepath.Join("web", "chat-api.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	forge, err := filepath.Abs(filepath.Join("..", "..", "client", "dist", "forge.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	bad := string(script) + "\nclient?.emit(\"message\", { text: 1 });\nclient?.request(\"shout\", {});\n"
	config := `{"compilerOptions": {"target": "es2022", "module": "es2022", "moduleResolution": "bundler", "lib": ["es2022", "dom"],
  "allowJs": true, "checkJs": true, "strict": true, "noEmit": true, "paths": {"forge": [` + strings.ReplaceAll(`"`+forge+`"`, `\`, `\\`) + `]}},
  "files": ["chat.js"]}`
	for name, b := range map[string]string{"chat.js": bad, "chat-api.d.ts": string(api), "tsconfig.json": config} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("node", tsc, "-p", filepath.Join(dir, "tsconfig.json")).CombinedOutput()
	if err == nil {
		t.Fatal("tsc accepted a message whose text is a number, and an event the chat does not have")
	}
	for _, want := range []string{"Type 'number' is not assignable to type 'string'", `'"shout"'`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tsc did not say %q:\n%s", want, out)
		}
	}
}

// typescript returns the path of tsc, pinned in client/package.json;
// without node or client/node_modules the test skips, unless CI is set.
func typescript(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, errors.New("node is not installed"))
	}
	tsc, err := filepath.Abs(filepath.Join("..", "..", "client", "node_modules", "typescript", "bin", "tsc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tsc); err != nil {
		unavailable(t, errors.New("TypeScript is not installed: run npm ci in client/"))
	}
	return tsc
}
