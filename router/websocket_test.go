package router_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

var traceKey = &ctxKey{"trace"}

// appendTrace is middleware appending name to a list in the request
// context, visible to WebSocket handlers (response headers are not).
func appendTrace(name string) router.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			prev, _ := r.Context().Value(traceKey).(string)
			if prev != "" {
				prev += ","
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), traceKey, prev+name)))
		})
	}
}

func TestWebSocketEcho(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	m.WebSocket("/ws/chat/:room", func(ctx router.Context, conn connection.Connection) error {
		hello := map[string]string{"room": ctx.Param("room"), "user": ctx.Query("user"), "id": conn.ID()}
		if err := conn.WriteJSON(hello); err != nil {
			return err
		}
		return testkit.Echo(conn)
	})
	url := startServer(t, m, &tracker)
	c := testkit.Dial(t, url+"/ws/chat/lobby?user=ada", nil)
	hello := readText(t, c)
	if !strings.Contains(hello, `"room":"lobby"`) || !strings.Contains(hello, `"user":"ada"`) ||
		!strings.Contains(hello, `"id":"ws_`) {
		t.Fatalf("hello = %s, want room, user and a ws_ id", hello)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != "ping" {
		t.Fatalf("echo = %q, want ping", got)
	}
	if got := tracker.Stats().Accepted; got != 1 {
		t.Fatalf("tracker accepted %d connections, want 1: the router must pass its Tracker", got)
	}
}

func TestWebSocketContextValuesAndMiddleware(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	m.Use(setUser("alice"), appendTrace("app"))
	g := m.Group("/g", router.WithMiddleware(appendTrace("group-opt")))
	g.Use(appendTrace("group-use"))
	g.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		u1, _ := ctx.Context().Value(userKey).(string)
		u2, _ := ctx.Request().Context().Value(userKey).(string)
		u3, _ := conn.Context().Value(userKey).(string)
		tr, _ := ctx.Context().Value(traceKey).(string)
		return conn.WriteJSON([]string{u1, u2, u3, tr})
	}, router.WithMiddleware(appendTrace("route")))

	url := startServer(t, m, &tracker)
	c := testkit.Dial(t, url+"/g/ws", nil)
	want := `["alice","alice","alice","app,group-opt,group-use,route"]`
	if got := readText(t, c); got != want {
		t.Fatalf("handler saw %s, want %s", got, want)
	}
}

func TestWebSocketMiddlewareRejectsBeforeUpgrade(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	deny := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", http.StatusUnauthorized)
		})
	}
	called := make(chan struct{}, 1)
	m.WebSocket("/ws", func(router.Context, connection.Connection) error {
		called <- struct{}{}
		return nil
	}, router.WithMiddleware(deny))
	url := startServer(t, m, &tracker)
	_, resp, err := websocket.DefaultDialer.Dial(url+"/ws", nil)
	if err == nil {
		t.Fatal("dial succeeded through a rejecting middleware")
	}
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("response = %v, want 401", resp)
	}
	resp.Body.Close()
	select {
	case <-called:
		t.Fatal("handler ran")
	default:
	}
}

func TestWebSocketContextResponsesFail(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	m.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		var got []string
		for _, err := range []error{
			ctx.JSON(http.StatusOK, "x"),
			ctx.String(http.StatusOK, "x"),
			ctx.NoContent(http.StatusNoContent),
		} {
			if errors.Is(err, http.ErrHijacked) {
				got = append(got, "hijacked")
			} else {
				got = append(got, "err="+errorString(err))
			}
		}
		return conn.WriteJSON(got)
	})
	url := startServer(t, m, &tracker)
	c := testkit.Dial(t, url+"/ws", nil)
	if got, want := readText(t, c), `["hijacked","hijacked","hijacked"]`; got != want {
		t.Fatalf("responses after the upgrade returned %s, want %s", got, want)
	}
}

