package conformance

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The raw client. It opens TCP and writes the opening handshake itself, and
// encodes every frame byte by byte, so that a case can send what a correct
// client never would: reserved bits and opcodes, unmasked frames,
// oversized or fragmented control frames, non-minimal lengths. A reader
// goroutine decodes what the server sends, checks it against the rules a
// server must follow, and turns it into events.

// Opcodes (RFC 6455 §5.2).
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xA
)

// Reserved bits, in the first header byte.
const (
	rsv1 byte = 0x40
	rsv2 byte = 0x20
	rsv3 byte = 0x10
)

// frame is one frame as the client writes it. The zero value of every
// field is what a correct client sends; the others are for breaking rules.
type frame struct {
	op       byte
	fin      bool
	rsv      byte // rsv1|rsv2|rsv3
	payload  []byte
	unmasked bool   // send without a masking key (§5.1 forbids it)
	zeroKey  bool   // mask with the all-zero key, which is legal
	lenBytes int    // 2 or 8 forces the 16- or 64-bit length form; 0 is minimal
	declared uint64 // with lenBytes 8, the length written instead of len(payload)
}

// encode returns the frame's bytes, masked with a fresh random key.
func (f frame) encode() []byte {
	b0 := f.rsv | f.op&0x0f
	if f.fin {
		b0 |= 0x80
	}
	var maskBit byte = 0x80
	if f.unmasked {
		maskBit = 0
	}
	n := uint64(len(f.payload))
	if f.declared != 0 {
		n = f.declared
	}
	b := make([]byte, 0, 14+len(f.payload))
	switch {
	case f.lenBytes == 8 || (f.lenBytes == 0 && n > 0xffff):
		b = binary.BigEndian.AppendUint64(append(b, b0, maskBit|127), n)
	case f.lenBytes == 2 || (f.lenBytes == 0 && n > 125):
		b = binary.BigEndian.AppendUint16(append(b, b0, maskBit|126), uint16(n))
	default:
		b = append(b, b0, maskBit|byte(n))
	}
	if f.unmasked {
		return append(b, f.payload...)
	}
	var key [4]byte
	if !f.zeroKey {
		binary.LittleEndian.PutUint32(key[:], rand.Uint32()|1)
	}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, f.payload...)
	mask(b[start:], key)
	return b
}

