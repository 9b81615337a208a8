package connection

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// originAllowed reports whether r's Origin header passes patterns (see
// Config.Origins). A request without an Origin header comes from a
// non-browser client, which cross-site rules do not concern.
func originAllowed(r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if len(patterns) == 0 {
		return strings.EqualFold(u.Host, r.Host)
	}
	for _, p := range patterns {
		if matchOrigin(p, u.Scheme, u.Host) {
			return true
		}
	}
	return false
}

// parseOrigin returns the host[:port] of an origin that originAllowed
// accepts as well-formed.
func parseOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", err
	}
	return u.Host, nil
}

// matchOrigin matches one Config.Origins pattern against an origin's scheme
// and host[:port].
func matchOrigin(pattern, scheme, host string) bool {
	if pattern == "*" {
		return true
	}
	if s, rest, ok := strings.Cut(pattern, "://"); ok {
		if !strings.EqualFold(s, scheme) {
			return false
		}
		pattern = rest
	}
	pattern = strings.TrimSuffix(pattern, "/")
	pHost, pPort := splitHostPort(pattern)
	oHost, oPort := splitHostPort(host)
	if pPort != "*" && pPort != oPort {
		return false
	}
	if suffix, ok := strings.CutPrefix(pHost, "*."); ok {
		return len(oHost) > len(suffix)+1 && hasSuffixFold(oHost, "."+suffix)
	}
	return strings.EqualFold(pHost, oHost)
}

func splitHostPort(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.Trim(hostport, "[]"), ""
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
