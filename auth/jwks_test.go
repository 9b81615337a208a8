package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge/auth"
)

// gatedJWKS serves keys like jwksServer, but each fetch after the first
// `free` ones reports itself on started and waits for release.
type gatedJWKS struct {
	srv     *httptest.Server
	fetches atomic.Int32
	status  atomic.Int32 // the answer's status; 0 means 200
	keys    atomic.Value // []map[string]any
	started chan struct{}
	release chan struct{}
	once    sync.Once // closes release
}

func newGatedJWKS(t *testing.T, free int32, keys ...map[string]any) *gatedJWKS {
	g := &gatedJWKS{started: make(chan struct{}, 100), release: make(chan struct{})}
	g.keys.Store(keys)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := g.fetches.Add(1); n > free {
			g.started <- struct{}{}
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			}
		}
		if code := g.status.Load(); code != 0 {
			http.Error(w, "down", int(code))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": g.keys.Load()})
	}))
	t.Cleanup(g.srv.Close)
	t.Cleanup(g.open) // a failed test must not leave the handler waiting
	return g
}

func (g *gatedJWKS) open() { g.once.Do(func() { close(g.release) }) }

// TestJWKSRefreshDoesNotBlockCachedKeys: while a fetch for an unknown key
// id is under way, a token whose key is cached verifies at once.
func TestJWKSRefreshDoesNotBlockCachedKeys(t *testing.T) {
	t.Parallel()
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	g := newGatedJWKS(t, 1, rsaJWK("k1", &rsaKey.PublicKey))
	p := mustJWT(t, auth.JWTConfig{KeySet: auth.NewJWKS(g.srv.URL, auth.JWKSClient(&http.Client{}), auth.JWKSCache(time.Hour, 0))})
	known := sign(t, jwt.SigningMethodRS256, rsaKey, claims(nil), "k1")
	if _, err := p.Authenticate(bearer(known)); err != nil {
		t.Fatal(err)
	}

	g.keys.Store([]map[string]any{rsaJWK("k1", &rsaKey.PublicKey), rsaJWK("k2", &other.PublicKey)})
	rotated := make(chan error, 1)
	go func() {
		_, err := p.Authenticate(bearer(sign(t, jwt.SigningMethodRS256, other, claims(nil), "k2")))
		rotated <- err
	}()
	<-g.started // the refresh is under way, and waits for release
	if _, err := p.Authenticate(bearer(known)); err != nil {
		t.Fatalf("cached key during a refresh: %v", err)
	}
	select {
	case err := <-rotated:
		t.Fatalf("the rotated key's verification ended (%v) before its fetch did", err)
	default:
	}
	g.open()
	if err := <-rotated; err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := g.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestJWKSSingleFlight: concurrent verifications that need a fetch share
// one, whether it succeeds or fails, and a failed fetch is not repeated
// before the minimum interval.
func TestJWKSSingleFlight(t *testing.T) {
	t.Parallel()
	const n = 50
	for _, tt := range []struct {
		name   string
		status int32
	}{{"success", 0}, {"failure", http.StatusServiceUnavailable}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGatedJWKS(t, 0, rsaJWK("k1", &rsaKey.PublicKey))
			g.status.Store(tt.status)
			p := mustJWT(t, auth.JWTConfig{KeySet: auth.NewJWKS(g.srv.URL, auth.JWKSCache(time.Hour, time.Hour))})
			tok := sign(t, jwt.SigningMethodRS256, rsaKey, claims(nil), "k1")

			errs := make(chan error, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					_, err := p.Authenticate(bearer(tok))
					errs <- err
				})
			}
			<-g.started
			g.open()
			wg.Wait()
			close(errs)
			for err := range errs {
				if (err == nil) != (tt.status == 0) {
					t.Fatalf("verification: %v", err)
				}
			}
			// Later verifications use the cache, or, after a failure,
			// do not ask again within the minimum interval.
			for range n {
				_, err := p.Authenticate(bearer(tok))
				if (err == nil) != (tt.status == 0) {
					t.Fatalf("later verification: %v", err)
				}
			}
			if got := g.fetches.Load(); got != 1 {
				t.Fatalf("%d verifications made %d fetches, want 1", 2*n, got)
			}
		})
	}
}
