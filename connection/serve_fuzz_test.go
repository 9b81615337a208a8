package connection

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzServer runs an echo route behind Serve on loopback for a fuzz target,
// with small limits so that short inputs reach them.
type fuzzServer struct {
	*httptest.Server
	tracker *Tracker
	ends    chan error // handler results
}

func newFuzzServer(f *testing.F, cfg Config) *fuzzServer {
	s := &fuzzServer{tracker: &Tracker{}, ends: make(chan error, 1024)}
	cfg.Tracker = s.tracker
	cfg.Logger = slog.New(slog.DiscardHandler)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, &cfg, func(c *Conn) error {
			err := echo(c)
			s.ends <- err
			return err
		})
	}))
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		s.tracker.Shutdown(ctx)
		s.Server.Close()
	})
	return s
}

// serverFrame is one frame the server sent.
type serverFrame struct {
	b0      byte
	payload []byte
}

// readServerFrames reads every frame until the server closes the TCP
// connection, checking that each is a frame a server may send: unmasked,
// a known opcode, and RSV1 only where deflate allows it.
func readServerFrames(t *testing.T, br *bufio.Reader, deflate bool) []serverFrame {
	t.Helper()
	var frames []serverFrame
	inMessage := false
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
				return frames
			}
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		if hdr[1]&0x80 != 0 {
			t.Fatalf("server frame %x is masked", hdr)
		}
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				t.Fatalf("frame length: %v", err)
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				t.Fatalf("frame length: %v", err)
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 1<<20 {
			t.Fatalf("server frame of %d bytes, above anything echoed", n)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			t.Fatalf("frame payload: %v", err)
		}
		b0 := hdr[0]
		op := b0 & 0x0f
		switch {
		case b0&0x30 != 0:
			t.Fatalf("server frame %#x sets RSV2 or RSV3", b0)
		case op >= 0x8 && (b0&0x80 == 0 || b0&0x40 != 0 || n > 125):
			t.Fatalf("control frame %#x of %d bytes is fragmented, compressed or too long", b0, n)
		case op == 0x1 || op == 0x2:
			if inMessage {
				t.Fatalf("data frame %#x inside a fragmented message", b0)
			}
			if b0&0x40 != 0 && !deflate {
				t.Fatalf("compressed frame %#x without deflate", b0)
			}
			inMessage = b0&0x80 == 0
		case op == 0x0:
			if !inMessage || b0&0x40 != 0 {
				t.Fatalf("continuation %#x out of place", b0)
			}
			inMessage = b0&0x80 == 0
		case op != opClose && op != opPing && op != opPong:
			t.Fatalf("server frame with opcode %#x", op)
		}
		frames = append(frames, serverFrame{b0, p})
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "reset")
}

