package spectest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOfficial runs the official validators on a valid and a broken
// document of each kind, so that Official cannot pass by checking nothing:
// the broken ones must fail with exit status 1, naming each defect's rule.
func TestOfficial(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind, file string
		rules      []string // empty: the document is valid
	}{
		{"asyncapi", "asyncapi-valid.yaml", nil},
		{"asyncapi", "asyncapi-broken.yaml", []string{
			"forge-channel-parameters", "forge-address-no-query", "forge-ws-binding-objects", "asyncapi-document-resolved",
		}},
		{"openapi", "openapi-valid.yaml", nil},
		{"openapi", "openapi-broken.yaml", []string{
			"path-parameters-defined", "no-unresolved-refs", "operation-operationId-unique", "struct",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join("testdata", tt.file)
			if tt.rules == nil {
				doc, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if tt.kind == "asyncapi" {
					AsyncAPI(t, doc)
				} else {
					OpenAPI(t, doc)
				}
				Official(t, tt.kind, file)
				return
			}
			out, err := runOfficial(tt.kind, file)
			if errors.Is(err, errUnavailable) {
				unavailable(t, err)
			}
			if exit, ok := errors.AsType[*exec.ExitError](err); !ok || exit.ExitCode() != 1 {
				t.Fatalf("error %v, want exit status 1\n%s", err, out)
			}
			for _, rule := range tt.rules {
				if !strings.Contains(string(out), " "+rule+" ") {
					t.Errorf("no %s diagnostic\n%s", rule, out)
				}
			}
		})
	}
}
