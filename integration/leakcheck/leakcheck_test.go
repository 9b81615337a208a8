// Package leakcheck_test keeps a promise of the repository: every package
// with tests, in every module, checks for leaked goroutines with goleak
// in its TestMain, so that a goroutine without an owner fails the tests
// of the package that started it.
package leakcheck_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEveryPackageChecksLeaks(t *testing.T) {
	t.Parallel()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{} // dir -> some test file runs goleak
	err = filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "client":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		tested[dir] = tested[dir] || strings.Contains(string(src), "goleak.VerifyTestMain(")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tested) < 20 {
		t.Fatalf("found tests in %d directories only; is %s the repository?", len(tested), repo)
	}
	for dir, ok := range tested {
		if !ok {
			rel, _ := filepath.Rel(repo, dir)
			t.Errorf("%s has tests but no TestMain with goleak.VerifyTestMain", rel)
		}
	}
}
