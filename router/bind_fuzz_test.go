package router_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/forgekit/forge/router"
)

// fuzzIn binds from every place a request has, with constraints in each.
type fuzzIn struct {
	Org   string   `path:"org" minLength:"2"`
	ID    int32    `path:"id" minimum:"1"`
	Limit int      `query:"limit" minimum:"1" maximum:"50" default:"10"`
	Sort  string   `query:"sort" enum:"asc,desc"`
	Tags  []string `query:"tag" maxItems:"3"`
	Near  *point   `query:"near"`
	Token string   `header:"X-Token" required:"true" minLength:"3"`
	Langs []string `header:"Accept-Language"`
	Name  string   `json:"name" required:"true" minLength:"2" maxLength:"8"`
	Count *int     `json:"count" maximum:"10"`
	Items []struct {
		SKU string `json:"sku" pattern:"^[A-Z]+$"`
	} `json:"items,omitempty" maxItems:"4"`
	Secret string // untagged: never bound
}

var skuPattern = regexp.MustCompile(`^[A-Z]+$`)

// FuzzBind sends arbitrary path segments, query strings, headers and
// bodies to a typed route. Whatever comes, the answer is the handler's 200
// with input that meets every constraint, or a 4xx problem (never 5xx);
// a path parameter is bound as the client sent it, percent-decoded.
func FuzzBind(f *testing.F) {
	for _, s := range []struct{ org, id, query, token, body string }{
		{"acme", "7", "limit=5&sort=asc&tag=a&tag=b&near=1,2", "abc", `{"name":"kit","count":3,"items":[{"sku":"AB"}]}`},
		{"a/b", "1", "", "abc", `{"name":"kit"}`},
		{"caf\u00e9", "2", "limit=51", "ab", `{"name":"k"}`},
		{"100%", "0", "sort=up&tag=1&tag=2&tag=3&tag=4", "", `{"name":1}`},
		{"x y", "-1", "limit=1e3&near=a", "abc", `{"name":"kit","count":11}`},
		{"ok", "99999999999", "limit=%zz", "abc", `{"name":"kit","items":[{"sku":"a"}],"Secret":"s"}`},
		{"ok", "3", "", "abc", `{"name":"kit"} {}`},
		{"ok", "3", "", "abc", `{"name":"\ud800"}`},
		{"ok", "3", "", "abc", `[`},
		{"ok", "3", "", "abc", ``},
		{"ok", "3", "", "abc", `{"name":"kit","count":1.5}`},
		{"ok", "3", "", "abc", `{"name":"kit","count":null}`},
		{"%2F", "3", "", "abc", `{"name":"kit"}`},
	} {
		f.Add(s.org, s.id, s.query, s.token, s.body)
	}
	m := newMux(f, router.Config{})
	var bound fuzzIn
	router.Post(m, "/orgs/{org}/items/{id}", func(ctx router.Context, in fuzzIn) (struct{}, error) {
		bound = in
		return struct{}{}, nil
	}, router.WithBodyLimit(512))
	f.Fuzz(func(t *testing.T, org, id, query, token, body string) {
		target := "/orgs/" + url.PathEscape(org) + "/items/" + url.PathEscape(id) + "?" + query
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.ContainsAny(token, "\r\n\x00") || org == "" || id == "" {
			t.Skip("not a request a client can send")
		}
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.URL, r.RequestURI = u, target
		r.Header.Set("Content-Type", "application/json")
		if token != "" {
			r.Header.Set("X-Token", token)
		}
		bound = fuzzIn{}
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent {
			if rec.Code < 400 || rec.Code >= 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %q: status %d %q: %s", target, body, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			var p map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("problem is not JSON: %s", rec.Body)
			}
			return
		}
		in := bound
		if in.Org != org {
			t.Fatalf("path %q bound as org %q, want %q", u.EscapedPath(), in.Org, org)
		}
		switch {
		case utf8.RuneCountInString(in.Org) < 2, in.ID < 1, in.Limit < 1 || in.Limit > 50,
			in.Sort != "" && in.Sort != "asc" && in.Sort != "desc", len(in.Tags) > 3,
			utf8.RuneCountInString(in.Token) < 3,
			utf8.RuneCountInString(in.Name) < 2 || utf8.RuneCountInString(in.Name) > 8,
			in.Count != nil && *in.Count > 10, len(in.Items) > 4, in.Secret != "":
			t.Fatalf("%s %q: bound %+v, which breaks the constraints", target, body, in)
		}
		for _, it := range in.Items {
			if it.SKU != "" && !skuPattern.MatchString(it.SKU) { // "" is an absent sku
				t.Fatalf("bound SKU %q", it.SKU)
			}
		}
		if q := u.Query(); !slices.Equal(in.Tags, q["tag"]) && len(q["tag"]) > 0 {
			t.Fatalf("tags %q bound as %q", q["tag"], in.Tags)
		}
	})
}
