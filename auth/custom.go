package auth

import (
	"net/http"

	"github.com/forgekit/forge/apidoc"
)

// FuncProvider adapts a function to Provider, for credentials forge has no
// provider for. Create it with Func.
type FuncProvider struct {
	fn        func(*http.Request) (*Principal, error)
	challenge string
	schemes   []apidoc.SecurityScheme
}

// Func returns a provider calling fn, which follows Provider.Authenticate's
// contract (ErrNoCredentials when absent, an *Error when wrong).
// challenge goes into WWW-Authenticate on 401 and schemes describe the
// credential in the documents; at least one scheme is required, so that
// the documents never hide an enforced requirement: a nil fn or no scheme
// panics.
func Func(fn func(*http.Request) (*Principal, error), challenge string, schemes ...apidoc.SecurityScheme) *FuncProvider {
	if fn == nil || len(schemes) == 0 {
		panic("forge: auth: Func provider needs a function and at least one security scheme")
	}
	return &FuncProvider{fn: fn, challenge: challenge, schemes: schemes}
}

// Authenticate implements Provider.
func (p *FuncProvider) Authenticate(r *http.Request) (*Principal, error) { return p.fn(r) }

// Challenge implements Provider.
func (p *FuncProvider) Challenge() string { return p.challenge }

// Schemes implements Provider.
func (p *FuncProvider) Schemes() []apidoc.SecurityScheme { return p.schemes }
