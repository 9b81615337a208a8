package client

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The client's TypeScript is built and tested by node tools pinned in
// package.json and package-lock.json. These tests run them: without node
// and npm they skip, unless CI is set: then they fail.

var (
	npmOnce sync.Once
	npmErr  error
)

// nodeModules makes sure node_modules matches package-lock.json, running
// npm ci when it is missing or older than the lock (scripts/test.sh runs
// it first, so that tests normally install nothing).
func nodeModules(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, errors.New(tool+" is not installed"))
		}
	}
	npmOnce.Do(func() {
		lock, err := os.Stat("package-lock.json")
		if err != nil {
			npmErr = err
			return
		}
		if m, err := os.Stat("node_modules/.package-lock.json"); err == nil && m.ModTime().After(lock.ModTime()) {
			return
		}
		out, err := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error").CombinedOutput()
		if err != nil {
			npmErr = errors.New("npm ci: " + err.Error() + "\n" + string(out))
		}
	})
	if npmErr != nil {
		t.Fatal(npmErr)
	}
}

func unavailable(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "" {
		t.Skipf("%v (scripts/test.sh installs it)", err)
	}
	t.Fatalf("%v; CI must build and test the client", err)
}

// tsc runs the pinned TypeScript compiler.
func tsc(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	return exec.Command("node", append([]string{filepath.Join("node_modules", "typescript", "bin", "tsc")}, args...)...).CombinedOutput()
}

// TestDistIsBuilt builds src/ into a temporary directory and compares the
// result with the committed dist/, which Handler serves: a change to the
// source without a rebuild (npm run build) fails here.
func TestDistIsBuilt(t *testing.T) {
	nodeModules(t)
	out := t.TempDir()
	if b, err := tsc(t, "-p", "tsconfig.json", "--outDir", out); err != nil {
		t.Fatalf("tsc: %v\n%s", err, b)
	}
	for _, name := range []string{"forge.js", "forge.d.ts"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("dist", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dist/%s is not what src/ builds to: run npm run build in client/", name)
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("the build wrote %d files, want forge.js and forge.d.ts", len(entries))
	}
}

// TestNode runs the Node tests of the client's pure logic (test/*.test.mjs,
// with node's test runner) against dist/forge.js.
func TestNode(t *testing.T) {
	nodeModules(t)
	files, err := filepath.Glob(filepath.Join("test", "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no node tests: %v", err)
	}
	out, err := exec.Command("node", append([]string{"--test"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) {
		t.Fatalf("node --test did not report its results:\n%s", out)
	}
}
