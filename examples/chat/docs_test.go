package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/integration/spectest"
	"github.com/forgekit/forge/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden documents in testdata")

// TestDocuments exports the documents of the example as shipped, the way
// CI does (FORGE_WRITE_DOCS makes app.Run write them and return), checks
// them with the Go validators and the official tools, and compares them
// with the golden files in testdata (go test -update rewrites those).
func TestDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "chat")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "docs")
	cmd := exec.Command(bin)
	// The listen address is the default one, whatever PORT says here.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORT=") && !strings.HasPrefix(kv, forge.WriteDocsEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, forge.WriteDocsEnv+"="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s=%s %s: %v\n%s", forge.WriteDocsEnv, out, bin, err, b)
	}
	spectest.Check(t, out)
	for _, name := range []string{"openapi.json", "openapi.yaml", "asyncapi.json", "asyncapi.yaml"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		testkit.Golden(t, filepath.Join("testdata", name), got, *update)
	}
}
