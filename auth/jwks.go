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
	"sync/atomic"
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
//
// Verifications read the cached keys without a lock. One fetch runs at a
// time: verifications that need it (their key id is not cached yet) wait
// for that fetch and share its outcome, while those whose key is cached
// go on with it, even when the cache is past its TTL and a refresh is
// under way. A failed fetch is not retried before the minimum interval,
// so an unreachable key server is asked once per interval, not once per
// token.
type JWKS struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration

	set atomic.Pointer[keySet] // the last fetched set; nil before the first

	mu      sync.Mutex // guards the fields below, never held during a fetch
	triedAt time.Time  // when the last fetch started
	running *jwksFetch // the fetch under way, or nil
}

// keySet is one fetched key set; it never changes once stored.
type keySet struct {
	keys      map[string]jwk
	fetchedAt time.Time
}

// jwksFetch is one fetch that verifications wait for: done closes when it
// ends, err says how.
type jwksFetch struct {
	done chan struct{}
	err  error
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
	set := s.set.Load()
	var k jwk
	ok := false
	if set != nil {
		k, ok = set.keys[kid]
	}
	if !ok || time.Since(set.fetchedAt) > s.ttl {
		f := s.refresh()
		if !ok && f != nil {
			// Without the key the token cannot be verified: wait for the
			// fetch, whoever started it.
			<-f.done
			if set = s.set.Load(); set != nil {
				k, ok = set.keys[kid]
			}
			if !ok && f.err != nil {
				return nil, f.err
			}
		}
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

// refresh returns the fetch under way, or starts one in this goroutine and
// returns it once done, or returns nil when the last fetch started less
// than the minimum interval ago.
func (s *JWKS) refresh() *jwksFetch {
	s.mu.Lock()
	if f := s.running; f != nil {
		s.mu.Unlock()
		return f
	}
	now := time.Now()
	if !s.triedAt.IsZero() && now.Sub(s.triedAt) < s.minRefresh {
		s.mu.Unlock()
		return nil
	}
	f := &jwksFetch{done: make(chan struct{})}
	s.running, s.triedAt = f, now
	s.mu.Unlock()

	f.err = s.fetch()
	s.mu.Lock()
	s.running = nil
	s.mu.Unlock()
	close(f.done)
	return f
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
	s.set.Store(&keySet{keys: keys, fetchedAt: time.Now()})
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
