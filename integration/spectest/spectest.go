// Package spectest checks the documents forge generates, for the tests of
// this repository's integration and examples modules: OpenAPI with
// kin-openapi, AsyncAPI against the official JSON schema with
// santhosh-tekuri/jsonschema, both followed by the semantic checks that
// schemas cannot express, and, through Official, with the official
// JavaScript tools pinned in tools/spec-validate.
package spectest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	specs "github.com/asyncapi/spec-json-schemas/v6"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// OpenAPI validates an OpenAPI 3.1 document, JSON or YAML.
func OpenAPI(t testing.TB, doc []byte) {
	t.Helper()
	if err := CheckOpenAPI(doc); err != nil {
		t.Fatalf("invalid OpenAPI document: %v\n%s", err, doc)
	}
}

// AsyncAPI validates an AsyncAPI 3.0 document, JSON or YAML.
func AsyncAPI(t testing.TB, doc []byte) {
	t.Helper()
	if err := CheckAsyncAPI(doc); err != nil {
		t.Fatalf("invalid AsyncAPI document: %v\n%s", err, doc)
	}
}

// CheckOpenAPI loads doc with kin-openapi, which resolves every $ref, and
// validates it as OpenAPI 3.1 (path parameters declared, operationIds
// unique, schemas well formed, examples valid).
func CheckOpenAPI(doc []byte) error {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if d.OpenAPI != "3.1.0" {
		return fmt.Errorf("openapi is %q, want 3.1.0", d.OpenAPI)
	}
	if err := d.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	v, err := decode(doc)
	if err != nil {
		return err
	}
	return checkRefs(v)
}

var (
	asyncOnce   sync.Once
	asyncSchema *jsonschema.Schema
	asyncErr    error
)

