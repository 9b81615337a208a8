package client

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"time"
)

//go:embed dist/forge.js
var dist embed.FS

// module is the client's ES module and its ETag.
var module, etag = func() ([]byte, string) {
	b, err := dist.ReadFile("dist/forge.js")
	if err != nil {
		panic("forge: client: " + err.Error()) // embedded: cannot happen
	}
	sum := sha256.Sum256(b)
	return b, `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}()

// Handler serves the client's ES module, forge.js, at whatever path it is
// mounted on (conventionally /forge.js), to GET and HEAD; other methods get
// 405. The module is revalidated on every load (Cache-Control: no-cache
// with an ETag), so that a page never runs a client older than its server.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(module))
	})
}
