package events

import (
	"testing"
	"time"

	"github.com/forgekit/forge/internal/testkit"
)

// TestOptionLevels: an option of one level has that level's type only, so
// giving it at the other level does not compile (On(d, "x", fn,
// WithHub(h)) is a type error, not a panic); an Option is both.
func TestOptionLevels(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	noop := func(*Context) error { return nil }
	dispatcherOnly := map[string]DispatcherOption{
		"WithHub":             WithHub(h),
		"WithLogger":          WithLogger(nil),
		"WithCommandEnvelope": WithCommandEnvelope(),
		"WithRequestTimeout":  WithRequestTimeout(time.Second),
		"WithMeta":            WithMeta(func(*Context) map[string]string { return nil }),
		"WithOnConnect":       WithOnConnect(noop),
		"WithOnDisconnect":    WithOnDisconnect(func(*Context) {}),
		"WithPanicHandler":    WithPanicHandler(func(*Context, any, []byte) {}),
	}
	for name, o := range dispatcherOnly {
		if _, ok := o.(HandlerOption); ok {
			t.Errorf("%s is a HandlerOption too", name)
		}
	}
	handlerOnly := map[string]HandlerOption{
		"WithSummary":     WithSummary("s"),
		"WithDescription": WithDescription("d"),
		"WithTransient":   WithTransient(),
		"WithSubprotocol": WithSubprotocol("p"),
	}
	for name, o := range handlerOnly {
		if _, ok := o.(DispatcherOption); ok {
			t.Errorf("%s is a DispatcherOption too", name)
		}
	}
	// Options are both; these would not compile otherwise.
	var _ DispatcherOption = WithTimeout(time.Second)
	var _ HandlerOption = WithMiddleware()
}

// TestNilOptionFunc: a nil func of an option type is a mistake like a nil
// option, not a nil-pointer panic inside the dispatcher.
func TestNilOptionFunc(t *testing.T) {
	t.Parallel()
	var o Option
	testkit.MustPanic(t, "forge: ", "nil Option", func() { New(o) })
	d := New(quiet())
	testkit.MustPanic(t, "forge: ", "nil Option", func() { On(d, "x", func(*Context, struct{}) error { return nil }, o) })
}
