package middleware

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
)

// APIKeyProvider authenticates a key sent in one place: a header, a query
// parameter or a cookie. A key sent anywhere else counts as missing. Create
// it with APIKey or StaticAPIKeys.
type APIKeyProvider struct {
	in, name string
	lookup   func(ctx context.Context, key string) (*Principal, error)
}

// APIKey returns a provider that reads the key from in ("header", "query"
// or "cookie") under name and asks lookup whom it belongs to. lookup
// returns (nil, nil) or an error for an unknown key.
func APIKey(in, name string, lookup func(ctx context.Context, key string) (*Principal, error)) (*APIKeyProvider, error) {
	switch in {
	case "header", "query", "cookie":
	default:
		return nil, fmt.Errorf("forge: API key location %q: want header, query or cookie", in)
	}
	if name == "" || lookup == nil {
		return nil, errors.New("forge: API key provider needs a name and a lookup")
	}
	return &APIKeyProvider{in: in, name: name, lookup: lookup}, nil
}

// StaticAPIKeys returns a provider for a fixed set of keys, each mapped to
// its principal. Keys are compared in constant time.
func StaticAPIKeys(in, name string, keys map[string]Principal) (*APIKeyProvider, error) {
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
	})
}

// Authenticate implements Provider.
func (p *APIKeyProvider) Authenticate(r *http.Request) (*Principal, error) {
	var key string
	switch p.in {
	case "header":
		key = r.Header.Get(p.name)
	case "query":
		key = r.URL.Query().Get(p.name)
	case "cookie":
		if c, err := r.Cookie(p.name); err == nil {
			key = c.Value
		}
	}
	if key == "" {
		return nil, ErrNoCredentials
	}
	pr, err := p.lookup(r.Context(), key)
	if err != nil || pr == nil {
		return nil, &AuthError{Code: "invalid_token", Description: "unknown API key", Err: err}
	}
	return pr, nil
}

// Challenge implements Provider. API keys have no registered HTTP
// authentication scheme; the challenge names where the key goes.
func (p *APIKeyProvider) Challenge() string {
	return fmt.Sprintf("APIKey in=%q, name=%q", p.in, p.name)
}

// Schemes implements Provider.
func (p *APIKeyProvider) Schemes() []SecurityScheme {
	return []SecurityScheme{{Type: "apiKey", In: p.in, Name: p.name, Description: fmt.Sprintf("An API key in the %s %q.", p.in, p.name)}}
}
