package connection

import (
	"reflect"
	"slices"
	"testing"
)

// TestConnectionIsConn keeps what the package doc says true: Connection's
// methods are exactly Conn's exported methods, so that a method added to
// one is added to the other, and Connection stays the one description of
// a connection that handlers, hubs and dispatchers see.
func TestConnectionIsConn(t *testing.T) {
	t.Parallel()
	names := func(typ reflect.Type) []string {
		var out []string
		for m := range typ.Methods() {
			out = append(out, m.Name)
		}
		slices.Sort(out)
		return out
	}
	iface, impl := names(reflect.TypeFor[Connection]()), names(reflect.TypeFor[*Conn]())
	if !slices.Equal(iface, impl) {
		t.Errorf("Connection has methods %v,\n*Conn has %v", iface, impl)
	}
}
