package router_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	problemwriter "github.com/forgekit/forge/internal/problem"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler router.Handler
		status  int
		detail  string
		logged  string // expected in the log; "" means nothing at error level
		written bool   // the handler wrote its own response first
	}{
		{
			name:    "http error",
			handler: func(router.Context) error { return router.NewHTTPError(http.StatusNotFound, "no such user") },
			status:  http.StatusNotFound, detail: "no such user",
		},
		{
			name: "wrapped http error",
			handler: func(router.Context) error {
				return fmt.Errorf("load user: %w", router.NewHTTPError(http.StatusConflict, "taken"))
			},
			status: http.StatusConflict, detail: "taken",
		},
		{
			name:    "http error literal without message",
			handler: func(router.Context) error { return &router.HTTPError{Status: http.StatusForbidden} },
			status:  http.StatusForbidden,
		},
		{
			name:    "server http error is logged",
			handler: func(router.Context) error { return router.NewHTTPError(http.StatusServiceUnavailable, "later") },
			status:  http.StatusServiceUnavailable, detail: "later", logged: "later",
		},
		{
			name:    "plain error",
			handler: func(router.Context) error { return errors.New("database is on fire") },
			status:  http.StatusInternalServerError, logged: "database is on fire",
		},
		{
			name:    "http error with a non-error status",
			handler: func(router.Context) error { return router.NewHTTPError(http.StatusOK, "fine?") },
			status:  http.StatusInternalServerError, logged: "fine?",
		},
		{
			name: "error after writing",
			handler: func(ctx router.Context) error {
				_ = ctx.String(http.StatusAccepted, "partial")
				return errors.New("late failure")
			},
			status: http.StatusAccepted, logged: "late failure", written: true,
		},
		{
			name:    "unencodable JSON",
			handler: func(ctx router.Context) error { return ctx.JSON(http.StatusOK, func() {}) },
			status:  http.StatusInternalServerError, logged: "encode JSON response",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs testkit.Buffer
			m := newMux(t, router.Config{Logger: testkit.TextLogger(&logs)})
			m.GET("/x", tc.handler)
			rec := do(t, m, http.MethodGet, "/x", "")
			if tc.written {
				if rec.Code != tc.status || rec.Body.String() != "partial" {
					t.Fatalf("response = %d %q, want the handler's own", rec.Code, rec.Body.String())
				}
			} else {
				p := readProblem(t, rec, tc.status)
				if p.Detail != tc.detail {
					t.Fatalf("detail = %q, want %q", p.Detail, tc.detail)
				}
				if tc.status == http.StatusInternalServerError && strings.Contains(rec.Body.String(), tc.logged) {
					t.Fatalf("500 body %q leaks the error", rec.Body.String())
				}
			}
			log := logs.String()
			switch {
			case tc.logged != "" && !(strings.Contains(log, "level=ERROR") && strings.Contains(log, tc.logged)):
				t.Fatalf("log %q lacks an error entry with %q", log, tc.logged)
			case tc.logged == "" && strings.Contains(log, "level=ERROR"):
				t.Fatalf("client error logged at error level: %q", log)
			case tc.logged != "" && !strings.Contains(log, "route=/x"):
				t.Fatalf("log %q lacks the route", log)
			}
		})
	}
}

func TestHTTPErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *router.HTTPError
		want string
	}{
		{router.NewHTTPError(404, "no such user"), "404 Not Found: no such user"},
		{&router.HTTPError{Status: 400}, "400 Bad Request"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// TestProblemMembers keeps Problem, which the documents publish, in step
// with the body that the shared writer (internal/problem) sends.
func TestProblemMembers(t *testing.T) {
	t.Parallel()
	members := func(typ reflect.Type) []string {
		var out []string
		for f := range typ.Fields() {
			out = append(out, f.Tag.Get("json"))
		}
		return out
	}
	got, want := members(reflect.TypeFor[problemwriter.Details]()), members(reflect.TypeFor[router.Problem]())
	if !slices.Equal(got, want) {
		t.Errorf("the writer sends members %q, Problem documents %q", got, want)
	}
}

// TestProblemWriter checks the writer's defaults: a status without text
// gets the title "Error", a Content-Length set for another body is
// dropped, and an empty Errors list is left out.
func TestProblemWriter(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Length", "42")
	problemwriter.WriteDetails(rec, problemwriter.Details{Status: 599, Detail: "odd"})
	if got := rec.Header().Get("Content-Length"); got != "" {
		t.Errorf("Content-Length = %q, want none", got)
	}
	want := `{"type":"about:blank","title":"Error","status":599,"detail":"odd"}` + "\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}
