package auth

import (
	"context"
	"fmt"
	"net/http"

	"github.com/forgekit/forge/apidoc"
)

// BasicProvider authenticates HTTP basic credentials (use it over TLS
// only). Create it with Basic.
type BasicProvider struct {
	realm  string
	verify func(ctx context.Context, user, password string) (*Principal, error)
}

// Basic returns a provider that asks verify whether user and password are
// right; verify returns (nil, nil) or an error when they are not. Compare
// passwords in constant time (bcrypt does). A nil verify panics.
func Basic(realm string, verify func(ctx context.Context, user, password string) (*Principal, error)) *BasicProvider {
	if verify == nil {
		panic("forge: auth: basic auth provider needs a verify function")
	}
	return &BasicProvider{realm: realm, verify: verify}
}

// Authenticate implements Provider.
func (p *BasicProvider) Authenticate(r *http.Request) (*Principal, error) {
	if r.Header.Get("Authorization") == "" {
		return nil, ErrNoCredentials
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, fmt.Errorf("%w: Authorization is not Basic", ErrNoCredentials)
	}
	pr, err := p.verify(r.Context(), user, pass)
	if err != nil || pr == nil {
		return nil, &Error{Code: "invalid_token", Description: "wrong user name or password", Err: err}
	}
	if pr.Subject == "" {
		pr.Subject = user
	}
	return pr, nil
}

// Challenge implements Provider.
func (p *BasicProvider) Challenge() string {
	return fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", p.realm)
}

// Schemes implements Provider.
func (p *BasicProvider) Schemes() []apidoc.SecurityScheme {
	return []apidoc.SecurityScheme{{Type: "http", Scheme: "basic", Description: "HTTP basic authentication."}}
}
