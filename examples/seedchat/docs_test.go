package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/integration/spectest"
)

// TestDocuments exports the documents of the guide's chat server the way CI
// does for an app that only calls Run (FORGE_WRITE_DOCS), and validates
// them with the Go validators and the official tools.
func TestDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "seedchat")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	docs := filepath.Join(dir, "docs")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), forge.WriteDocsEnv+"="+docs)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("write documents: %v\n%s", err, out)
	}
	spectest.Check(t, docs)
}
