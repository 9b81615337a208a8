package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/client"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	doc, err := os.ReadFile("../../client/testdata/api.json")
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := client.WriteTypeScript(&want, doc); err != nil {
		t.Fatal(err)
	}

	var stdout bytes.Buffer
	if err := run([]string{"../../client/testdata/api.json"}, nil, &stdout); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != want.String() {
		t.Errorf("a file to standard output differs from WriteTypeScript")
	}

	stdout.Reset()
	if err := run([]string{"-"}, bytes.NewReader(doc), &stdout); err != nil || stdout.String() != want.String() {
		t.Errorf("standard input: %v", err)
	}

	out := filepath.Join(t.TempDir(), "api.d.ts")
	if err := run([]string{"-o", out, "../../client/testdata/api.json"}, nil, &stdout); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != want.String() {
		t.Errorf("-o wrote %d bytes, want %d", len(b), want.Len())
	}

	if err := run([]string{"a.json", "b.json"}, nil, &stdout); err == nil || !strings.Contains(err.Error(), "one document") {
		t.Errorf("two documents: %v", err)
	}
	if err := run([]string{"missing.json"}, nil, &stdout); err == nil {
		t.Error("a missing file did not fail")
	}
	if err := run(nil, strings.NewReader(`{"asyncapi": "2.0.0"}`), &stdout); err == nil || !strings.Contains(err.Error(), "AsyncAPI 3") {
		t.Errorf("AsyncAPI 2: %v", err)
	}
}
