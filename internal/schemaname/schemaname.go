// Package schemaname names the Go types that become reusable schemas in
// forge's documents. A type is named after itself ("ChatMessage"), and only
// when two types of different packages share a name are they qualified by
// their package path ("ChatChatMessage", "AdminChatMessage"). The names
// depend on the set of types alone, not on the order they were met in, so
// the same routes always give the same documents.
package schemaname

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Namer maps types to component names. Build it with Add for every type a
// document may name, then call Name; its zero value names types plainly.
type Namer struct {
	types map[reflect.Type]struct{}
	seen  map[reflect.Type]bool   // types AddTree walked
	names map[reflect.Type]string // set by freeze
}

// Add records t as a type that may be named.
func (n *Namer) Add(t reflect.Type) {
	if n.types == nil {
		n.types = make(map[reflect.Type]struct{})
	}
	n.types[t] = struct{}{}
	n.names = nil
}

// AddTree records t and every named type reachable from it through
// pointers, slices, arrays, maps and struct fields: the types whose schemas
// a document may hold.
func (n *Namer) AddTree(t reflect.Type) {
	if n.seen == nil {
		n.seen = make(map[reflect.Type]bool)
	}
	for t != nil && !n.seen[t] {
		n.seen[t] = true
		if t.Name() != "" && t.PkgPath() != "" {
			n.Add(t)
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			t = t.Elem()
			continue
		case reflect.Map:
			n.AddTree(t.Key())
			t = t.Elem()
			continue
		case reflect.Struct:
			for i := range t.NumField() {
				if f := t.Field(i); f.IsExported() || f.Anonymous {
					n.AddTree(f.Type)
				}
			}
		}
		return
	}
}

// Name returns the name of t: Short(t), qualified by package when another
// added type has the same short name.
func (n *Namer) Name(t reflect.Type) string {
	if n.names == nil {
		n.freeze()
	}
	if name, ok := n.names[t]; ok {
		return name
	}
	return Short(t)
}

// freeze assigns the names of every added type: the short name when no
// other type has it, else the short name qualified by ever more of the
// package path, then by the packages of the type arguments, and last by
// an index in the order of the types' full names.
func (n *Namer) freeze() {
	n.names = make(map[reflect.Type]string, len(n.types))
	byShort := make(map[string][]reflect.Type)
	for t := range n.types {
		s := Short(t)
		byShort[s] = append(byShort[s], t)
	}
	taken := make(map[string]bool)
	var clashes []string
	for short, ts := range byShort {
		if len(ts) == 1 {
			n.names[ts[0]] = short
			taken[short] = true
		} else {
			clashes = append(clashes, short)
		}
	}
	slices.Sort(clashes)
	for _, short := range clashes {
		ts := byShort[short]
		slices.SortFunc(ts, func(a, b reflect.Type) int {
			return cmp.Or(cmp.Compare(a.PkgPath(), b.PkgPath()), cmp.Compare(a.String(), b.String()))
		})
		var candidates [][]string
		for depth := 1; depth <= maxDepth(ts); depth++ {
			candidates = append(candidates, mapTypes(ts, func(t reflect.Type) string { return pkgPrefix(t, depth) + short }))
		}
		candidates = append(candidates, mapTypes(ts, func(t reflect.Type) string { return pkgPrefix(t, 1) + long(t) }))
		var names []string
		for _, c := range candidates {
			if distinct(c, taken) {
				names = c
				break
			}
		}
		if names == nil {
			names = mapTypes(ts, func(t reflect.Type) string { return pkgPrefix(t, 1) + long(t) })
			for i := range names {
				names[i] += strconv.Itoa(i + 1)
			}
		}
		for i, t := range ts {
			name := names[i]
			for k := 2; taken[name]; k++ {
				name = names[i] + "_" + strconv.Itoa(k)
			}
			n.names[t] = name
			taken[name] = true
		}
	}
}

func mapTypes(ts []reflect.Type, f func(reflect.Type) string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = f(t)
	}
	return out
}

// distinct reports whether names differ from each other and from taken.
func distinct(names []string, taken map[string]bool) bool {
	seen := make(map[string]bool, len(names))
	for _, s := range names {
		if seen[s] || taken[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

func maxDepth(ts []reflect.Type) int {
	d := 1
	for _, t := range ts {
		d = max(d, len(strings.Split(t.PkgPath(), "/")))
	}
	return d
}

// pkgPrefix is the last depth elements of t's package path, camel-cased:
// "github.com/acme/chat-v2" at depth 2 gives "AcmeChatV2".
func pkgPrefix(t reflect.Type, depth int) string {
	elems := strings.Split(t.PkgPath(), "/")
	elems = elems[max(0, len(elems)-depth):]
	var b strings.Builder
	for _, e := range elems {
		b.WriteString(camel(e))
	}
	return b.String()
}

// long is Short with each type argument qualified by its package's last
// element: "Page[net/url.URL]" gives "PageUrlURL".
func long(t reflect.Type) string {
	name := t.Name()
	i := strings.IndexByte(name, '[')
	if i < 0 {
		return Short(t)
	}
	var b strings.Builder
	b.WriteString(Sanitize(name[:i]))
	for _, arg := range strings.FieldsFunc(name[i:], func(r rune) bool {
		return r == '[' || r == ']' || r == ',' || r == ' ' || r == '*'
	}) {
		if k := strings.Index(arg, "·"); k >= 0 {
			arg = arg[:k]
		}
		if j := strings.LastIndexByte(arg, '.'); j >= 0 {
			pkg := arg[:j]
			if k := strings.LastIndexByte(pkg, '/'); k >= 0 {
				pkg = pkg[k+1:]
			}
			b.WriteString(camel(pkg))
			arg = arg[j+1:]
		}
		b.WriteString(Sanitize(arg))
	}
	return b.String()
}

// Short returns the unqualified component name of t: its Go name with the
// type arguments of a generic type spelled out by their own short names
// ("Page[pkg.Item]" gives "PageItem"), reduced to the characters that
// component names allow.
func Short(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		var b strings.Builder
		b.WriteString(name[:i])
		// Each type argument is a (possibly qualified) type name; keep the
		// part after the last '.' or '/' of every identifier.
		for _, arg := range strings.FieldsFunc(name[i:], func(r rune) bool {
			return r == '[' || r == ']' || r == ',' || r == ' ' || r == '*'
		}) {
			if j := strings.LastIndexAny(arg, "./"); j >= 0 {
				arg = arg[j+1:]
			}
			if k := strings.Index(arg, "·"); k >= 0 { // "T·N" names a local type
				arg = arg[:k]
			}
			b.WriteString(Sanitize(arg))
		}
		name = b.String()
	}
	return Sanitize(name)
}

// Sanitize keeps the letters, digits, '_', '.' and '-' of s, capitalizing
// its first letter, so that it can be a component key.
func Sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-') {
			if b.Len() == 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// camel turns a package path element such as "chat-v2" or "example.com"
// into "ChatV2" or "ExampleCom".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r >= utf8.RuneSelf || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
