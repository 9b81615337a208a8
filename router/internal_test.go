package router

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/connection"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, pattern, template, key string
		params                     []apidoc.Param
	}{
		{"/", "/", "/", "/", nil},
		{"/users/:id", "/users/{id}", "/users/{id}", "/users/{}", []apidoc.Param{{Name: "id"}}},
		{"/users/{id}", "/users/{id}", "/users/{id}", "/users/{}", []apidoc.Param{{Name: "id"}}},
		{"/u/{id:[0-9]{2,}}/x", "/u/{id:[0-9]{2,}}/x", "/u/{id}/x", "/u/{:[0-9]{2,}}/x", []apidoc.Param{{Name: "id", Pattern: "[0-9]{2,}"}}},
		{"/a/:b/{c}/*", "/a/{b}/{c}/*", "/a/{b}/{c}/*", "/a/{}/{}/*", []apidoc.Param{{Name: "b"}, {Name: "c"}, {Name: "*"}}},
		{"/v1/items:batch", "/v1/items:batch", "/v1/items:batch", "/v1/items:batch", nil},
	}
	for _, tc := range tests {
		got, err := parsePath(tc.in)
		if err != nil {
			t.Errorf("parsePath(%q): %v", tc.in, err)
			continue
		}
		want := parsedPath{pattern: tc.pattern, template: tc.template, key: tc.key, params: tc.params}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parsePath(%q) = %+v, want %+v", tc.in, got, want)
		}
	}
}

// FuzzParsePath checks that every path parsePath accepts registers on chi
// without a panic, and that the template has no regexp left.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/a/:b", "/a/{b}", "/a/{b:[0-9]+}/c", "/a/*", "/{a}.{b}", "/a/:", "/{", "/}", "/a/{b:{}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, err := parsePath(path)
		if err != nil {
			return
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("parsePath(%q) accepted a pattern %q that chi rejects: %v", path, p.pattern, v)
				}
			}()
			chi.NewRouter().Get(p.pattern, nil)
		}()
		for _, prm := range p.params {
			if prm.Pattern != "" && strings.Contains(p.template, prm.Pattern) && !strings.Contains(p.template, "{"+prm.Name+"}") {
				t.Fatalf("template %q keeps the regexp of %q", p.template, prm.Name)
			}
		}
	})
}

// TestWebSocketConfigMerge checks the connection.Config a WebSocket route
// gets: defaults, overridden by groups, overridden by the route.
func TestWebSocketConfigMerge(t *testing.T) {
	t.Parallel()
	up := &websocket.Upgrader{Subprotocols: []string{"up.v1"}}
	m := New(Config{Defaults: []GroupOption{
		WithReadLimit(1), WithKeepalive(time.Second, 2*time.Second), WithWriteTimeout(3 * time.Second),
		WithCloseTimeout(4 * time.Second), WithQueueBytes(5), WithOrigins("d.example"),
	}})
	outer := m.Group("/o", WithReadLimit(10), WithSlowConsumerPolicy(connection.PolicyDropNewest), WithCompression(64)).(*group)
	inner := outer.Group("/i", WithReadLimit(100), WithKeepalive(-1, 0), WithSubprotocols("g.v1")).(*group)

	tests := []struct {
		name string
		g    *group
		opts []WebSocketOption
		want connection.Config
	}{
		{
			name: "defaults only", g: m.root,
			want: connection.Config{ReadLimit: 1, PingInterval: time.Second, PongWait: 2 * time.Second,
				WriteTimeout: 3 * time.Second, CloseTimeout: 4 * time.Second, QueueBytes: 5, Origins: []string{"d.example"}},
		},
		{
			name: "nested groups and route", g: inner,
			opts: []WebSocketOption{WithQueueBytes(50), WithSubprotocols("r.v2", "r.v1"), WithRequiredSubprotocol()},
			want: connection.Config{ReadLimit: 100, PingInterval: -1, WriteTimeout: 3 * time.Second,
				CloseTimeout: 4 * time.Second, QueueBytes: 50, Origins: []string{"d.example"},
				SlowConsumer: connection.PolicyDropNewest, Compression: true, CompressionMinSize: 64,
				Subprotocols: []string{"r.v2", "r.v1"}, RequireSubprotocol: true},
		},
		{
			name: "route overrides origins", g: outer, opts: []WebSocketOption{WithOrigins("r.example")},
			want: connection.Config{ReadLimit: 10, PingInterval: time.Second, PongWait: 2 * time.Second,
				WriteTimeout: 3 * time.Second, CloseTimeout: 4 * time.Second, QueueBytes: 5,
				Origins: []string{"r.example"}, SlowConsumer: connection.PolicyDropNewest, Compression: true,
				CompressionMinSize: 64},
		},
	}
	for _, tc := range tests {
		s := settings{websocket: true}
		tc.g.merge(&s, groupOptions(tc.opts))
		if s.err != nil {
			t.Fatalf("%s: %v", tc.name, s.err)
		}
		if !reflect.DeepEqual(s.conn, tc.want) {
			t.Errorf("%s: config =\n%+v\nwant\n%+v", tc.name, s.conn, tc.want)
		}
	}

	// The upgrader's subprotocols are what the documents list.
	m.WebSocket("/up", func(Context, connection.Connection) error { return nil },
		WithUpgrader(up), WithRequiredSubprotocol())
	// A route's settings do not leak into the next route of its group.
	inner.WebSocket("/plain", func(Context, connection.Connection) error { return nil })
	routes := m.Routes()
	if got := routes[0].Subprotocols; !reflect.DeepEqual(got, []string{"up.v1"}) {
		t.Errorf("upgrader route lists subprotocols %q, want [up.v1]", got)
	}
	if got := routes[1]; !reflect.DeepEqual(got.Subprotocols, []string{"g.v1"}) || got.RequireSubprotocol {
		t.Errorf("second route inherited another route's settings: %+v", got)
	}
}
