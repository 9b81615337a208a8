package forge_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	gotoken "go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRouteOptionForwarders keeps the root's route options in step with
// package router, which implements them: every exported router function
// returning a route option has a forwarder here with the same name,
// parameters and result type, whose body only calls it, and whose doc
// comment is its own (no "see package router") and opens with the same
// sentence as router's.
// A new router option without a forwarder, a forwarder left behind by a
// removed one, or a forwarder whose summary no longer says what router's
// says fails here.
func TestRouteOptionForwarders(t *testing.T) {
	t.Parallel()
	fset := gotoken.NewFileSet()
	impls := routeOptionFuncs(t, fset, "router")
	fwds := routeOptionFuncs(t, fset, ".")

	for name := range impls {
		if fwds[name] == nil {
			t.Errorf("router.%s has no forwarder forge.%s", name, name)
		}
	}
	for name, fwd := range fwds {
		impl := impls[name]
		if impl == nil {
			t.Errorf("forge.%s forwards to no router.%s", name, name)
			continue
		}
		if got, want := source(t, fset, fwd.Type.Params), source(t, fset, impl.Type.Params); got != want {
			t.Errorf("forge.%s takes (%s), router.%s takes (%s)", name, got, name, want)
		}
		if got, want := source(t, fset, fwd.Type.Results), source(t, fset, impl.Type.Results); got != want {
			t.Errorf("forge.%s returns %s, router.%s returns %s", name, got, name, want)
		}
		checkForwards(t, fset, fwd)

		text := fwd.Doc.Text()
		switch {
		case text == "":
			t.Errorf("forge.%s has no doc comment", name)
			continue
		case !strings.HasPrefix(text, name+" "):
			t.Errorf("forge.%s: doc comment does not start with its name: %q", name, text)
		case strings.Contains(text, "package router"), strings.Contains(text, "see router."):
			t.Errorf("forge.%s: doc comment sends the reader to package router instead of saying what it does: %q", name, text)
		}
		var p doc.Package
		if got, want := p.Synopsis(text), p.Synopsis(impl.Doc.Text()); got != want {
			t.Errorf("forge.%s: doc comment is stale; it opens with\n\t%s\nrouter.%s opens with\n\t%s", name, got, name, want)
		}
	}
}

// optionTypes are the result types of route options.
var optionTypes = []string{"RouteOption", "RESTOption", "WebSocketOption"}

// routeOptionFuncs returns the exported functions of the package in dir
// (test files left out) whose one result is a route option type, by name.
func routeOptionFuncs(t *testing.T, fset *gotoken.FileSet, dir string) map[string]*ast.FuncDecl {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*ast.FuncDecl)
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !fd.Name.IsExported() || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fd.Type.Results.List[0].Type.(*ast.Ident); ok && slices.Contains(optionTypes, id.Name) {
				out[fd.Name.Name] = fd
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no route options found in %s", dir)
	}
	return out
}

// checkForwards checks that fwd's body is `return router.Name(params...)`,
// the parameters passed in order.
func checkForwards(t *testing.T, fset *gotoken.FileSet, fwd *ast.FuncDecl) {
	t.Helper()
	name := fwd.Name.Name
	var params []string
	for _, f := range fwd.Type.Params.List {
		for _, n := range f.Names {
			params = append(params, n.Name)
		}
	}
	want := "router." + name + "(" + strings.Join(params, ", ")
	if n := len(fwd.Type.Params.List); n > 0 {
		if _, ok := fwd.Type.Params.List[n-1].Type.(*ast.Ellipsis); ok {
			want += "..."
		}
	}
	want += ")"
	body := fwd.Body.List
	if len(body) == 1 {
		if ret, ok := body[0].(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
			if got := source(t, fset, ret.Results[0]); got == want {
				return
			}
		}
	}
	t.Errorf("forge.%s does more than forward: want its body to be `return %s`", name, want)
}

// source prints node as Go source; a parameter list without its
// parentheses.
func source(t *testing.T, fset *gotoken.FileSet, node any) string {
	t.Helper()
	if fl, ok := node.(*ast.FieldList); ok {
		parts := make([]string, 0, len(fl.List))
		for _, f := range fl.List {
			names := make([]string, 0, len(f.Names))
			for _, n := range f.Names {
				names = append(names, n.Name)
			}
			parts = append(parts, strings.TrimSpace(strings.Join(names, ", ")+" "+source(t, fset, f.Type)))
		}
		return strings.Join(parts, ", ")
	}
	var b strings.Builder
	if err := printer.Fprint(&b, fset, node); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
