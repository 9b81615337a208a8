package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/apidoc"
)

// apiKeyScheme is the scheme of the API key provider's challenges. API
// keys have no registered HTTP authentication scheme.
const apiKeyScheme = "APIKey"

// APIKeyOption configures an API key provider. A value no program should
// pass panics where the option is built.
type APIKeyOption func(*APIKeyProvider)

// APIKeyProvider authenticates a key sent in one place: a header, a query
// parameter or a cookie. On WebSocket handshakes it also takes the key from
// a Sec-WebSocket-Protocol entry "apikey.<key>" (browsers cannot set
// headers on a WebSocket), and, when enabled with APIKeyFromQuery, from a
// query parameter. A key sent anywhere else counts as missing. Create it
// with APIKey or StaticAPIKeys.
type APIKeyProvider struct {
	in, name    string
	query       string // APIKeyFromQuery's parameter; "" disables
	subprotocol string // Sec-WebSocket-Protocol prefix; "" disables
	lookup      func(ctx context.Context, key string) (*Principal, error)
}

// APIKey returns a provider that reads the key from in ("header", "query"
// or "cookie") under name and asks lookup whom it belongs to. lookup
// returns (nil, nil) or an error for an unknown key. Another location, an
// empty name, a nil lookup or a nil option panics, as forge's setup
// mistakes do.
func APIKey(in, name string, lookup func(ctx context.Context, key string) (*Principal, error), opts ...APIKeyOption) *APIKeyProvider {
	switch in {
	case "header", "query", "cookie":
	default:
		panic(fmt.Sprintf("forge: auth: API key location %q: want header, query or cookie", in))
	}
	if name == "" || lookup == nil {
		panic("forge: auth: API key provider needs a name and a lookup")
	}
	p := &APIKeyProvider{in: in, name: name, lookup: lookup, subprotocol: "apikey."}
	for _, o := range opts {
		if o == nil {
			panic("forge: auth: nil APIKeyOption")
		}
		o(p)
	}
	return p
}

// StaticAPIKeys returns a provider for a fixed set of keys, each mapped to
// its principal. Keys are compared in constant time. It panics as APIKey
// does.
func StaticAPIKeys(in, name string, keys map[string]Principal, opts ...APIKeyOption) *APIKeyProvider {
	type entry struct {
		sum [32]byte
		p   Principal
	}
	entries := make([]entry, 0, len(keys))
	for k, p := range keys {
		entries = append(entries, entry{sha256.Sum256([]byte(k)), p})
	}
	return APIKey(in, name, func(_ context.Context, key string) (*Principal, error) {
		sum := sha256.Sum256([]byte(key))
		var found *Principal
		for i := range entries {
			if subtle.ConstantTimeCompare(sum[:], entries[i].sum[:]) == 1 {
				p := entries[i].p
				found = &p
			}
		}
		return found, nil
	}, opts...)
}

// APIKeyFromSubprotocol sets the prefix of the Sec-WebSocket-Protocol entry
// carrying the key on WebSocket handshakes (default "apikey."); "" turns it
// off. A browser offers it next to one of the route's subprotocols:
//
//	new WebSocket(url, ["notes.v1", "apikey." + key])
//
// The handshake is answered with the route's own subprotocol, never with
// the key entry, so the route must have subprotocols (WithSubprotocols)
// for browsers to use this: a browser fails a handshake whose answer names
// none of the subprotocols it offered. Subprotocol entries are HTTP tokens,
// so only keys made of letters, digits and !#$%&'*+-.^_`|~ can travel this
// way.
func APIKeyFromSubprotocol(prefix string) APIKeyOption {
	return func(p *APIKeyProvider) { p.subprotocol = prefix }
}

// APIKeyFromQuery also accepts the key from query parameter name, on every
// request of the provider's routes. It is off by default: a query string
// ends up in proxy and server logs, browser history and Referer headers,
// where a header or a subprotocol entry does not, so a key that travels in
// one should be short-lived or narrowly scoped. forge's AccessLog leaves
// query strings out, or redacts parameters named like credentials.
func APIKeyFromQuery(name string) APIKeyOption {
	if name == "" {
		panic("forge: auth: APIKeyFromQuery needs a parameter name")
	}
	return func(p *APIKeyProvider) { p.query = name }
}

// Authenticate implements Provider.
func (p *APIKeyProvider) Authenticate(r *http.Request) (*Principal, error) {
	key := p.key(r)
	if key == "" {
		return nil, ErrNoCredentials
	}
	pr, err := p.lookup(r.Context(), key)
	if err != nil || pr == nil {
		return nil, &Error{Code: "invalid_token", Description: "unknown API key", Err: err}
	}
	return pr, nil
}

// key finds the key: in its own place first, then in the alternatives.
// It never logs or echoes it.
func (p *APIKeyProvider) key(r *http.Request) string {
	switch p.in {
	case "header":
		if k := r.Header.Get(p.name); k != "" {
			return k
		}
	case "query":
		if k := r.URL.Query().Get(p.name); k != "" {
			return k
		}
	case "cookie":
		if c, err := r.Cookie(p.name); err == nil && c.Value != "" {
			return c.Value
		}
	}
	if p.subprotocol != "" && websocket.IsWebSocketUpgrade(r) {
		for _, proto := range offeredSubprotocols(r) {
			if k, ok := strings.CutPrefix(proto, p.subprotocol); ok && k != "" {
				return k
			}
		}
	}
	if p.query != "" {
		return r.URL.Query().Get(p.query)
	}
	return ""
}

// Challenge implements Provider. API keys have no registered HTTP
// authentication scheme; the challenge names where the key goes.
func (p *APIKeyProvider) Challenge() string {
	return fmt.Sprintf("%s in=%q, name=%q", apiKeyScheme, p.in, p.name)
}

// Schemes implements Provider: the key's own place, plus the query
// parameter when enabled.
func (p *APIKeyProvider) Schemes() []apidoc.SecurityScheme {
	desc := fmt.Sprintf("An API key in the %s %q.", p.in, p.name)
	if p.subprotocol != "" {
		desc += fmt.Sprintf(" On WebSocket handshakes the key may instead be sent as a Sec-WebSocket-Protocol entry %q followed by the key, next to one of the route's subprotocols (browsers cannot set headers on a WebSocket).", p.subprotocol)
	}
	s := []apidoc.SecurityScheme{{Type: "apiKey", In: p.in, Name: p.name, Subprotocol: p.subprotocol, Description: desc}}
	if p.query != "" && !(p.in == "query" && p.name == p.query) {
		s = append(s, apidoc.SecurityScheme{Suffix: "query", Type: "apiKey", In: "query", Name: p.query,
			Description: "An API key in a query parameter. Query strings end up in logs and browser history: prefer the other ways."})
	}
	return s
}
