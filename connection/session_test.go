package connection

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestObserveSession(t *testing.T) {
	t.Parallel()
	infos := make(chan SessionInfo, 2)
	var order []string
	s := newServer(t, Config{}, echo)
	inner := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := ObserveSession(r.Context(), func(si SessionInfo) { order = append(order, "outer"); infos <- si })
		ctx = ObserveSession(ctx, func(si SessionInfo) { order = append(order, "inner"); infos <- si })
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
	ws := dial(t, s, nil)
	for _, m := range []string{"one", "three"} {
		ws.WriteMessage(websocket.TextMessage, []byte(m))
		ws.ReadMessage()
	}
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done"))
	readClose(t, ws)
	si := <-infos
	<-infos
	if strings.Join(order, ",") != "inner,outer" {
		t.Fatalf("observers ran %v, want inner first", order)
	}
	if !strings.HasPrefix(si.ID, "ws_") || si.Code != 4000 || si.MessagesIn != 2 || si.BytesIn != 8 || si.MessagesOut != 2 || si.BytesOut != 8 || si.Duration <= 0 {
		t.Fatalf("session %+v", si)
	}
}

func TestMessageRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("error event and drop", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{MessageRate: 0.001, MessageBurst: 2}, echo)
		ws := dial(t, s, nil)
		for _, m := range []string{"a", "b", "c", "d"} {
			ws.WriteMessage(websocket.TextMessage, []byte(m))
		}
		var got []string
		for range 4 {
			_, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(data))
		}
		// Two pass, two are dropped with an error event each; the order of
		// echoes and errors depends on who writes first.
		echoes, errs := 0, 0
		for _, g := range got {
			switch {
			case g == "a" || g == "b":
				echoes++
			case strings.Contains(g, `"code":"rate_limited"`):
				errs++
			default:
				t.Fatalf("unexpected message %q", g)
			}
		}
		if echoes != 2 || errs != 2 {
			t.Fatalf("got %q", got)
		}
		if st := s.tracker.Stats(); st.RateLimited != 2 {
			t.Fatalf("rate limited %d, want 2", st.RateLimited)
		}
	})
	t.Run("close", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{MessageRate: 0.001, MessageBurst: 1, RateLimitClose: true}, echo)
		ws := dial(t, s, nil)
		ws.WriteMessage(websocket.TextMessage, []byte("a"))
		ws.WriteMessage(websocket.TextMessage, []byte("b"))
		if code, reason := readClose(t, ws); code != 1008 || !strings.Contains(reason, "rate") {
			t.Fatalf("close %d %q, want 1008", code, reason)
		}
		_ = context.Background()
	})
}
