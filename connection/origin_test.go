package connection

import (
	"net/http"
	"testing"
)

func TestMatchOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, origin string
		want            bool
	}{
		{"*", "https://a.example", true},
		{"app.example.com", "https://app.example.com", true},
		{"app.example.com", "https://APP.example.com", true},
		{"app.example.com", "https://app.example.com:8443", false},
		{"app.example.com:*", "https://app.example.com:8443", true},
		{"*.example.com", "https://a.b.example.com", true},
		{"*.example.com", "https://example.com", false},
		{"*.example.com", "https://evilexample.com", false},
		{"*.example.com", "https://example.com.evil.test", false},
		{"https://*.example.com", "http://a.example.com", false},
		{"https://*.example.com", "https://a.example.com", true},
		{"http://localhost:3000", "http://localhost:3000", true},
		{"http://localhost:3000", "http://localhost:3001", false},
		{"[::1]:*", "http://[::1]:8080", true},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest("GET", "http://server.test/ws", nil)
		r.Header.Set("Origin", tt.origin)
		if got := originAllowed(r, []string{tt.pattern}); got != tt.want {
			t.Errorf("pattern %q, origin %q: %v, want %v", tt.pattern, tt.origin, got, tt.want)
		}
	}
}

// FuzzOriginAllowed checks that no Origin header makes the check panic, and
// that an origin allowed by a wildcard pattern really ends in its suffix.
func FuzzOriginAllowed(f *testing.F) {
	for _, s := range []string{"https://a.example.com", "null", "http://[::1]:80", "https://example.com.", "file://", "http://%zz", "https://a.example.com:*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		r, _ := http.NewRequest("GET", "http://server.test/ws", nil)
		r.Header.Set("Origin", origin)
		originAllowed(r, nil)
		if origin != "" && originAllowed(r, []string{"*.example.com"}) { // "" is a non-browser client
			host, _ := splitHostPort(mustHost(t, origin))
			if !hasSuffixFold(host, ".example.com") {
				t.Fatalf("origin %q allowed by *.example.com", origin)
			}
		}
	})
}

func mustHost(t *testing.T, origin string) string {
	u, err := parseOrigin(origin)
	if err != nil {
		t.Fatalf("allowed an unparsable origin %q", origin)
	}
	return u
}
