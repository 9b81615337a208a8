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

	tracker := new(connection.Tracker)
	m := New(Config{
		Logger:  slog.New(slog.DiscardHandler),
		Tracker: tracker,
		Auth:    map[string]auth.Provider{"p": provider},
	})
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

	srv := httptest.NewServer(m)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracker.Shutdown(ctx); err != nil {
			t.Errorf("tracker shutdown: %v", err)
		}
	})
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
