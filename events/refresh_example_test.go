package events_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/router"
)

// Refresh carries a fresh token in-band.
type Refresh struct {
	Token string `json:"token" required:"true"`
}

// Session says whose credentials a connection now holds.
type Session struct {
	Subject string `json:"subject"`
}

// A client renews its credentials in a message before they expire, and the
// connection goes on as the new token's principal: Context.RefreshAuth
// checks the token with the route's providers.
func ExampleContext_RefreshAuth() {
	secret := []byte("an example secret of 32 bytes!!!")
	jwtAuth, _ := auth.JWT(auth.JWTConfig{HMACSecret: secret})
	token := func(sub string) string {
		t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()})
		s, _ := t.SignedString(secret)
		return s
	}

	d := events.New(events.WithLogger(slog.New(slog.DiscardHandler)))
	events.OnRequest(d, "refresh", func(c *events.Context, r Refresh) (Session, error) {
		p, err := c.RefreshAuth(r.Token)
		if err != nil {
			return Session{}, events.NewError("unauthorized", "the token is not accepted")
		}
		return Session{Subject: p.Subject}, nil
	})
	events.OnRequest(d, "whoami", func(c *events.Context, _ struct{}) (Session, error) {
		p, _ := auth.PrincipalFrom(c.ConnContext())
		return Session{Subject: p.Subject}, nil
	})

	tracker := &connection.Tracker{}
	mux := router.New(router.Config{Logger: slog.New(slog.DiscardHandler), Tracker: tracker,
		Auth: map[string]auth.Provider{"jwt": jwtAuth}})
	events.Route(mux, "/ws", d, router.WithAuth("jwt"), router.WithAuthExpiry())
	url, stop := serve(mux, tracker)
	defer stop()

	ws, _, err := websocket.DefaultDialer.DialContext(context.Background(), url+"/ws",
		http.Header{"Authorization": {"Bearer " + token("ann")}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	for _, msg := range []string{
		`{"event":"whoami","id":"1"}`,
		`{"event":"refresh","id":"2","payload":{"token":"` + token("ann-renewed") + `"}}`,
		`{"event":"refresh","id":"3","payload":{"token":"forged"}}`,
		`{"event":"whoami","id":"4"}`,
	} {
		ws.WriteMessage(websocket.TextMessage, []byte(msg))
		_, answer, _ := ws.ReadMessage()
		fmt.Println(string(answer))
	}
	// Output:
	// {"event":"whoami.ack","id":"1","payload":{"subject":"ann"}}
	// {"event":"refresh.ack","id":"2","payload":{"subject":"ann-renewed"}}
	// {"event":"error","id":"3","payload":{"code":"unauthorized","message":"the token is not accepted"}}
	// {"event":"whoami.ack","id":"4","payload":{"subject":"ann-renewed"}}
}