// mask XORs p with key (§5.3), eight bytes at a time.
func mask(p []byte, key [4]byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
		p = p[8:]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// event is something the server sent, as the reader saw it.
type event struct {
	kind   eventKind
	op     byte   // evMessage: opText or opBinary
	data   []byte // evMessage, evPing, evPong: the payload; evClose: the reason
	code   int    // evClose: the status code, 0 when the frame had none
	detail string // evViolation: what the server did wrong; evEOF: how TCP ended
}

type eventKind int

const (
	evMessage   eventKind = iota // a whole data message
	evPing                       // a ping (the client does not answer it)
	evPong                       // a pong
	evClose                      // a close frame
	evViolation                  // the server broke a rule; reading stops
	evEOF                        // the server closed TCP (FIN or reset)
)

func (e event) String() string {
	switch e.kind {
	case evMessage:
		if e.op == opText {
			return "text(" + brief(e.data) + ")"
		}
		return "binary(" + brief(e.data) + ")"
	case evPing:
		return "ping(" + brief(e.data) + ")"
	case evPong:
		return "pong(" + brief(e.data) + ")"
	case evClose:
		if e.code == 0 {
			return "close(no code)"
		}
		return fmt.Sprintf("close(%d)", e.code)
	case evViolation:
		return "violation(" + e.detail + ")"
	}
	return "tcp-closed"
}

// brief shows a payload short enough for a report line.
func brief(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%d bytes", len(b))
	}
	if utf8.Valid(b) {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%x", b)
}

// client is one raw connection to the server under test. The case's
// goroutine writes and consumes events; the reader goroutine owns br and
// the decompression state.
type client struct {
	nc      net.Conn
	br      *bufio.Reader
	deflate *deflateParams // negotiated permessage-deflate; nil without
	events  chan event     // closed when the reader ends
	gone    atomic.Bool    // the server sent a close frame or ended TCP

	// Owned by the reader.
	history []byte // the server's last 32 KiB of uncompressed output, for context takeover
}

// errServerGone stops a script once the server has closed: a client sends
// no more frames after the server's close. errFrameCut says that it
// stopped inside a frame, after which no frame can follow.
var (
	errServerGone = errors.New("server closed the connection")
	errFrameCut   = errors.New("server closed the connection while a frame was being written")
)

const (
	handshakeTimeout = 10 * time.Second
	writeTimeout     = 10 * time.Second
	maxFrame         = 64 << 20 // the client refuses larger server frames
	websocketGUID    = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// dial connects to addr and performs the opening handshake (§4.1) for
// path, offering extensions when offer is not empty. It returns the
// server's Sec-WebSocket-Extensions answer.
func dial(addr, path, offer string) (*client, string, error) {
	nc, err := net.DialTimeout("tcp", addr, handshakeTimeout)
	if err != nil {
		return nil, "", err
	}
	var k [16]byte
	binary.LittleEndian.PutUint64(k[:], rand.Uint64())
	binary.LittleEndian.PutUint64(k[8:], rand.Uint64())
	key := base64.StdEncoding.EncodeToString(k[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, addr)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if offer != "" {
		fmt.Fprintf(&req, "Sec-WebSocket-Extensions: %s\r\n", offer)
	}
	req.WriteString("\r\n")

	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	fail := func(err error) (*client, string, error) {
		nc.Close()
		return nil, "", fmt.Errorf("handshake: %w", err)
	}
	if _, err := io.WriteString(nc, req.String()); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return fail(err)
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return fail(fmt.Errorf("status %s", resp.Status))
	case !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"):
		return fail(fmt.Errorf("Upgrade header %q", resp.Header.Get("Upgrade")))
	case !headerHasToken(resp.Header, "Connection", "upgrade"):
		return fail(fmt.Errorf("Connection header %q", resp.Header.Get("Connection")))
	case resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]):
		return fail(errors.New("wrong Sec-WebSocket-Accept"))
	}
	nc.SetDeadline(time.Time{})
	c := &client{nc: nc, br: br, events: make(chan event, 4096)}
	return c, strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", "), nil
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// start runs the reader.
func (c *client) start() { go c.readLoop() }

// write sends a script's frames in order, each in pieces of at most chunk
// bytes (0: 256 KiB). Once the server has closed it stops, and a frame
// it was writing is cut off (errFrameCut): a megabyte frame the server
// refused at its header is not sent whole. It reports whether a close
// frame went out.
func (c *client) write(frames []frame, chunk int) (sentClose bool, err error) {
	for _, f := range frames {
		if c.gone.Load() {
			return sentClose, errServerGone
		}
		if err := c.writeBytes(f.encode(), chunk, true); err != nil {
			return sentClose, err
		}
		sentClose = sentClose || f.op == opClose
	}
	return sentClose, nil
}

// writeFrame sends one frame whatever the server did: the client's answer
// to the server's close.
func (c *client) writeFrame(f frame) error { return c.writeBytes(f.encode(), 0, false) }

