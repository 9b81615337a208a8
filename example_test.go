package forge_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
)

// A REST route with a path parameter, served through Handler.
func Example() {
	app := forge.New(forge.WithAppName("greeter"), forge.WithLogger(slog.New(slog.DiscardHandler)))
	app.Router().GET("/hello/:name", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, map[string]string{"greeting": "hello " + ctx.Param("name")})
	})

	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/hello/ada")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	// Output: 200 {"greeting":"hello ada"}
}

// Handler errors become RFC 9457 problem responses.
func ExampleNewHTTPError() {
	app := forge.New(forge.WithLogger(slog.New(slog.DiscardHandler)))
	app.Router().GET("/users/{id:[0-9]+}", func(ctx forge.Context) error {
		return forge.NewHTTPError(http.StatusNotFound, "no user "+ctx.Param("id"))
	})

	rec := httptest.NewRecorder()
	app.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/users/42", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
	// Output:
	// 404 application/problem+json
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"no user 42"}
}

// Groups share a prefix, options and middleware.
func ExampleRouter_group() {
	app := forge.New(forge.WithLogger(slog.New(slog.DiscardHandler)))
	api := app.Router().Group("/api/v1", forge.WithTags("v1"))
	api.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-API-Version", "1")
			next.ServeHTTP(w, r)
		})
	})
	api.GET("/status", func(ctx forge.Context) error {
		return ctx.String(http.StatusOK, "up")
	})

	rec := httptest.NewRecorder()
	app.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/status", nil))
	fmt.Println(rec.Code, rec.Header().Get("X-API-Version"), rec.Body.String())
	// Output: 200 1 up
}

type ChatMessage struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Content string `json:"content"`
}

// A WebSocket route next to the REST routes, with a gorilla/websocket
// client.
func ExampleRouter_webSocket() {
	app := forge.New(forge.WithAppName("chat-server"), forge.WithLogger(slog.New(slog.DiscardHandler)))
	r := app.Router()
	r.WebSocket("/ws/chat/:room", func(ctx forge.Context, conn forge.Connection) error {
		user := ctx.Query("user")
		for {
			var in ChatMessage
			if err := conn.ReadJSON(&in); err != nil {
				return err
			}
			out := ChatMessage{Type: "message", User: user, Content: ctx.Param("room") + ": " + in.Content}
			if err := conn.WriteJSON(out); err != nil {
				return err
			}
		}
	},
		forge.WithSummary("Chat room"),
		forge.WithTags("chat"),
		forge.WithWebSocketMessages(&ChatMessage{}, &ChatMessage{}),
	)

	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	defer func() {
		// Close every connection with 1001 and wait for the handlers.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.Shutdown(ctx)
	}()

	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat/lobby?user=ada"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_ = c.WriteJSON(ChatMessage{Content: "hi"})
	var reply ChatMessage
	if err := c.ReadJSON(&reply); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s from %s: %s\n", reply.Type, reply.User, reply.Content)
	// Output: message from ada: lobby: hi
}

// A route for many mostly idle connections: the handler hands its reads to
// Listen and returns, and an idle connection then holds no goroutine. What
// a reading handler would defer goes in OnListenEnd.
func ExampleConnection_listen() {
	var online atomic.Int64
	ended := make(chan error, 1)
	app := forge.New(forge.WithAppName("notify"), forge.WithLogger(slog.New(slog.DiscardHandler)))
	app.Router().WebSocket("/ws/notify", func(ctx forge.Context, conn forge.Connection) error {
		online.Add(1)
		return conn.Listen(func(typ forge.MessageType, msg []byte) error {
			return conn.Write(append([]byte("ack: "), msg...)) // one call at a time, in order
		}, forge.OnListenEnd(func(err error) {
			online.Add(-1)
			ended <- err
		}))
	})

	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.Shutdown(ctx)
	}()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/notify", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, m := range []string{"one", "two"} {
		_ = c.WriteMessage(websocket.TextMessage, []byte(m))
		_, reply, err := c.ReadMessage()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string(reply))
	}
	fmt.Println("online:", online.Load())
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	fmt.Println("ended with close code", forge.CloseStatus(<-ended), "online:", online.Load())
	// Output:
	// ack: one
	// ack: two
	// online: 1
	// ended with close code 1000 online: 0
}
