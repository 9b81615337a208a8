package client

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("dist/forge.js")
	if err != nil {
		t.Fatal(err)
	}
	h := Handler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/forge.js", nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("GET: %d, %d bytes, want 200 and dist/forge.js (%d bytes)", rec.Code, rec.Body.Len(), len(want))
	}
	for k, v := range map[string]string{
		"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
	} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	etag := rec.Header().Get("ETag")
	if len(etag) < 10 {
		t.Fatalf("ETag %q", etag)
	}

	t.Run("revalidation", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/forge.js", nil)
		req.Header.Set("If-None-Match", etag)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("%d with %d bytes, want 304 and nothing", rec.Code, rec.Body.Len())
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/forge.js", nil))
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			t.Errorf("%d with %d bytes", rec.Code, rec.Body.Len())
		}
	})
	t.Run("POST", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/forge.js", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})
}
