package router_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/forgekit/forge/router"
)

type user struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

func TestBind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        string
		opts        []router.RESTOption
		status      int
		detail      string // substring of the problem's detail
	}{
		{name: "ok", contentType: "application/json", body: `{"name":"ada","age":36}`, status: http.StatusOK},
		{name: "charset", contentType: "application/json; charset=utf-8", body: `{"name":"ada"}`, status: http.StatusOK},
		{name: "json suffix", contentType: "application/merge-patch+json", body: `{"name":"ada"}`, status: http.StatusOK},
		{name: "trailing space", contentType: "application/json", body: "{\"name\":\"ada\"}\n  ", status: http.StatusOK},
		{name: "no content type", body: `{"name":"ada"}`, status: http.StatusUnsupportedMediaType, detail: "application/json"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: "name=ada", status: http.StatusUnsupportedMediaType, detail: "application/json"},
		{name: "bad media type", contentType: "application/", body: `{}`, status: http.StatusUnsupportedMediaType},
		{name: "empty", contentType: "application/json", status: http.StatusBadRequest, detail: "empty"},
		{name: "syntax", contentType: "application/json", body: `{"name":}`, status: http.StatusBadRequest, detail: "malformed JSON at byte 9"},
		{name: "truncated", contentType: "application/json", body: `{"name":"ada"`, status: http.StatusBadRequest, detail: "unexpected end"},
		{name: "wrong type", contentType: "application/json", body: `{"age":"old"}`, status: http.StatusBadRequest, detail: `field "age"`},
		{name: "two values", contentType: "application/json", body: `{"name":"a"}{"name":"b"}`, status: http.StatusBadRequest, detail: "single JSON value"},
		{name: "trailing garbage", contentType: "application/json", body: `{"name":"a"} x`, status: http.StatusBadRequest, detail: "single JSON value"},
		{
			name: "too large", contentType: "application/json", body: `{"name":"` + strings.Repeat("a", 100) + `"}`,
			opts: []router.RESTOption{router.WithBodyLimit(64)}, status: http.StatusRequestEntityTooLarge, detail: "exceeds 64 bytes",
		},
		{
			name: "too large after the value", contentType: "application/json", body: `{"name":"a"}` + strings.Repeat(" ", 100),
			opts: []router.RESTOption{router.WithBodyLimit(64)}, status: http.StatusRequestEntityTooLarge,
		},
		{
			name: "default limit", contentType: "application/json", body: `{"name":"` + strings.Repeat("a", router.DefaultBodyLimit) + `"}`,
			status: http.StatusRequestEntityTooLarge, detail: "exceeds 1048576 bytes",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMux(t, router.Config{})
			m.POST("/users", func(ctx router.Context) error {
				var u user
				if err := ctx.Bind(&u); err != nil {
					return err
				}
				return ctx.JSON(http.StatusOK, u)
			}, tc.opts...)
			rec := do(t, m, http.MethodPost, "/users", tc.body, "Content-Type", tc.contentType)
			if tc.status == http.StatusOK {
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"name":"ada"`) {
					t.Fatalf("response = %d %q, want 200 with the bound user", rec.Code, rec.Body.String())
				}
				return
			}
			p := readProblem(t, rec, tc.status)
			if !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("detail = %q, want it to contain %q", p.Detail, tc.detail)
			}
		})
	}
}

func TestBindErrorUnwraps(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	var bindErr error
	m.POST("/x", func(ctx router.Context) error {
		var v user
		bindErr = ctx.Bind(&v)
		return bindErr
	}, router.WithBodyLimit(4))
	do(t, m, http.MethodPost, "/x", `{"name":"long"}`, "Content-Type", "application/json")
	var mbe *http.MaxBytesError
	if !errors.As(bindErr, &mbe) || mbe.Limit != 4 {
		t.Fatalf("Bind error %v does not unwrap to *http.MaxBytesError with limit 4", bindErr)
	}
	var he *router.HTTPError
	if !errors.As(bindErr, &he) || he.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("Bind error %v is not a 413 *HTTPError", bindErr)
	}
}

func TestBindNonPointerIsServerError(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	m.POST("/x", func(ctx router.Context) error {
		var v user
		return ctx.Bind(v) // programmer error
	})
	readProblem(t, do(t, m, http.MethodPost, "/x", `{}`, "Content-Type", "application/json"), http.StatusInternalServerError)
}

func TestResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		handler     router.Handler
		status      int
		contentType string
		body        string
	}{
		{"json", func(ctx router.Context) error { return ctx.JSON(http.StatusCreated, map[string]int{"id": 7}) },
			http.StatusCreated, "application/json", "{\"id\":7}\n"},
		{"string", func(ctx router.Context) error { return ctx.String(http.StatusTeapot, "short and stout") },
			http.StatusTeapot, "text/plain; charset=utf-8", "short and stout"},
		{"no content", func(ctx router.Context) error { return ctx.NoContent(http.StatusNoContent) },
			http.StatusNoContent, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMux(t, router.Config{})
			m.GET("/x", tc.handler)
			rec := do(t, m, http.MethodGet, "/x", "")
			if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.contentType || rec.Body.String() != tc.body {
				t.Fatalf("response = %d %q %q, want %d %q %q", rec.Code, rec.Header().Get("Content-Type"),
					rec.Body.String(), tc.status, tc.contentType, tc.body)
			}
		})
	}
}

func TestQueryAndHeader(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	m.GET("/search", func(ctx router.Context) error {
		return ctx.String(http.StatusOK, ctx.Query("q")+"|"+ctx.Query("missing")+"|"+ctx.Header("X-Client"))
	})
	rec := do(t, m, http.MethodGet, "/search?q=go+chi&q=second", "", "X-Client", "tests")
	if got, want := rec.Body.String(), "go chi||tests"; got != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
}

func TestResponseWriterFlushAndUnwrap(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	m.GET("/stream", func(ctx router.Context) error {
		w := ctx.ResponseWriter()
		_, _ = w.Write([]byte("a"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			return err
		}
		return errors.New("after flush")
	})
	rec := do(t, m, http.MethodGet, "/stream", "")
	if !rec.Flushed || rec.Code != http.StatusOK || rec.Body.String() != "a" {
		t.Fatalf("flushed=%v status=%d body=%q; want a flushed 200 \"a\" untouched by the late error",
			rec.Flushed, rec.Code, rec.Body.String())
	}
}
