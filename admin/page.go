package admin

import (
	"embed"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"age": func(s float64) string {
		switch {
		case s < 60:
			return fmt.Sprintf("%.0fs", s)
		case s < 3600:
			return fmt.Sprintf("%.0fm", s/60)
		}
		return fmt.Sprintf("%.1fh", s/3600)
	},
	"codes": func(m map[string]uint64) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
		}
		return strings.Join(parts, " ")
	},
}).ParseFS(assets, "assets/index.html"))

// PageLimit is how many connections and rooms the page lists; the JSON
// endpoints list them all unless asked for fewer.
const PageLimit = 500

// servePage renders the page with the data of the moment, so that it is
// useful before its script runs (and without it); the script then keeps
// it fresh.
func (in *Inspector) servePage(w http.ResponseWriter, r *http.Request) {
	data := struct {
		Base        string
		Status      Status
		Connections []Connection
		Rooms       []Room
		Limit       int
		Total       int
	}{Base: strings.TrimSuffix(in.cfg.Path, "/"), Status: in.Status(), Limit: TapDataLimit}
	conns := in.Connections()
	data.Total = len(conns)
	data.Connections = conns[:min(len(conns), PageLimit)]
	data.Rooms, _ = in.rooms(r.Context(), PageLimit)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	if err := page.Execute(w, data); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
	}
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var ctype string
	switch name {
	case "admin.js":
		ctype = "text/javascript; charset=utf-8"
	case "admin.css":
		ctype = "text/css; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
