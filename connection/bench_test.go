package connection

import (
	"bytes"
	"context"
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

	"github.com/forgekit/forge/internal/testkit"
)

// BenchmarkEcho measures one round trip (client write, server echo, client
// read) over loopback, for forge's Conn and for a raw gorilla echo loop with
// the same client, so the two can be compared within one run.
func BenchmarkEcho(b *testing.B) {
	payload := bytes.Repeat([]byte("e"), 64)
	servers := map[string]http.HandlerFunc{
		"forge": func(w http.ResponseWriter, r *http.Request) {
			Serve(w, r, &Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, func(c *Conn) error {
				return testkit.Echo(c)
			})
		},
		"gorilla": func(w http.ResponseWriter, r *http.Request) {
			up := websocket.Upgrader{}
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			for {
				typ, msg, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if err := ws.WriteMessage(typ, msg); err != nil {
					return
				}
			}
		},
	}
	for _, name := range []string{"gorilla", "forge"} {
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(servers[name])
			defer srv.Close()
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if err := ws.WriteMessage(websocket.TextMessage, payload); err != nil {
					b.Fatal(err)
				}
				if _, _, err := ws.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
			ws.SetReadDeadline(time.Now().Add(time.Second))
			ws.ReadMessage()
		})
	}
}

// BenchmarkOffer measures fan-out of one prepared message to many
// connections: each iteration offers one message to every member and waits
// until every member has read it. ns/op divided by the member count is the
// cost of one delivery.
func BenchmarkOffer(b *testing.B) {
	for _, members := range []int{100, 1000} {
		b.Run(strings.Repeat("0", 0)+itoa(members), func(b *testing.B) {
			var mu sync.Mutex
			var conns []*Conn
			joined := make(chan struct{}, members)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Serve(w, r, &Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, func(c *Conn) error {
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
					joined <- struct{}{}
					_, err := c.Read()
					return err
				})
			}))
			defer srv.Close()
			url := "ws" + strings.TrimPrefix(srv.URL, "http")
			received := make(chan struct{}, members)
			var clients []*websocket.Conn
			var wg sync.WaitGroup
			for range members {
				ws, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err != nil {
					b.Fatal(err)
				}
				clients = append(clients, ws)
				wg.Go(func() {
					for {
						if _, _, err := ws.ReadMessage(); err != nil {
							return
						}
						received <- struct{}{}
					}
				})
			}
			for range members {
				<-joined
			}
			payload := bytes.Repeat([]byte("b"), 64)
			b.ReportAllocs()
			for b.Loop() {
				pm, err := NewPreparedMessage(TextMessage, payload)
				if err != nil {
					b.Fatal(err)
				}
				mu.Lock()
				for _, c := range conns {
					c.Offer(pm)
				}
				mu.Unlock()
				for range members {
					<-received
				}
			}
			b.StopTimer()
			for _, ws := range clients {
				ws.Close()
			}
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = ctx
		})
	}
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}

// BenchmarkRead measures reading messages with Conn.Read over loopback, for
// a few sizes: the client streams masked frames as fast as the server
// takes them, so ns/op is the server's cost of one message.
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		b.Run(itoa(size), func(b *testing.B) {
			conns := make(chan *Conn, 1)
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Serve(w, r, &Config{Logger: slog.New(slog.DiscardHandler)}, func(c *Conn) error {
					conns <- c
					<-done
					return nil
				})
			}))
			defer srv.Close()
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			c := <-conns
			var burst []byte
			for range max(1, 64<<10/size) {
				burst = append(burst, clientFrame(0x2, bytes.Repeat([]byte("r"), size))...)
			}
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					if _, err := ws.NetConn().Write(burst); err != nil {
						return
					}
				}
			})
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := c.Read(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			ws.NetConn().Close()
			wg.Wait()
			close(done)
		})
	}
}

// BenchmarkSocketConnRead measures the read side of the net.Conn under
// gorilla alone, reading a stream of small frames in 4 KiB chunks as
// gorilla's bufio.Reader does.
func BenchmarkSocketConnRead(b *testing.B) {
	for _, size := range []int{16, 1 << 10} {
		b.Run(itoa(size), func(b *testing.B) {
			var stream []byte
			for range 64 {
				stream = append(stream, clientFrame(0x2, bytes.Repeat([]byte("r"), size))...)
			}
			sc := newSocketConn(&loopConn{data: stream}, time.Second)
			p := make([]byte, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if _, err := io.ReadFull(sc, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loopConn is a net.Conn whose reads return data over and over.
type loopConn struct {
	net.Conn // nil: only Read is called
	data     []byte
	off      int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}
