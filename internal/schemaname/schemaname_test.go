package schemaname

import (
	"net/url"
	"reflect"
	"testing"
)

type URL struct{}

type Page[T any] struct{ Items []T }

type Pair[K comparable, V any] struct{}

func TestShort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[URL](), "URL"},
		{reflect.TypeFor[Page[URL]](), "PageURL"},
		{reflect.TypeFor[Page[*url.URL]](), "PageURL"},
		{reflect.TypeFor[Pair[string, []int]](), "PairStringInt"},
	}
	for _, tt := range tests {
		if got := Short(tt.t); got != tt.want {
			t.Errorf("Short(%s) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestNamer(t *testing.T) {
	t.Parallel()
	types := []reflect.Type{
		reflect.TypeFor[URL](), reflect.TypeFor[url.URL](), reflect.TypeFor[url.Values](),
		reflect.TypeFor[Page[URL]](), reflect.TypeFor[Page[*url.URL]](),
	}
	want := map[reflect.Type]string{
		types[0]: "SchemanameURL", types[1]: "UrlURL", types[2]: "Values",
		types[3]: "SchemanamePageSchemanameURL", types[4]: "SchemanamePageUrlURL",
	}
	// Any order of Add gives the same names.
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 4, 0, 3, 1}} {
		var n Namer
		for _, i := range order {
			n.Add(types[i])
		}
		for ty, name := range want {
			if got := n.Name(ty); got != name {
				t.Errorf("order %v: Name(%s) = %q, want %q", order, ty, got, name)
			}
		}
	}
	var zero Namer
	if got := zero.Name(reflect.TypeFor[URL]()); got != "URL" {
		t.Errorf("zero Namer: %q", got)
	}
}
