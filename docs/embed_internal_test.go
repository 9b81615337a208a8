package docs

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestEmbeddedFilesNameNoOtherHost reads every embedded file of the UI:
// none may contain an absolute URL (http:, https:, ws:, wss: or
// protocol-relative), so nothing can load from another host.
func TestEmbeddedFilesNameNoOtherHost(t *testing.T) {
	absolute := regexp.MustCompile(`(?i)\b(?:https?|wss?)://|(?:src|href|url|from|import)\s*[=(]?\s*["']?//`)
	n := 0
	err := fs.WalkDir(ui, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := ui.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if loc := absolute.FindStringIndex(line); loc != nil {
				t.Errorf("%s:%d: absolute URL %q", p, i+1, line[loc[0]:min(len(line), loc[1]+30)])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("walked %d files; the embedded UI is missing", n)
	}
}

// TestModuleImportsResolve checks that every ES module import names an
// embedded asset in the same directory, which is what keeps one version's
// modules together.
func TestModuleImportsResolve(t *testing.T) {
	a := newAssets()
	imp := regexp.MustCompile(`(?m)^import\s[^'"]*['"]([^'"]+)['"]`)
	for name, f := range a.files {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, m := range imp.FindAllStringSubmatch(string(f.body), -1) {
			target, ok := strings.CutPrefix(m[1], "./")
			if !ok || strings.Contains(target, "/") {
				t.Errorf("%s imports %q: want ./NAME.js", name, m[1])
				continue
			}
			if _, ok := a.files[target]; !ok {
				t.Errorf("%s imports %q, which is not embedded", name, m[1])
			}
		}
	}
}
