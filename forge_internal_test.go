package forge

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAddr(t *testing.T) {
	tests := []struct {
		name string
		port string
		opts []Option
		want string
	}{
		{name: "default", want: ":8080"},
		{name: "PORT", port: "9090", want: ":9090"},
		{name: "WithAddr wins over PORT", port: "9090", opts: []Option{WithAddr("127.0.0.1:7000")}, want: "127.0.0.1:7000"},
		{name: "WithAddr", opts: []Option{WithAddr(":7001")}, want: ":7001"},
		{name: "bad WithAddr keeps the default", opts: []Option{WithAddr("nope")}, want: ":8080"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PORT", tc.port)
			if got := New(tc.opts...).addr; got != tc.want {
				t.Fatalf("addr = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	app := New(WithLogger(nil))
	if app.logger != slog.Default() {
		t.Error("WithLogger(nil) does not mean slog.Default()")
	}
	if app.shutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("shutdown timeout = %v, want %v", app.shutdownTimeout, DefaultShutdownTimeout)
	}
	if app.err != nil {
		t.Errorf("err = %v", app.err)
	}
}

// serving waits until app has a server running.
func serving(t *testing.T, app *App) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		app.mu.Lock()
		n := len(app.servers)
		app.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("app did not start serving")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRunStopsOnShutdown(t *testing.T) {
	t.Parallel()
	app := New(WithAddr("127.0.0.1:0"), WithLogger(slog.New(slog.DiscardHandler)))
	ran := make(chan error, 1)
	go func() { ran <- app.Run() }()
	serving(t, app)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Shutdown")
	}
	if err := app.Run(); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Run after Shutdown = %v, want http.ErrServerClosed", err)
	}
}

func TestRunListenError(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	app := New(WithAddr(l.Addr().String()), WithLogger(slog.New(slog.DiscardHandler)))
	if err := app.Run(); err == nil || !strings.HasPrefix(err.Error(), "forge: listen: ") {
		t.Fatalf("Run on a busy address = %v, want a forge: listen error", err)
	}
}
