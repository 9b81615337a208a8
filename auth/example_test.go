package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge/auth"
)

// A JWT provider needs only its key: the zero value of every other
// JWTConfig field is the safe default (exp required, 30 s of leeway,
// scopes in "scope"). Behind a Guard, a request without a token gets 401
// and one with a valid token reaches the handler with its principal.
func ExampleJWT() {
	secret := []byte("an HMAC secret of at least 32 bytes")
	jwtp, err := auth.JWT(auth.JWTConfig{HMACSecret: secret, Issuer: "example"})
	if err != nil {
		panic(err)
	}
	guard := auth.NewGuard(map[string]auth.Provider{"jwt": jwtp}, []string{"jwt"}, nil, nil)
	h := guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.PrincipalFrom(r.Context())
		fmt.Fprintf(w, "hello %s via %s", p.Subject, p.Provider)
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))

	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "ann", "iss": "example", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(secret)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 401 Bearer realm="api"
	// 200 hello ann via jwt
}
