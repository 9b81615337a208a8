package forge_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var quiet = forge.WithLogger(slog.New(slog.DiscardHandler))

// listen returns a loopback listener on a free port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// serve runs app.Serve on a loopback listener and returns its address and
// Serve's result; the test's end shuts the app down if it still runs.
func serve(t testing.TB, app *forge.App) (addr string, served <-chan error) {
	t.Helper()
	l := listen(t)
	ch := make(chan error, 1)
	go func() { ch <- app.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.Shutdown(ctx)
	})
	return l.Addr().String(), ch
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitErr waits for an error from ch, failing the test after a timeout.
func waitErr(t testing.TB, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

// closeCode reads until the server closes the connection and returns the
// close code, or -1 and the error when the connection ends without one. It
// may run on any goroutine.
func closeCode(c *websocket.Conn) (int, error) {
	code, _, err := testkit.ReadClose(c)
	return code, err
}

// readUntilClose is closeCode for the test's goroutine.
func readUntilClose(t testing.TB, c *websocket.Conn) int {
	t.Helper()
	code, err := closeCode(c)
	if err != nil {
		t.Fatalf("read: %v, want a close frame", err)
	}
	return code
}

// closeCodeAsync runs closeCode on its own goroutine; the channel yields
// the code, or -1 when there was none.
func closeCodeAsync(c *websocket.Conn) <-chan int {
	ch := make(chan int, 1)
	go func() {
		code, _ := closeCode(c)
		ch <- code
	}()
	return ch
}

func TestNameAndVersion(t *testing.T) {
	t.Parallel()
	app := forge.New(forge.WithAppName("chat"), forge.WithVersion("1.2.3"), quiet)
	if app.Name() != "chat" || app.Version() != "1.2.3" {
		t.Fatalf("Name, Version = %q, %q; want chat, 1.2.3", app.Name(), app.Version())
	}
}

func TestServeAndShutdown(t *testing.T) {
	t.Parallel()
	app := forge.New(quiet, forge.WithShutdownTimeout(5*time.Second))
	r := app.Router()
	r.GET("/hello/:name", func(ctx forge.Context) error {
		return ctx.String(http.StatusOK, "hello "+ctx.Param("name"))
	})
	handlerDone := make(chan struct{})
	r.WebSocket("/ws/:room", func(ctx forge.Context, conn forge.Connection) error {
		defer close(handlerDone)
		if err := conn.Write([]byte(ctx.Param("room"))); err != nil {
			return err
		}
		_, err := conn.Read() // until shutdown closes the connection
		return err
	})
	addr, served := serve(t, app)

	if status, body := get(t, "http://"+addr+"/hello/ada"); status != http.StatusOK || body != "hello ada" {
		t.Fatalf("GET = %d %q", status, body)
	}
	c := testkit.Dial(t, "ws://"+addr+"/ws/lobby", nil)
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "lobby" {
		t.Fatalf("first message = %q, %v", msg, err)
	}
	if got := app.Stats(); got.Open != 1 || got.Accepted != 1 {
		t.Fatalf("Stats = %+v, want 1 open, 1 accepted", got)
	}

	// The client keeps reading, so it answers the close handshake.
	codes := closeCodeAsync(c)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-handlerDone:
	default:
		t.Fatal("Shutdown returned before the WebSocket handler")
	}
	if code := <-codes; code != websocket.CloseGoingAway {
		t.Fatalf("close code = %d, want 1001", code)
	}
	if err := waitErr(t, served, "Serve"); err != nil {
		t.Fatalf("Serve after Shutdown returned %v, want nil", err)
	}
	if got := app.Stats().Open; got != 0 {
		t.Fatalf("%d connections open after Shutdown", got)
	}
	if _, err := http.Get("http://" + addr + "/hello/ada"); err == nil {
		t.Fatal("server still accepts after Shutdown")
	}
	if err := app.Serve(listen(t)); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve after Shutdown = %v, want http.ErrServerClosed", err)
	}
}

func TestShutdownClosesWebSocketsServedThroughHandler(t *testing.T) {
	t.Parallel()
	app := forge.New(quiet)
	app.Router().WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		_, err := conn.Read()
		return err
	})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	c := testkit.Dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	codes := closeCodeAsync(c)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if code := <-codes; code != websocket.CloseGoingAway {
		t.Fatalf("close code = %d, want 1001", code)
	}
	// New upgrades are refused once the app is shut down.
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Shutdown: %v, %v; want 503", err, resp)
	}
	resp.Body.Close()
}

func TestShutdownConcurrentWithServe(t *testing.T) {
	t.Parallel()
	for range 20 {
		app := forge.New(quiet)
		app.Router().GET("/", func(ctx forge.Context) error { return ctx.NoContent(http.StatusNoContent) })
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 2 {
			l := listen(t)
			wg.Go(func() { errs <- app.Serve(l) })
		}
		for range 2 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				errs <- app.Shutdown(ctx)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Fatalf("Serve or Shutdown returned %v", err)
			}
		}
	}
}