func (c *client) writeBytes(b []byte, chunk int, stopIfGone bool) error {
	if chunk <= 0 {
		chunk = 256 << 10
	}
	for first := true; len(b) > 0; first = false {
		if stopIfGone && !first && c.gone.Load() {
			return errFrameCut
		}
		n := min(chunk, len(b))
		c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// shutdown closes TCP and waits for the reader to end.
func (c *client) shutdown() {
	c.nc.Close()
	for range c.events {
	}
}

// header is a decoded frame header.
type header struct {
	fin     bool
	rsv, op byte
	masked  bool
	length  uint64
	minimal bool // the length used the shortest form
}

func (c *client) readHeader() (header, error) {
	var b [8]byte
	if _, err := io.ReadFull(c.br, b[:2]); err != nil {
		return header{}, err
	}
	h := header{fin: b[0]&0x80 != 0, rsv: b[0] & 0x70, op: b[0] & 0x0f, masked: b[1]&0x80 != 0, minimal: true}
	switch n := b[1] & 0x7f; n {
	case 126:
		if _, err := io.ReadFull(c.br, b[:2]); err != nil {
			return header{}, err
		}
		h.length = uint64(binary.BigEndian.Uint16(b[:2]))
		h.minimal = h.length > 125
	case 127:
		if _, err := io.ReadFull(c.br, b[:8]); err != nil {
			return header{}, err
		}
		h.length = binary.BigEndian.Uint64(b[:8])
		h.minimal = h.length > 0xffff
	default:
		h.length = uint64(n)
	}
	if h.masked {
		if _, err := io.ReadFull(c.br, b[:4]); err != nil {
			return header{}, err
		}
	}
	return h, nil
}

// readLoop decodes the server's frames into events until TCP ends or the
// server breaks a rule.
func (c *client) readLoop() {
	defer close(c.events)
	var (
		msg        []byte
		msgOp      byte // opText or opBinary while a message is in progress
		compressed bool
		closed     bool // the server's close frame arrived
	)
	violation := func(format string, args ...any) {
		c.gone.Store(true)
		c.events <- event{kind: evViolation, detail: fmt.Sprintf(format, args...)}
	}
	for {
		h, err := c.readHeader()
		if err == nil && h.length > maxFrame {
			violation("frame of %d bytes", h.length)
			return
		}
		var p []byte
		if err == nil {
			p = make([]byte, h.length)
			_, err = io.ReadFull(c.br, p)
		}
		if err != nil {
			c.gone.Store(true)
			c.events <- event{kind: evEOF, detail: err.Error()}
			return
		}
		control := h.op >= opClose
		switch {
		case closed:
			violation("frame (opcode %d) after the server's close frame (RFC 6455 §5.5.1)", h.op)
			return
		case h.masked:
			violation("masked server frame (RFC 6455 §5.1)")
			return
		case !h.minimal:
			violation("non-minimal length encoding of %d (RFC 6455 §5.2)", h.length)
			return
		case h.rsv&(rsv2|rsv3) != 0:
			violation("RSV2/RSV3 set on a server frame")
			return
		case h.rsv&rsv1 != 0 && (c.deflate == nil || control || h.op == opCont):
			violation("RSV1 on a server frame (opcode %d) where permessage-deflate does not define it (RFC 7692 §6)", h.op)
			return
		case (h.op > opBinary && h.op < opClose) || h.op > opPong:
			violation("reserved opcode %d from the server", h.op)
			return
		case control && (!h.fin || h.length > 125):
			violation("control frame fragmented or over 125 bytes (RFC 6455 §5.5)")
			return
		case h.op == opCont && msgOp == 0:
			violation("continuation frame without a message in progress")
			return
		case (h.op == opText || h.op == opBinary) && msgOp != 0:
			violation("new data frame while a fragmented message is in progress (RFC 6455 §5.4)")
			return
		}
		switch h.op {
		case opPing:
			c.events <- event{kind: evPing, data: p}
			continue
		case opPong:
			c.events <- event{kind: evPong, data: p}
			continue
		case opClose:
			ev := event{kind: evClose}
			switch {
			case len(p) == 1:
				violation("close frame with a 1-byte payload (RFC 6455 §5.5.1)")
				return
			case len(p) >= 2:
				ev.code = int(binary.BigEndian.Uint16(p))
				ev.data = p[2:]
				if !sendableCode(ev.code) {
					violation("close code %d may not be sent (RFC 6455 §7.4)", ev.code)
					return
				}
				if !utf8.Valid(ev.data) {
					violation("close reason is not UTF-8 (RFC 6455 §5.5.1)")
					return
				}
			}
			closed = true
			c.gone.Store(true)
			c.events <- ev
			continue
		case opText, opBinary:
			msgOp, compressed, msg = h.op, h.rsv&rsv1 != 0, nil
		}
		if msg == nil {
			msg = p // a message in one frame is not copied
		} else {
			msg = append(msg, p...)
		}
		if !h.fin {
			continue
		}
		data := msg
		if compressed {
			if data, err = c.inflate(msg); err != nil {
				violation("compressed message does not inflate: %v", err)
				return
			}
		}
		if msgOp == opText && !utf8.Valid(data) {
			violation("text message is not UTF-8 (RFC 6455 §8.1)")
			return
		}
		c.events <- event{kind: evMessage, op: msgOp, data: data}
		msgOp, msg = 0, nil
	}
}

// sendableCode reports whether an endpoint may put code in a close frame:
// the codes RFC 6455 §7.4.1 defines for use, those registered with IANA
// since (1012-1014), and the ranges of §7.4.2 open to libraries and
// applications.
func sendableCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}
