package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWKS is a JSON Web Key Set fetched from a URL and cached. Keys are
// fetched on first use, refreshed after their TTL, and refreshed early
// (at most once per minimum interval) when a token names an unknown key id,
// which is how key rotation shows. No goroutine runs in the background.
// Keys are parsed with the standard library: RSA of at least 2048 bits,
// ECDSA on P-256, P-384 and P-521, and Ed25519; a key that does not parse
// is skipped, and one marked for another use than "sig" is ignored.
type JWKS struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration

	mu        sync.Mutex // guards the fields below; held during a fetch
	keys      map[string]jwk
	fetchedAt time.Time
	triedAt   time.Time
}

type jwk struct {
	key crypto.PublicKey
	alg string // "" when the set does not pin one
}

// JWKSOption configures a JWKS.
type JWKSOption func(*JWKS)

// JWKSClient sets the HTTP client used to fetch the set (default: a client
// with a 5 s timeout).
func JWKSClient(c *http.Client) JWKSOption { return func(s *JWKS) { s.client = c } }

// JWKSCache sets how long fetched keys are used (default 10 min) and the
// minimum time between fetches (default 30 s).
func JWKSCache(ttl, minRefresh time.Duration) JWKSOption {
	return func(s *JWKS) { s.ttl, s.minRefresh = ttl, minRefresh }
}

// NewJWKS returns a key set read from url (an https URL in production).
func NewJWKS(url string, opts ...JWKSOption) *JWKS {
	s := &JWKS{url: url, client: &http.Client{Timeout: 5 * time.Second}, ttl: 10 * time.Minute, minRefresh: 30 * time.Second}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *JWKS) keyFunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, err := s.lookup(t.Header["alg"], kid)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (s *JWKS) lookup(alg any, kid string) (crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[kid]
	now := time.Now()
	if stale := now.Sub(s.fetchedAt) > s.ttl; (!ok || stale) && now.Sub(s.triedAt) >= s.minRefresh {
		s.triedAt = now
		if err := s.fetch(); err != nil && !ok {
			return nil, err
		}
		k, ok = s.keys[kid]
	}
	if !ok {
		return nil, fmt.Errorf("forge: no key %q in the JWKS", kid)
	}
	if a, _ := alg.(string); k.alg != "" && a != k.alg {
		return nil, fmt.Errorf("forge: key %q is for %s, not %v", kid, k.alg, alg)
	}
	if err := keyFits(k.key, alg); err != nil {
		return nil, err
	}
	return k.key, nil
}

// keyFits refuses a key whose type cannot have made a signature of alg.
func keyFits(key crypto.PublicKey, alg any) error {
	a, _ := alg.(string)
	switch key.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(a, "RS") || strings.HasPrefix(a, "PS") {
			return nil
		}
	case *ecdsa.PublicKey:
		if strings.HasPrefix(a, "ES") {
			return nil
		}
	case ed25519.PublicKey:
		if a == "EdDSA" {
			return nil
		}
	}
	return fmt.Errorf("forge: algorithm %q does not fit the key", a)
}

func (s *JWKS) fetch() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("forge: fetch JWKS: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("forge: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("forge: fetch JWKS: status %d", resp.StatusCode)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("forge: decode JWKS: %w", err)
	}
	keys := make(map[string]jwk, len(set.Keys))
	for _, raw := range set.Keys {
		kid, k, err := parseJWK(raw)
		if err != nil {
			continue // one bad key must not take the others down
		}
		keys[kid] = k
	}
	s.keys, s.fetchedAt = keys, time.Now()
	return nil
}

// parseJWK reads one public signing key of a set.
func parseJWK(raw json.RawMessage) (string, jwk, error) {
	var k struct {
		Kty, Kid, Use, Alg, Crv string
		N, E, X, Y              string
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", jwk{}, err
	}
	if k.Use != "" && k.Use != "sig" {
		return "", jwk{}, errors.New("not a signing key")
	}
	b := func(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
	switch k.Kty {
	case "RSA":
		n, err1 := b(k.N)
		e, err2 := b(k.E)
		if err := errors.Join(err1, err2); err != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
			return "", jwk{}, errors.New("bad RSA key (at least 2048 bits)")
		}
		return k.Kid, jwk{key: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, alg: k.Alg}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return "", jwk{}, errors.New("unsupported curve")
		}
		x, err1 := b(k.X)
		y, err2 := b(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if errors.Join(err1, err2) != nil || len(x) != size || len(y) != size {
			return "", jwk{}, errors.New("bad EC key")
		}
		// ParseUncompressedPublicKey checks that the point is on the curve.
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", jwk{}, err
		}
		return k.Kid, jwk{key: pub, alg: k.Alg}, nil
	case "OKP":
		x, err := b(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return "", jwk{}, errors.New("bad OKP key")
		}
		return k.Kid, jwk{key: ed25519.PublicKey(x), alg: k.Alg}, nil
	}
	return "", jwk{}, errors.New("unsupported key type")
}
