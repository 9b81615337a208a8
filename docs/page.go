package docs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"time"
)

// ui holds the pages (templates) and, under assets/, the files they load.
//
//go:embed ui
var ui embed.FS

// pageData is what the page templates are executed with.
type pageData struct {
	Title             string
	REST, WS          bool   // which references are configured
	OpenAPI, AsyncAPI string // the documents' URLs
	Assets            string // relative URL of the versioned assets directory
}

// page is a rendered page: the configuration is fixed when Handler is
// called, so each page is rendered once.
type page struct {
	body []byte
	etag string
	csp  bool // send the Content-Security-Policy of forge's own pages
}

func mustPage(name string, d pageData) *page {
	t, err := template.ParseFS(ui, "ui/"+name)
	if err != nil {
		panic("forge: docs: " + err.Error()) // the embedded templates are broken
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		panic("forge: docs: " + err.Error())
	}
	return &page{body: b.Bytes(), etag: etag(b.Bytes()), csp: true}
}

// serve writes the page. Pages are revalidated on every visit (they are
// small, and name the current assets version), and may only load what the
// application itself serves.
func (p *page) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", p.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if p.csp {
		// connect-src lists the page's own host under ws: and wss: as
		// well: the console opens WebSockets to it.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
			"img-src 'self' data:; connect-src 'self' ws://"+r.Host+" wss://"+r.Host+"; "+
			"base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.body))
}

// assets are the files under ui/assets, served below a directory named
// after a hash of them all: an asset's URL changes whenever any asset
// does, so browsers may cache them for good. The ES modules import each
// other relatively and stay within one version.
type assets struct {
	version string
	files   map[string]asset
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// contentTypes are the types of the files the UI ships; an asset of any
// other kind is a programmer error.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func newAssets() *assets {
	a := &assets{files: make(map[string]asset)}
	sum := sha256.New()
	names, err := fs.Glob(ui, "ui/assets/*")
	if err != nil {
		panic("forge: docs: " + err.Error())
	}
	slices.Sort(names)
	for _, name := range names {
		body, err := ui.ReadFile(name)
		if err != nil {
			panic("forge: docs: " + err.Error())
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			panic("forge: docs: no content type for asset " + name)
		}
		base := path.Base(name)
		sum.Write([]byte(base))
		sum.Write([]byte{0})
		sum.Write(body)
		a.files[base] = asset{body: body, contentType: ct, etag: etag(body)}
	}
	a.version = hex.EncodeToString(sum.Sum(nil))[:12]
	return a
}

// serve writes the asset named by rel, "VERSION/NAME".
func (a *assets) serve(w http.ResponseWriter, r *http.Request, rel string) {
	dir, name := path.Split(rel)
	f, ok := a.files[name]
	if !ok || dir != a.version+"/" {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}

func etag(b []byte) string {
	s := sha256.Sum256(b)
	return `"` + hex.EncodeToString(s[:8]) + `"`
}