// closeCodeOK reports whether the server may send code in a close frame
// (RFC 6455 §7.4): not 1004-1006 or 1015, and in a defined range.
func closeCodeOK(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// FuzzServeFrames sends arbitrary bytes after a handshake to an echo
// route, with and without permessage-deflate, and checks what comes back:
// only well-formed server frames, at most one close frame, last, with a
// code a server may send and a UTF-8 reason, uncompressed text that is
// UTF-8, then the end of the TCP connection; and the handler returns.
// The seeds are the frames of RFC 6455's grammar, valid and not.
func FuzzServeFrames(f *testing.F) {
	masked := func(b0 byte, payload []byte, key [4]byte) []byte {
		fr := clientFragment(b0, payload)
		body := fr[len(fr)-len(payload):]
		copy(fr[len(fr)-len(payload)-4:], key[:])
		for i := range body {
			body[i] ^= key[i%4]
		}
		return fr
	}
	seeds := [][]byte{
		clientFrame(opText, []byte("hello")),
		cat(clientFragment(opText, []byte("hel")), clientFrame(opPing, []byte("p")), clientFragment(0x80, []byte("lo"))),
		clientFrame(0x2, make([]byte, 300)),
		clientFrame(opText, []byte{0xce, 0xba, 0xe1, 0xbd}), // cut UTF-8
		cat(clientFragment(opText, []byte{0xce}), clientFragment(0x80, []byte{0xba})),
		clientFrame(opClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}),
		clientFrame(opClose, []byte{0x03}),
		clientFrame(opClose, []byte{0x03, 0xed}), // 1005 may not be sent
		clientFrame(opClose, []byte{0x03, 0xe8, 0xff}),
		clientFrame(opPing, make([]byte, 126)),
		clientFragment(opPing, nil),
		clientFrame(0x3, nil),
		clientFragment(0x80, []byte("no start")),
		clientFragment(0x80|0x40|opText, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), // "Hello", deflated
		clientFragment(0x80|0x20|opText, []byte("rsv2")),
		{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, // unmasked
		masked(0x80|opText, []byte("masked"), [4]byte{1, 2, 3, 4}),
		binary.BigEndian.AppendUint64([]byte{0x82, 0xff}, 1<<62),
		clientFrame(opText, make([]byte, 5000)), // over the read limit
		{},
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	plain := newFuzzServer(f, Config{ReadLimit: 4096, PingInterval: -1})
	deflating := newFuzzServer(f, Config{ReadLimit: 4096, PingInterval: -1, Compression: true, CompressionMinSize: 1})
	f.Fuzz(func(t *testing.T, stream []byte, deflate bool) {
		s, extra := plain, ""
		if deflate {
			s, extra = deflating, "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		}
		nc, br, resp := rawHandshake(t, s.Listener.Addr(), extra)
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: status %d", resp.StatusCode)
		}
		negotiated := strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
		if negotiated != deflate {
			t.Fatalf("deflate offered %v, negotiated %v", deflate, negotiated)
		}
		if _, err := nc.Write(stream); err != nil && !isReset(err) {
			t.Fatal(err)
		}
		nc.(*net.TCPConn).CloseWrite() // the rest of the stream is EOF
		frames := readServerFrames(t, br, deflate)
		inCompressed := false
		for i, fr := range frames {
			op := fr.b0 & 0x0f
			if op == 0x1 || op == 0x2 {
				inCompressed = fr.b0&0x40 != 0
			}
			if op == opText && !inCompressed && fr.b0&0x80 != 0 && !utf8.Valid(fr.payload) {
				t.Fatalf("text frame %d is not UTF-8: %q", i, fr.payload)
			}
			if op != opClose {
				continue
			}
			if i != len(frames)-1 {
				t.Fatalf("frame %d of %d is a close frame, not the last", i+1, len(frames))
			}
			if len(fr.payload) == 1 {
				t.Fatalf("close frame with a 1-byte body")
			}
			if len(fr.payload) >= 2 {
				if code := binary.BigEndian.Uint16(fr.payload); !closeCodeOK(code) {
					t.Fatalf("close code %d", code)
				}
				if !utf8.Valid(fr.payload[2:]) {
					t.Fatalf("close reason %q is not UTF-8", fr.payload[2:])
				}
			}
		}
		select {
		case <-s.ends:
		case <-time.After(hangGuard):
			t.Fatal("the handler did not return")
		}
	})
}

// FuzzHandshakeHeaders sends handshakes with arbitrary
// Sec-WebSocket-Protocol and Origin values to a route that requires one of
// its subprotocols and allows one origin pattern. An upgrade must name a
// subprotocol of the route that the client offered, for an origin the
// pattern allows; a refusal must be 400 or 403 as problem+json.
func FuzzHandshakeHeaders(f *testing.F) {
	for _, s := range [][2]string{
		{"chat.v1", "https://app.example.com"},
		{"bearer.abc, chat.v2 , chat.v1", ""},
		{"chat.v1,chat.v2", "https://evil.test"},
		{",,, ,", "null"},
		{"chat.v1 chat.v2", "http://a.example.com:8080"},
		{"CHAT.V1", "https://example.com"},
		{"chat.v1;q=1", "https://a.example.com."},
		{"\"chat.v1\"", "https://[::1]"},
		{"chat.v\u00e9", "https://xn--e-ufa.example.com"},
	} {
		f.Add(s[0], s[1])
	}
	protos := []string{"chat.v2", "chat.v1"}
	patterns := []string{"https://*.example.com"}
	s := newFuzzServer(f, Config{Subprotocols: protos, RequireSubprotocol: true, Origins: patterns, PingInterval: -1})
	f.Fuzz(func(t *testing.T, protocol, origin string) {
		for _, v := range []string{protocol, origin} {
			if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) || v != strings.TrimSpace(v) {
				t.Skip("not a header value net/http passes on")
			}
		}
		extra := ""
		if protocol != "" {
			extra += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
		}
		if origin != "" {
			extra += "Origin: " + origin + "\r\n"
		}
		nc, _, resp := rawHandshake(t, s.Listener.Addr(), extra)
		defer resp.Body.Close()
		var offered []string
		for p := range strings.SplitSeq(protocol, ",") {
			offered = append(offered, strings.TrimSpace(p))
		}
		r := &http.Request{Header: http.Header{}, Host: s.Listener.Addr().String()}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		originOK := originAllowed(r, patterns)
		switch resp.StatusCode {
		case http.StatusSwitchingProtocols:
			got := resp.Header.Get("Sec-WebSocket-Protocol")
			if !slices.Contains(protos, got) || !slices.Contains(offered, got) {
				t.Fatalf("offered %q, upgraded with %q", protocol, got)
			}
			if !originOK {
				t.Fatalf("origin %q upgraded", origin)
			}
			nc.Write(clientFrame(opClose, []byte{0x03, 0xe8}))
			<-s.ends
		case http.StatusBadRequest, http.StatusForbidden:
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("status %d as %q", resp.StatusCode, ct)
			}
			if resp.StatusCode == http.StatusForbidden && originOK {
				t.Fatalf("origin %q refused", origin)
			}
			if resp.StatusCode == http.StatusBadRequest && slices.ContainsFunc(offered, func(p string) bool { return slices.Contains(protos, p) }) && originOK {
				t.Fatalf("offer %q refused", protocol)
			}
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
