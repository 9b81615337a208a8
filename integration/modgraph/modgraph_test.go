// Package modgraph_test checks what a program that imports forge adds to
// its module graph: the library and its broker modules must not bring the
// browser, the document validators or the other broker's client, which only
// this repository's tests use.
package modgraph_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// heavy are the modules that only tests in this repository need.
var heavy = []string{
	"github.com/chromedp/chromedp",
	"github.com/chromedp/cdproto",
	"github.com/getkin/kin-openapi",
	"github.com/asyncapi/spec-json-schemas/v6",
	"github.com/nats-io/nats-server/v2",
	"github.com/nats-io/nats.go",
	"github.com/redis/go-redis/v9",
}

// TestUserModuleGraph makes a module in a temporary directory that imports
// one of forge's modules, as a user's program would, and lists its module
// graph with `go list -m all`, outside this repository's workspace. The
// module cache must hold what the repository's own modules require.
func TestUserModuleGraph(t *testing.T) {
	t.Parallel()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		imports string   // the package the program imports
		dir     string   // its module's directory in the repository
		want    []string // modules the graph must hold
		allowed []string // modules of heavy it may hold
	}{
		{"forge", "github.com/forgekit/forge", ".",
			[]string{"github.com/go-chi/chi/v5", "github.com/gorilla/websocket", "github.com/santhosh-tekuri/jsonschema/v6"}, nil},
		{"redisbroker", "github.com/forgekit/forge/hub/redisbroker", "hub/redisbroker",
			[]string{"github.com/redis/go-redis/v9"}, []string{"github.com/redis/go-redis/v9"}},
		{"natsbroker", "github.com/forgekit/forge/hub/natsbroker", "hub/natsbroker",
			[]string{"github.com/nats-io/nats.go"}, []string{"github.com/nats-io/nats.go", "github.com/nats-io/nats-server/v2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mods := listModules(t, repo, tt.imports, tt.dir)
			for _, m := range tt.want {
				if !mods[m] {
					t.Errorf("the graph lacks %s; it holds %v", m, mods)
				}
			}
			for _, m := range heavy {
				if mods[m] && !slices.Contains(tt.allowed, m) {
					t.Errorf("a program importing %s has %s in its module graph", tt.imports, m)
				}
			}
		})
	}
}

// listModules writes a program importing pkg into a new module whose
// go.mod requires pkg's module from the repository's directory dir, tidies
// it, and returns the module paths `go list -m all` prints.
func listModules(t *testing.T, repo, pkg, dir string) map[string]bool {
	t.Helper()
	mod := strings.TrimSuffix("github.com/forgekit/forge/"+dir, "/.")
	replace := fmt.Sprintf("replace %s => %s\n", mod, filepath.Join(repo, dir))
	if mod != "github.com/forgekit/forge" {
		replace += fmt.Sprintf("replace github.com/forgekit/forge => %s\n", repo)
	}
	work := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/user\n\ngo 1.26.0\n\nrequire " + mod + " v0.0.0-00010101000000-000000000000\n\n" + replace,
		"main.go": "package main\n\nimport _ \"" + pkg + "\"\n\nfunc main() {}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, work, "mod", "tidy")
	mods := map[string]bool{}
	for line := range strings.Lines(run(t, work, "list", "-m", "all")) {
		if f := strings.Fields(line); len(f) > 0 {
			mods[f[0]] = true
		}
	}
	return mods
}

// run runs the go command in dir outside any workspace and returns its
// standard output.
func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
