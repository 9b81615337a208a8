package middleware_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"golang.org/x/time/rate"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/middleware"
)

// exampleLogger logs text lines to stdout without the parts that change
// from run to run.
func exampleLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// The general middleware on a forge app, in the order that lets each one
// see what the earlier ones did: the access log carries the request ID and
// records the 500 that Recover answers a panic with.
func Example() {
	logger := exampleLogger()
	limiter := middleware.NewRateLimiter(rate.Every(time.Second), 20)
	cors := middleware.CORS(middleware.CORSOrigins("https://app.example.com"))

	app := forge.New(forge.WithLogger(logger))
	r := app.Router()
	r.Use(middleware.RequestID(), middleware.AccessLog(logger), middleware.Recover(logger), cors, limiter.Handler)
	r.GET("/hello", func(ctx forge.Context) error { return ctx.String(http.StatusOK, "hello") })

	req := httptest.NewRequest(http.MethodGet, "/hello?access_token=s3cret", nil)
	req.Header.Set("X-Request-Id", "req-1")
	rec := httptest.NewRecorder()
	app.Handler().ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// level=INFO msg="http request" method=GET path=/hello status=200 remote_ip=192.0.2.1 request_id=req-1 user_agent="" bytes=5
	// 200 hello
}

func ExampleRequestID() {
	h := middleware.RequestID()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("handler sees", middleware.RequestIDFrom(r.Context()))
	}))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Request-Id", "edge-7f3a")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("response carries", rec.Header().Get("X-Request-Id"))
	// Output:
	// handler sees edge-7f3a
	// response carries edge-7f3a
}

func ExampleRecover() {
	logger := slog.New(slog.DiscardHandler) // the panic and its stack go here
	h := middleware.Recover(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("the database driver has a bug")
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
	// Output:
	// 500 application/problem+json
	// {"type":"about:blank","title":"Internal Server Error","status":500}
}

func ExampleAccessLog() {
	h := middleware.AccessLog(exampleLogger(), middleware.AccessLogQuery())(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "[]") }))

	req := httptest.NewRequest(http.MethodGet, "/rooms?page=2&access_token=s3cret", nil)
	req.Header.Set("Authorization", "Bearer s3cret") // never logged
	req.Header.Set("User-Agent", "example/1.0")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// level=INFO msg="http request" method=GET path=/rooms query="page=2&access_token=REDACTED" status=200 remote_ip=192.0.2.1 user_agent=example/1.0 bytes=2
}

func ExampleCORS() {
	cors := middleware.CORS(
		middleware.CORSOrigins("https://*.example.com"),
		middleware.CORSMethods(http.MethodGet, http.MethodPost),
		middleware.CORSHeaders("Authorization", "Content-Type"),
		middleware.CORSMaxAge(10*time.Minute),
	)
	h := cors(http.NotFoundHandler())

	preflight := httptest.NewRequest(http.MethodOptions, "/api/rooms", nil)
	preflight.Header.Set("Origin", "https://app.example.com")
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	preflight.Header.Set("Access-Control-Request-Headers", "authorization")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, preflight)
	fmt.Println(rec.Code)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
		fmt.Printf("%s: %s\n", k, rec.Header().Get(k))
	}
	// Output:
	// 204
	// Access-Control-Allow-Origin: https://app.example.com
	// Access-Control-Allow-Methods: POST
	// Access-Control-Allow-Headers: authorization
	// Access-Control-Max-Age: 600
}

func ExampleRateLimiter() {
	// Two requests at once, then one every 10 seconds, per client IP.
	limiter := middleware.NewRateLimiter(rate.Every(10*time.Second), 2)
	h := limiter.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for _, ip := range []string{"192.0.2.1", "192.0.2.1", "192.0.2.1", "198.51.100.7"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = ip + ":40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(ip, rec.Code) // a 429 carries Retry-After: 10
	}
	fmt.Println("rejected:", limiter.Rejected())
	// Output:
	// 192.0.2.1 200
	// 192.0.2.1 200
	// 192.0.2.1 429
	// 198.51.100.7 200
	// rejected: 1
}