// TestWebSocketContextDropsResponseWriter checks that a WebSocket
// handler's Context does not hold net/http's writer once the request is
// upgraded: it would keep the server connection's buffers (8 KB) alive for
// as long as the handler keeps its Context.
func TestWebSocketContextDropsResponseWriter(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	m.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		w := ctx.ResponseWriter()
		_, hijacker := w.(http.Hijacker)
		_, err := w.Write([]byte("x"))
		return conn.WriteJSON(map[string]any{"hijacker": hijacker, "write": errorString(err)})
	})
	url := startServer(t, m, &tracker)
	c := testkit.Dial(t, url+"/ws", nil)
	if got, want := readText(t, c), `{"hijacker":false,"write":"http: connection has been hijacked"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func errorString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestWebSocketContextEndsWithConnection(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	m := newMux(t, router.Config{Tracker: &tracker})
	ended := make(chan error, 1)
	m.WebSocket("/ws", func(ctx router.Context, conn connection.Connection) error {
		live := errorString(ctx.Context().Err()) + "," + errorString(ctx.Request().Context().Err())
		if err := conn.Write([]byte(live)); err != nil {
			return err
		}
		_, _ = conn.Read() // until the client closes
		for _, c := range []context.Context{ctx.Context(), ctx.Request().Context()} {
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				ended <- errors.New("handler context still live after the connection ended")
				return nil
			}
		}
		ended <- nil
		return nil
	})
	url := startServer(t, m, &tracker)
	c := testkit.Dial(t, url+"/ws", nil)
	if got := readText(t, c); got != "<nil>,<nil>" {
		t.Fatalf("handler contexts while the connection is open: %s, want both live", got)
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketSettingsReachConnection(t *testing.T) {
	t.Parallel()
	var tracker connection.Tracker
	var logs testkit.Buffer
	m := newMux(t, router.Config{
		Tracker: &tracker,
		Logger:  testkit.TextLogger(&logs),
		Defaults: []router.GroupOption{
			router.WithOrigins("https://good.example"),
			router.WithSubprotocols("default.v1"),
		},
	})
	sub := func(ctx router.Context, conn connection.Connection) error {
		return conn.Write([]byte(conn.Subprotocol()))
	}
	g := m.Group("/g", router.WithSubprotocols("group.v2", "group.v1"))
	g.WebSocket("/sub", sub)
	m.WebSocket("/default", sub)
	m.WebSocket("/limited", func(ctx router.Context, conn connection.Connection) error {
		_, err := conn.Read()
		return err
	}, router.WithReadLimit(8))
	m.WebSocket("/fail", func(router.Context, connection.Connection) error {
		return errors.New("handler exploded")
	})
	url := startServer(t, m, &tracker)

	t.Run("group overrides defaults", func(t *testing.T) {
		c := testkit.Dial(t, url+"/g/sub", http.Header{"Sec-WebSocket-Protocol": {"default.v1, group.v1, group.v2"}})
		if got := readText(t, c); got != "group.v2" {
			t.Fatalf("subprotocol = %q, want group.v2", got)
		}
	})
	t.Run("defaults apply", func(t *testing.T) {
		c := testkit.Dial(t, url+"/default", http.Header{"Sec-WebSocket-Protocol": {"group.v2, default.v1"}})
		if got := readText(t, c); got != "default.v1" {
			t.Fatalf("subprotocol = %q, want default.v1", got)
		}
	})
	t.Run("origins from defaults", func(t *testing.T) {
		testkit.Dial(t, url+"/default", http.Header{"Origin": {"https://good.example"}})
		_, resp, err := websocket.DefaultDialer.Dial(url+"/default", http.Header{"Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign origin: err %v, response %v; want 403", err, resp)
		}
		resp.Body.Close()
	})
	t.Run("route read limit", func(t *testing.T) {
		c := testkit.Dial(t, url+"/limited", nil)
		if err := c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 100))); err != nil {
			t.Fatal(err)
		}
		_, _, err := c.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("read after an oversized message: %v, want close 1009", err)
		}
	})
	t.Run("handler error logged with route", func(t *testing.T) {
		c := testkit.Dial(t, url+"/fail", nil)
		_, _, err := c.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseInternalServerErr) {
			t.Fatalf("read: %v, want close 1011", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs.String(), "handler exploded") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		log := logs.String()
		i := strings.Index(log, "handler exploded")
		if i < 0 {
			t.Fatalf("log lacks the handler's error: %q", log)
		}
		line := log[strings.LastIndex(log[:i], "\n")+1:]
		if !strings.Contains(line, "route=/fail") {
			t.Fatalf("log line %q lacks route=/fail", line)
		}
	})
}
