package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelinaNamesEveryModel runs AsyncAPI Modelina's TypeScript
// generator (pinned in tools/modelina) on the chat's AsyncAPI document: a
// code generator must be able to name every message payload and envelope,
// which it cannot for a schema without a title (it makes AnonymousSchema_11
// of it). Without node or Modelina's npm packages the test skips, unless
// CI is set: then it fails.
func TestModelinaNamesEveryModel(t *testing.T) {
	t.Parallel()
	script, err := modelinaScript()
	if err != nil {
		unavailable(t, err)
	}
	dir := t.TempDir()
	if err := newApp().WriteDocuments(dir); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", script, filepath.Join(dir, "asyncapi.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("modelina: %v\n%s", err, out)
	}
	models := strings.Fields(string(out))
	for _, want := range []string{"MessageEnvelope", "MessageReceivedEnvelope", "ChatMessage", "SendMessage", "PresenceAction"} {
		if !strings.Contains(" "+strings.Join(models, " ")+" ", " "+want+" ") {
			t.Errorf("no model %s among %v", want, models)
		}
	}
	for _, m := range models {
		if strings.Contains(m, "AnonymousSchema") {
			t.Errorf("model %s has no name: give its schema a title (models: %v)", m, models)
		}
	}
}

// modelinaScript finds tools/modelina/models.mjs above the working
// directory and checks that node and its npm packages are there.
func modelinaScript() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", errors.New("node is not installed")
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		tools := filepath.Join(dir, "tools", "modelina")
		if _, err := os.Stat(filepath.Join(tools, "models.mjs")); err == nil {
			if _, err := os.Stat(filepath.Join(tools, "node_modules", "@asyncapi", "modelina", "package.json")); err != nil {
				return "", errors.New("the npm packages of Modelina are not installed: run npm ci in " + tools)
			}
			return filepath.Join(tools, "models.mjs"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no tools/modelina/models.mjs above the working directory")
		}
		dir = parent
	}
}

// unavailable skips the test outside CI and fails it in CI, where every
// tool must be installed.
func unavailable(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "" {
		t.Skipf("%v (scripts/test.sh installs it)", err)
	}
	t.Fatalf("%v; CI must run Modelina", err)
}
