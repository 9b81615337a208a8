package hub

import (
	"net/http"
	"testing"

	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/router"
)

// TestMemberPrincipal: a member's authenticated principal shows in
// MemberInfo and in the presence messages of its rooms.
func TestMemberPrincipal(t *testing.T) {
	t.Parallel()
	h := newHub(t, WithPresence("presence"))
	// The principal an auth guard would attach, taken from ?user= here;
	// ?user=anonymous stands for a route without authentication.
	authenticate := router.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u := r.URL.Query().Get("user"); u != "anonymous" {
				r = r.WithContext(auth.WithPrincipal(r.Context(), &auth.Principal{Subject: "sub-" + u}))
			}
			next.ServeHTTP(w, r)
		})
	})
	e := newEnv(t, h, authenticate)
	ann, _ := e.dial("ann", "lobby")
	_, bob := e.dial("bob", "lobby")
	var p Presence
	ann.ExpectEvent("presence", "", &p)
	if p.ID != bob || p.Principal != "sub-bob" || p.Meta["user"] != "bob" {
		t.Fatalf("presence %+v", p)
	}
	if m, ok := h.Connection(bob); !ok || m.Principal != "sub-bob" {
		t.Fatalf("Connection(bob) = %+v", m)
	}
	_, anon := e.dial("anonymous", "lobby")
	p = Presence{}
	ann.ExpectEvent("presence", "", &p)
	if p.ID != anon || p.Principal != "" {
		t.Fatalf("presence of a connection without a principal: %+v", p)
	}
	got := map[string]int{}
	for _, m := range h.ConnectionsIn("lobby") {
		got[m.Principal]++
	}
	if len(got) != 3 || got["sub-ann"] != 1 || got["sub-bob"] != 1 || got[""] != 1 {
		t.Fatalf("ConnectionsIn: principals %v", got)
	}
}
