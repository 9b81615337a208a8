package router_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/router"
)

// TestRouteSecurity: a route's description lists the security schemes of
// its providers, in WithAuth's order, keyed by provider name (and suffix);
// a mounted router's routes carry those of its own providers.
func TestRouteSecurity(t *testing.T) {
	t.Parallel()
	fn := func(*http.Request) (*auth.Principal, error) { return nil, auth.ErrNoCredentials }
	device := auth.Func(fn, "Device", apidoc.SecurityScheme{Type: "apiKey", In: "header", Name: "X-Device"},
		apidoc.SecurityScheme{Suffix: "query", Type: "apiKey", In: "query", Name: "device"})
	user := auth.Func(fn, "Basic", apidoc.SecurityScheme{Type: "http", Scheme: "basic"})
	m := newMux(t, router.Config{Auth: map[string]auth.Provider{"device": device, "user": user}})
	m.GET("/public", ok)
	m.GET("/private", ok, router.WithAuth("user", "device"), router.WithScopes("read"))
	sub := newMux(t, router.Config{Auth: map[string]auth.Provider{"own": user}})
	sub.GET("/x", ok, router.WithAuth("own"))
	m.Mount("/sub", sub)

	routes := m.Routes()
	if s := routes[0].Security; s != nil {
		t.Errorf("public route: security %+v", s)
	}
	want := []apidoc.Security{
		{Key: "user", Scheme: apidoc.SecurityScheme{Type: "http", Scheme: "basic"}},
		{Key: "device", Scheme: apidoc.SecurityScheme{Type: "apiKey", In: "header", Name: "X-Device"}},
		{Key: "device_query", Scheme: apidoc.SecurityScheme{Suffix: "query", Type: "apiKey", In: "query", Name: "device"}},
	}
	if got := routes[1].Security; !reflect.DeepEqual(got, want) {
		t.Errorf("security\n%+v\nwant\n%+v", got, want)
	}
	if got := routes[2].Security; len(got) != 1 || got[0].Key != "own" {
		t.Errorf("mounted route: security %+v", got)
	}
}