func TestShutdownTimeout(t *testing.T) {
	t.Parallel()
	app := forge.New(quiet)
	release := make(chan struct{})
	app.Router().WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		<-release // ignores the connection's end for a while
		return nil
	})
	defer close(release)
	addr, served := serve(t, app)
	testkit.Dial(t, "ws://"+addr+"/ws", nil)
	for deadline := time.Now().Add(5 * time.Second); app.Stats().Open == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connection was never counted open")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := app.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown past its deadline = %v, want context.DeadlineExceeded", err)
	}
	if err := waitErr(t, served, "Serve"); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}

// TestOptionMistakes: options that no program should pass panic, where
// they are built or in New, as registration mistakes do.
func TestOptionMistakes(t *testing.T) {
	t.Parallel()
	provider, err := auth.JWT(auth.JWTConfig{HMACSecret: authSecret})
	if err != nil {
		t.Fatal(err)
	}
	testkit.MustPanicCases(t, "forge: ", []testkit.PanicCase{
		{"zero shutdown timeout", func() { forge.WithShutdownTimeout(0) }, "WithShutdownTimeout"},
		{"zero read-header timeout", func() { forge.WithReadHeaderTimeout(0) }, "WithReadHeaderTimeout"},
		{"route-only default", func() { forge.New(quiet, forge.WithRouteDefaults(forge.WithName("x"))) }, "WithName"},
		{"nil option", func() { forge.New(quiet, nil) }, "nil Option"},
		{"unnamed provider", func() { forge.WithAuthProvider("", provider) }, "WithAuthProvider"},
		{"nil provider", func() { forge.WithAuthProvider("jwt", nil) }, "WithAuthProvider"},
		{"two providers, one name", func() {
			forge.New(quiet, forge.WithAuthProvider("a", provider), forge.WithAuthProvider("a", provider))
		}, "two providers"},
	})
}

// TestDeploymentErrors: the settings a deployment supplies (the listen
// address, PORT) are errors returned when the app starts serving.
func TestDeploymentErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []forge.Option
		port string // PORT environment variable
		want string
	}{
		{name: "bad addr", opts: []forge.Option{forge.WithAddr("localhost")}, want: "WithAddr"},
		{name: "bad PORT", port: "http", want: "PORT"},
		{name: "PORT out of range", port: "70000", want: "PORT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PORT", tc.port)
			app := forge.New(append(tc.opts, quiet)...)
			// Registration still works on a misconfigured app.
			app.Router().GET("/", func(ctx forge.Context) error { return nil })

			check := func(what string, err error) {
				t.Helper()
				if err == nil || !strings.HasPrefix(err.Error(), "forge: ") || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("%s = %v, want a forge: error mentioning %q", what, err, tc.want)
				}
			}
			l := listen(t)
			check("Serve", app.Serve(l))
			if _, err := l.Accept(); err == nil {
				t.Fatal("Serve left its listener open")
			}
			check("Run", app.Run())
			rec := httptest.NewRecorder()
			app.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("Handler of a misconfigured app answered %d, want 500", rec.Code)
			}
		})
	}
}

func TestRouteDefaults(t *testing.T) {
	t.Parallel()
	app := forge.New(quiet, forge.WithRouteDefaults(forge.WithReadLimit(8), forge.WithTags("api")))
	app.Router().WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		_, err := conn.Read()
		return err
	})
	app.Router().GET("/rest", func(ctx forge.Context) error { return ctx.NoContent(http.StatusNoContent) })
	addr, _ := serve(t, app)
	if status, _ := get(t, "http://"+addr+"/rest"); status != http.StatusNoContent {
		t.Fatalf("REST route under a WebSocket default: status %d", status)
	}
	c := testkit.Dial(t, "ws://"+addr+"/ws", nil)
	if err := c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 64))); err != nil {
		t.Fatal(err)
	}
	if code := readUntilClose(t, c); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code = %d, want 1009 from the default read limit", code)
	}
}

func TestHTTPErrorAlias(t *testing.T) {
	t.Parallel()
	app := forge.New(quiet)
	app.Router().GET("/missing", func(ctx forge.Context) error {
		return forge.NewHTTPError(http.StatusNotFound, "nothing here")
	})
	rec := httptest.NewRecorder()
	app.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/missing", nil))
	want := `{"type":"about:blank","title":"Not Found","status":404,"detail":"nothing here"}` + "\n"
	if rec.Code != http.StatusNotFound || rec.Body.String() != want {
		t.Fatalf("response = %d %q, want 404 %q", rec.Code, rec.Body.String(), want)
	}
}

func TestCloseErrorAlias(t *testing.T) {
	t.Parallel()
	app := forge.New(quiet)
	app.Router().WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		return &forge.CloseError{Code: forge.ClosePolicyViolation, Reason: "go away"}
	})
	addr, _ := serve(t, app)
	c := testkit.Dial(t, "ws://"+addr+"/ws", nil)
	if code := readUntilClose(t, c); code != int(forge.ClosePolicyViolation) {
		t.Fatalf("close code = %d, want %d", code, forge.ClosePolicyViolation)
	}
	if got := forge.CloseStatus(&forge.CloseError{Code: forge.CloseGoingAway}); got != forge.CloseGoingAway {
		t.Fatalf("CloseStatus = %d", got)
	}
}
