package connection

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestDeflateAcceptable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		offer string
		want  bool
	}{
		{"permessage-deflate", true},
		{"permessage-deflate; client_max_window_bits", true},
		{"permessage-deflate; client_max_window_bits=10", true},
		{`permessage-deflate; client_max_window_bits="15"`, true},
		{"permessage-deflate; client_no_context_takeover; server_no_context_takeover", true},
		{"permessage-deflate;server_no_context_takeover ;client_max_window_bits = 8", true},
		{"PerMessage-Deflate; Client_Max_Window_Bits", true},
		{"x-unknown-extension, permessage-deflate", true},
		{`x-webkit; q="a\bc", permessage-deflate`, true},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", true},
		{", permessage-deflate,", true},
		{"", false},
		{"x-unknown-extension", false},
		// gorilla deflates with a full window and cannot say so: declined.
		{"permessage-deflate; server_max_window_bits=15", false},
		{"permessage-deflate; server_max_window_bits=10", false},
		// Invalid (RFC 7692 §7.1): declined.
		{"permessage-deflate; server_max_window_bits=16", false},
		{"permessage-deflate; server_max_window_bits=7", false},
		{"permessage-deflate; server_max_window_bits", false},
		{"permessage-deflate; client_max_window_bits=16", false},
		{"permessage-deflate; client_max_window_bits=010", false},
		{"permessage-deflate; client_max_window_bits=abc", false},
		{`permessage-deflate; client_max_window_bits="1 0"`, false},
		{"permessage-deflate; unknown_parameter", false},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", false},
		{"permessage-deflate; client_no_context_takeover=1", false},
		// Not an extension list (RFC 6455 §9.1): nothing is offered.
		{"permessage-deflate;", false},
		{"permessage-deflate garbage", false},
		{`permessage-deflate; client_max_window_bits="10`, false},
		{"permessage-deflate, x=1", false},
		{`x-webkit; q="a,b", permessage-deflate`, false}, // a quoted value must be a token
	}
	for _, tt := range tests {
		if got := deflateAcceptable([]string{tt.offer}); got != tt.want {
			t.Errorf("deflateAcceptable(%q) = %v, want %v", tt.offer, got, tt.want)
		}
	}
	if !deflateAcceptable([]string{"permessage-deflate; unknown_parameter", "permessage-deflate"}) {
		t.Error("a valid offer in a second header line is not found")
	}
}

// FuzzDeflateAcceptable: any value parses without a panic, and an offer
// found acceptable names permessage-deflate.
func FuzzDeflateAcceptable(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate; client_max_window_bits",
		`permessage-deflate; client_max_window_bits="1\5", x`,
		"permessage-deflate; server_max_window_bits=10, permessage-deflate",
		"a;b=c;d, ,e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if deflateAcceptable([]string{s}) && !strings.Contains(strings.ToLower(s), "permessage-deflate") {
			t.Fatalf("%q found acceptable", s)
		}
	})
}

// TestDeflateNegotiation: an offer gorilla's answer accepts gets it; any
// other offer is declined, by an answer without the extension (RFC 7692
// §5), and the connection works uncompressed. The request the handler
// sees keeps the client's offer.
func TestDeflateNegotiation(t *testing.T) {
	t.Parallel()
	const answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	offers := make(chan string, 1)
	s := newServer(t, Config{Compression: true}, func(c *Conn) error {
		return echo(c)
	})
	inner := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		offers <- r.Header.Get("Sec-WebSocket-Extensions")
	})
	tests := []struct {
		offer, want string
	}{
		{"permessage-deflate; client_max_window_bits", answer},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", answer},
		{"permessage-deflate; server_max_window_bits=15", ""},
		{"permessage-deflate; server_max_window_bits=16", ""},
		{"permessage-deflate; unknown_parameter", ""},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", ""},
		{"permessage-deflate; client_no_context_takeover=1", ""},
	}
	for _, tt := range tests {
		c := dialRaw(t, s, "Sec-WebSocket-Extensions: "+tt.offer)
		if got := c.extensions; got != tt.want {
			t.Errorf("offer %q: answer %q, want %q", tt.offer, got, tt.want)
		}
		if got := <-offers; got != tt.offer {
			t.Errorf("offer %q: the request says %q", tt.offer, got)
		}
		if err := c.write(clientFrame(opText, []byte("plain"))); err != nil {
			t.Fatal(err)
		}
		if op, got, err := c.read(); err != nil || op != opText || string(got) != "plain" {
			t.Fatalf("offer %q: echo: opcode %#x %q, %v", tt.offer, op, got, err)
		}
	}
}

// TestCorkedDeflateKeepsOrder: queued messages, compressed and not, small
// and larger than a cork (compressed ones gorilla writes in several frames
// and several writes), reach a peer that negotiated permessage-deflate
// whole and in order when the writer gathers them (socketConn.round).
func TestCorkedDeflateKeepsOrder(t *testing.T) {
	t.Parallel()
	const n = 300
	msg := func(i int) []byte {
		if i%7 == 0 { // larger than a cork, and poor to compress
			b := make([]byte, corkSize+i*13)
			x := uint32(i + 1)
			for j := range b {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				b[j] = byte(x)
			}
			return b
		}
		return fmt.Appendf(nil, "%04d:%s", i, strings.Repeat("abc", i*3))
	}
	s := newServer(t, Config{Compression: true, CompressionMinSize: 64, QueueBytes: 8 << 20}, func(c *Conn) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel() // a ctx that can end: every message is queued
		for i := range n {
			if i%5 == 1 {
				pm, err := NewPreparedMessage(BinaryMessage, msg(i))
				if err != nil {
					return err
				}
				if !c.Offer(pm) {
					return fmt.Errorf("offer %d refused", i)
				}
				continue
			}
			if err := c.WriteMessage(ctx, BinaryMessage, msg(i)); err != nil {
				return err
			}
		}
		_, err := c.Read()
		return err
	})
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: hangGuard}
	ws, _, err := d.Dial(s.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	expectInOrder(t, ws, n, msg)
}
