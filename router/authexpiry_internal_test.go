package router

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
)

// TestRefreshAuthAfterListeningEnd refreshes the credentials of a listening
// connection (a Listen callback's RefreshAuth) while the connection ends:
// the provider is still checking the fresh token when the connection's
// context ends (the expiry timer firing, Shutdown, the server closing it),
// which stops the expiry timer. The refresh must not arm it again: the
// timer would keep the ended connection (and what its context holds)
// alive until the new expiry, and then call CloseWith on it.
func TestRefreshAuthAfterListeningEnd(t *testing.T) {
	checking := make(chan struct{})
	provider := auth.Func(func(r *http.Request) (*auth.Principal, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer first":
			return &auth.Principal{Subject: "ann", ExpiresAt: time.Now().Add(time.Hour)}, nil
		case "Bearer fresh":
			close(checking)
			<-r.Context().Done() // the connection ends while the token is checked
			return &auth.Principal{Subject: "ann", ExpiresAt: time.Now().Add(time.Hour)}, nil
		}
		return nil, auth.ErrNoCredentials
	}, "Bearer", apidoc.SecurityScheme{Type: "http", Scheme: "bearer"})

	m, tracker := authMux(provider)
	type state struct {
		a    *authSession
		conn connection.Connection
	}
	opened := make(chan state, 1)
	refreshed := make(chan error, 1)
	m.WebSocket("/ws", func(ctx Context, conn connection.Connection) error {
		opened <- state{ctx.(*reqContext).auth, conn}
		return conn.Listen(func(connection.MessageType, []byte) error {
			_, err := RefreshAuth(ctx, "fresh")
			refreshed <- err
			return err
		})
	}, WithAuth("p"), WithAuthExpiry())

	srv := serveAuthMux(t, m, tracker)
	ws := testkit.Dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", http.Header{"Authorization": {"Bearer first"}})
	defer ws.Close()
	st := <-opened
	if err := ws.WriteMessage(1, []byte("refresh")); err != nil {
		t.Fatal(err)
	}
	<-checking
	st.conn.Close()
	if err := <-refreshed; err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("refresh: %v", err)
	}

	st.a.mu.Lock()
	armed := st.a.timer.Stop()
	st.a.mu.Unlock()
	if armed {
		t.Fatal("the expiry timer of a connection that ended is armed again by a refresh")
	}
}

// TestRefreshAuthMovesExpiry checks that the expiry WithAuthExpiry enforces
// is the refreshed principal's, also when only one of the two principals
// has one: a refresh to credentials that never expire lifts the old
// deadline, and one to credentials that expire sets a deadline on a
// connection opened without one.
func TestRefreshAuthMovesExpiry(t *testing.T) {
	provider := auth.Func(func(r *http.Request) (*auth.Principal, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer soon":
			return &auth.Principal{Subject: "ann", ExpiresAt: time.Now().Add(300 * time.Millisecond)}, nil
		case "Bearer never":
			return &auth.Principal{Subject: "ann"}, nil
		}
		return nil, auth.ErrNoCredentials
	}, "Bearer", apidoc.SecurityScheme{Type: "http", Scheme: "bearer"})
	m, tracker := authMux(provider)
	// The handler refreshes to the token in the query, then echoes.
	m.WebSocket("/ws", func(ctx Context, conn connection.Connection) error {
		if _, err := RefreshAuth(ctx, ctx.Query("to")); err != nil {
			return err
		}
		for {
			msg, err := conn.Read()
			if err != nil {
				return err
			}
			if err := conn.Write(msg); err != nil {
				return err
			}
		}
	}, WithAuth("p"), WithAuthExpiry())
	srv := serveAuthMux(t, m, tracker)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"

	t.Run("to credentials that never expire", func(t *testing.T) {
		ws := testkit.Dial(t, url+"?to=never", http.Header{"Authorization": {"Bearer soon"}})
		defer ws.Close()
		time.Sleep(600 * time.Millisecond) // past the first token's expiry
		if err := ws.WriteMessage(1, []byte("still here")); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(testkit.Timeout))
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "still here" {
			t.Fatalf("after the first token's expiry: %q, %v; want the echo", msg, err)
		}
	})
	t.Run("from credentials that never expire", func(t *testing.T) {
		ws := testkit.Dial(t, url+"?to=soon", http.Header{"Authorization": {"Bearer never"}})
		defer ws.Close()
		ws.SetReadDeadline(time.Now().Add(testkit.Timeout))
		if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, int(connection.CloseTokenExpired)) {
			t.Fatalf("read: %v; want close %d at the refreshed token's expiry", err, connection.CloseTokenExpired)
		}
	})
}

// authMux is a Mux with provider registered as "p", and its Tracker.
func authMux(provider auth.Provider) (*Mux, *connection.Tracker) {
	tracker := new(connection.Tracker)
	return New(Config{
		Logger:  slog.New(slog.DiscardHandler),
		Tracker: tracker,
		Auth:    map[string]auth.Provider{"p": provider},
	}), tracker
}

// serveAuthMux serves m until the test ends, then shuts its connections down.
func serveAuthMux(t *testing.T, m *Mux, tracker *connection.Tracker) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(m)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracker.Shutdown(ctx); err != nil {
			t.Errorf("tracker shutdown: %v", err)
		}
	})
	return srv
}
