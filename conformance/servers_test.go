package conformance

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
)

// readLimit is the largest message every server under test accepts.
const readLimit = 16 << 20

const echoPath = "/echo"

// server is an echo server under test.
type server struct {
	name string
	addr string // host:port
}

// startForge serves a forge echo route: each message goes back with its
// own opcode. Only the read limit and, with compress, permessage-deflate
// differ from forge's defaults. With listen, the handler hands its reads to
// Connection.Listen, so that the connection parks between messages.
func startForge(t *testing.T, compress, listen bool) *server {
	opts := []forge.WebSocketOption{forge.WithReadLimit(readLimit)}
	name := "forge"
	if compress {
		opts = append(opts, forge.WithCompression(0))
		name += "+deflate"
	}
	if listen {
		name += "+listen"
	}
	app := forge.New(forge.WithAppName("conformance"), forge.WithLogger(slog.New(slog.DiscardHandler)))
	app.Router().WebSocket(echoPath, func(_ forge.Context, conn forge.Connection) error {
		ctx := context.Background()
		if listen {
			return conn.Listen(func(typ forge.MessageType, data []byte) error {
				return conn.WriteMessage(ctx, typ, data)
			})
		}
		for {
			typ, data, err := conn.ReadMessage(ctx)
			if err != nil {
				return err
			}
			if err := conn.WriteMessage(ctx, typ, data); err != nil {
				return err
			}
		}
	}, opts...)
	srv := forgetest.Start(t, app)
	return &server{name: name, addr: strings.TrimPrefix(srv.URL, "http://")}
}

// startGorilla serves the reference: gorilla/websocket's own echo, as its
// Autobahn example server writes it (the application checks that text is
// UTF-8, which gorilla leaves to it), with the same read limit.
func startGorilla(t *testing.T, compress bool) *server {
	up := websocket.Upgrader{EnableCompression: compress, CheckOrigin: func(*http.Request) bool { return true }}
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(readLimit)
		for {
			typ, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if typ == websocket.TextMessage && !utf8.Valid(data) {
				c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
				return
			}
			if err := c.WriteMessage(typ, data); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		handlers.Wait()
	})
	name := "gorilla"
	if compress {
		name += "+deflate"
	}
	return &server{name: name, addr: strings.TrimPrefix(srv.URL, "http://")}
}