// asyncAPISchema compiles the official AsyncAPI 3.0.0 schema, shipped in
// the Go module github.com/asyncapi/spec-json-schemas (no network).
func asyncAPISchema() (*jsonschema.Schema, error) {
	asyncOnce.Do(func() {
		raw, err := specs.Get("3.0.0")
		if err != nil || raw == nil {
			asyncErr = fmt.Errorf("asyncapi 3.0.0 schema: %v", err)
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			asyncErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		const id = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
		if err := c.AddResource(id, doc); err != nil {
			asyncErr = err
			return
		}
		asyncSchema, asyncErr = c.Compile(id)
	})
	return asyncSchema, asyncErr
}

// CheckAsyncAPI validates doc against the official AsyncAPI 3.0.0 schema,
// then checks what the schema cannot: every $ref resolves, every address
// placeholder is a declared parameter and every parameter a placeholder,
// no address holds a query or fragment, ws bindings describe query and
// headers as object schemas, operation and reply messages belong to their
// channel, and component keys are well formed.
func CheckAsyncAPI(doc []byte) error {
	sch, err := asyncAPISchema()
	if err != nil {
		return err
	}
	v, err := decode(doc)
	if err != nil {
		return err
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if err := checkRefs(v); err != nil {
		return err
	}
	root := v.(map[string]any)
	var errs []error
	channels, _ := root["channels"].(map[string]any)
	for id, c := range channels {
		ch, _ := c.(map[string]any)
		address, _ := ch["address"].(string)
		if strings.ContainsAny(address, "?#") {
			errs = append(errs, fmt.Errorf("channel %s: address %q holds a query or fragment", id, address))
		}
		var holders []string
		for _, m := range placeholder.FindAllStringSubmatch(address, -1) {
			holders = append(holders, m[1])
		}
		params, _ := ch["parameters"].(map[string]any)
		for _, h := range holders {
			if _, ok := params[h]; !ok {
				errs = append(errs, fmt.Errorf("channel %s: address placeholder {%s} is not a declared parameter", id, h))
			}
		}
		for p := range params {
			if !slices.Contains(holders, p) {
				errs = append(errs, fmt.Errorf("channel %s: parameter %q is not in address %q", id, p, address))
			}
		}
		if ws, ok := dig(ch, "bindings", "ws").(map[string]any); ok {
			for _, key := range []string{"query", "headers"} {
				s, ok := ws[key].(map[string]any)
				if !ok {
					continue
				}
				if _, isRef := s["$ref"]; isRef {
					continue
				}
				if _, hasProps := s["properties"].(map[string]any); s["type"] != "object" || !hasProps {
					errs = append(errs, fmt.Errorf("channel %s: bindings.ws.%s is not an object schema with properties", id, key))
				}
			}
		}
	}
	ops, _ := root["operations"].(map[string]any)
	for id, o := range ops {
		op, _ := o.(map[string]any)
		chRef, _ := dig(op, "channel", "$ref").(string)
		if err := belong(id, "message", chRef, op["messages"]); err != nil {
			errs = append(errs, err)
		}
		if reply, ok := op["reply"].(map[string]any); ok {
			replyCh := chRef
			if r, ok := dig(reply, "channel", "$ref").(string); ok {
				replyCh = r
			}
			if err := belong(id, "reply message", replyCh, reply["messages"]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if comps, ok := root["components"].(map[string]any); ok {
		for kind, group := range comps {
			g, _ := group.(map[string]any)
			for key := range g {
				if !componentKey.MatchString(key) {
					errs = append(errs, fmt.Errorf("components.%s: key %q is not ^[\\w\\d.\\-_]+$", kind, key))
				}
			}
		}
	}
	return errors.Join(errs...)
}

var (
	placeholder  = regexp.MustCompile(`\{([^{}]*)\}`)
	componentKey = regexp.MustCompile(`^[\w.\-]+$`)
)

// belong checks that every reference in refs points into the messages of
// the channel chRef.
func belong(op, what, chRef string, refs any) error {
	list, _ := refs.([]any)
	for _, r := range list {
		ref, _ := dig(r, "$ref").(string)
		if !strings.HasPrefix(ref, chRef+"/messages/") {
			return fmt.Errorf("operation %s: %s %q is not a message of its channel %q", op, what, ref, chRef)
		}
	}
	return nil
}

// checkRefs checks that every local $ref of the document resolves.
func checkRefs(root any) error {
	var errs []error
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "$ref" {
					if _, err := resolve(root, s); err != nil {
						errs = append(errs, err)
					}
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(root)
	return errors.Join(errs...)
}

// resolve follows a local JSON pointer reference.
func resolve(root any, ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local", ref)
	}
	cur := root
	for tok := range strings.SplitSeq(strings.TrimPrefix(ptr, "/"), "/") {
		if ptr == "" {
			break
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return cur, nil
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// decode reads a JSON or YAML document into plain values, with numbers as
// the JSON validator expects them.
func decode(doc []byte) (any, error) {
	if t := bytes.TrimSpace(doc); len(t) > 0 && t[0] == '{' {
		return jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	}
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	return normalize(v), nil
}

// normalize turns YAML's ints into int64s, which the validator accepts.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			x[k] = normalize(c)
		}
	case []any:
		for i, c := range x {
			x[i] = normalize(c)
		}
	case int:
		return int64(x)
	}
	return v
}

// Official runs the official validators (@asyncapi/parser and Redocly, at
// the versions tools/spec-validate/package-lock.json pins) on file, kind
// "asyncapi" or "openapi", and fails the test on errors. When they cannot
// run (no node, or their npm packages not installed: scripts/test.sh
// installs both) it skips, unless the environment variable CI is set:
// then it fails.
func Official(t testing.TB, kind, file string) {
	t.Helper()
	out, err := runOfficial(kind, file)
	if errors.Is(err, errUnavailable) {
		unavailable(t, err)
	}
	if err != nil {
		t.Fatalf("official %s validator on %s: %v\n%s", kind, file, err, out)
	}
}

// errUnavailable marks a validator run that could not start.
var errUnavailable = errors.New("official validators unavailable")

// unavailable skips the test outside CI and fails it in CI.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "" {
		t.Skipf("%v (scripts/test.sh installs them)", err)
	}
	t.Fatalf("%v; CI must run them", err)
}

// runOfficial runs tools/spec-validate/validate.sh, whose exit status 3
// means that node or its npm packages are missing.
func runOfficial(kind, file string) ([]byte, error) {
	script, err := validatorScript()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	out, err := exec.Command(script, kind, file).CombinedOutput()
	if exit, ok := errors.AsType[*exec.ExitError](err); ok && exit.ExitCode() == 3 {
		return out, fmt.Errorf("%w: %s", errUnavailable, bytes.TrimSpace(out))
	}
	return out, err
}

// validatorScript finds tools/spec-validate/validate.sh in the working
// directory or above it: go test runs in the package's directory, inside
// the repository.
func validatorScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		script := filepath.Join(dir, "tools", "spec-validate", "validate.sh")
		if _, err := os.Stat(script); err == nil {
			return script, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no tools/spec-validate/validate.sh above the working directory")
		}
		dir = parent
	}
}

// Documents writes app's documents into a temporary directory, checks all
// four with the Go validators and the YAML forms with the official tools
// (see Official), and returns the directory.
func Documents(t *testing.T, app interface{ WriteDocuments(dir string) error }) string {
	t.Helper()
	dir := t.TempDir()
	if err := app.WriteDocuments(dir); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	Check(t, dir)
	return dir
}

// Check validates the documents that WriteDocuments wrote into dir.
func Check(t *testing.T, dir string) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	OpenAPI(t, read("openapi.json"))
	OpenAPI(t, read("openapi.yaml"))
	AsyncAPI(t, read("asyncapi.json"))
	AsyncAPI(t, read("asyncapi.yaml"))
	Official(t, "openapi", filepath.Join(dir, "openapi.yaml"))
	Official(t, "asyncapi", filepath.Join(dir, "asyncapi.yaml"))
}
