package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
)

// allCases returns every case, in ID order within each family. The table
// is built once: its megabyte payloads take seconds under -race. Callers
// must not modify it.
var allCases = sync.OnceValue(func() []*testCase {
	var cs []*testCase
	for _, gen := range []func() []*testCase{
		framingCases, pingCases, reservedBitCases, opcodeCases, fragmentationCases,
		utf8Cases, closeCases, limitCases, compressionCases,
	} {
		cs = append(cs, gen()...)
	}
	return cs
})

// Frames a case sends.

func textFrame(s string) frame         { return frame{op: opText, fin: true, payload: []byte(s)} }
func binFrame(b []byte) frame          { return frame{op: opBinary, fin: true, payload: b} }
func ctlFrame(op byte, p []byte) frame { return frame{op: op, fin: true, payload: p} }

// contFrame is a continuation frame.
func contFrame(p []byte, fin bool) frame { return frame{op: opCont, fin: fin, payload: p} }

// closeFrame is a close frame with code and reason.
func closeFrame(code int, reason string) frame {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return frame{op: opClose, fin: true, payload: append(p, reason...)}
}

// emptyClose is a close frame without a body.
func emptyClose() frame { return frame{op: opClose, fin: true} }

func (f frame) more() frame          { f.fin = false; return f }
func (f frame) withRSV(r byte) frame { f.rsv = r; return f }
func (f frame) lengthIn(n int) frame { f.lenBytes = n; return f }
func (f frame) withoutMask() frame   { f.unmasked = true; return f }

// fragment splits p into a message of op in frames cut at the given
// offsets.
func fragment(op byte, p []byte, cuts ...int) []frame {
	var fs []frame
	prev := 0
	for _, c := range append(cuts, len(p)) {
		fs = append(fs, frame{op: opCont, payload: p[prev:c]})
		prev = c
	}
	fs[0].op = op
	fs[len(fs)-1].fin = true
	return fs
}

// fragmentEvery splits p into frames of size bytes (the last may be
// shorter).
func fragmentEvery(op byte, p []byte, size int) []frame {
	var cuts []int
	for c := size; c < len(p); c += size {
		cuts = append(cuts, c)
	}
	return fragment(op, p, cuts...)
}

// compressed sets RSV1 on the first frame, as permessage-deflate marks a
// compressed message.
func compressed(fs []frame) []frame {
	fs = slices.Clone(fs)
	fs[0].rsv |= rsv1
	return fs
}

// Scripts.

// at once writes frames in one part.
func atOnce(fs ...frame) []part { return []part{{frames: fs}} }

// inPieces writes frames in pieces of n bytes.
func inPieces(n int, fs ...frame) []part { return []part{{frames: fs, chunk: n}} }

// What the server must send.

func textMsg(s string) event     { return event{kind: evMessage, op: opText, data: []byte(s)} }
func binMsg(b []byte) event      { return event{kind: evMessage, op: opBinary, data: b} }
func pongOf(p []byte) event      { return event{kind: evPong, data: p} }
func events(es ...event) []event { return es }

var (
	echo       = outcome{kind: wantEcho}
	closeReply = outcome{kind: wantCloseReply}
)

// fails is the outcome of a case the server must fail, with one of codes.
func fails(codes ...int) outcome { return outcome{kind: wantFail, codes: codes} }

// or accepts other codes as NON-STRICT.
func (o outcome) or(alt ...int) outcome { o.alt = alt; return o }

var (
	protocolError = fails(1002)
	invalidData   = fails(1007).or(1002)
	tooBig        = fails(1009)
)

// Payloads.

// asciiText returns n bytes of printable ASCII, the same for the same n:
// the start of a text that repeats every 4,489 bytes.
func asciiText(n int) string {
	return strings.Repeat(asciiPeriod, n/len(asciiPeriod)+1)[:n]
}

var asciiPeriod = func() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-"
	var b strings.Builder
	for i := range len(alphabet) * len(alphabet) {
		b.WriteByte(alphabet[(i*7+i/len(alphabet))%len(alphabet)])
	}
	return b.String()
}()

// randomBytes returns n pseudo-random bytes, the same for the same n and
// seed.
func randomBytes(n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(n))
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// batch numbers the cases of one family.
type batch struct {
	fam   family
	cases []*testCase
}

func (b *batch) add(tc *testCase) {
	tc.family = b.fam
	b.cases = append(b.cases, tc)
}

// framingCases: RFC 6455 §5.2 framing, the three length encodings, and
// masking (§5.1, §5.3).
func framingCases() []*testCase {
	b := &batch{fam: famFraming}
	lengths := []int{0, 1, 125, 126, 127, 128, 65535, 65536, 65537}
	for i, n := range lengths {
		p := asciiText(n)
		b.add(&testCase{id: fmt.Sprintf("1.1.%d", i+1), title: fmt.Sprintf("text message of %d bytes", n),
			parts: atOnce(textFrame(p)), expect: events(textMsg(p)), want: echo})
	}
	for i, n := range lengths {
		p := randomBytes(n, 1)
		b.add(&testCase{id: fmt.Sprintf("1.2.%d", i+1), title: fmt.Sprintf("binary message of %d bytes", n),
			parts: atOnce(binFrame(p)), expect: events(binMsg(p)), want: echo})
	}
	for i, c := range []struct {
		op    byte
		n     int
		chunk int
	}{{opText, 0, 1}, {opText, 125, 1}, {opText, 126, 1}, {opBinary, 1000, 1}, {opBinary, 65536, 997}, {opBinary, 65537, 4093}} {
		p := []byte(asciiText(c.n))
		f, e := textFrame(string(p)), textMsg(string(p))
		if c.op == opBinary {
			f, e = binFrame(p), binMsg(p)
		}
		b.add(&testCase{id: fmt.Sprintf("1.3.%d", i+1), title: fmt.Sprintf("%d-byte message written in %d-byte pieces", c.n, c.chunk),
			parts: inPieces(c.chunk, f), expect: events(e), want: echo})
	}
	// §5.2: "the minimal number of bytes MUST be used to encode the
	// length". The rule binds the sender; failing is OK, accepting is
	// NON-STRICT.
	for i, c := range []struct{ n, form int }{{0, 2}, {125, 2}, {0, 8}, {125, 8}, {65535, 8}} {
		p := asciiText(c.n)
		b.add(&testCase{id: fmt.Sprintf("1.4.%d", i+1), title: fmt.Sprintf("%d-byte text with a non-minimal %d-bit length", c.n, c.form*8),
			parts: atOnce(textFrame(p).lengthIn(c.form)), expect: events(textMsg(p)), want: outcome{kind: wantFailOrEcho, codes: []int{1002}}})
	}
	// §5.2: the 64-bit length's most significant bit MUST be 0.
	msb := frame{op: opBinary, fin: true, payload: []byte("x"), lenBytes: 8, declared: 1<<63 | 1}
	b.add(&testCase{id: "1.5.1", title: "64-bit length with the most significant bit set",
		parts: atOnce(msb), want: protocolError.or(1009)})
	b.add(&testCase{id: "1.5.2", title: "valid text, then a 64-bit length with the most significant bit set",
		parts: atOnce(textFrame("ok"), msb), expect: events(textMsg("ok")), want: protocolError.or(1009)})
	// §5.1: "The server MUST close the connection upon receiving a frame
	// that is not masked", and MAY send 1002 first.
	unmasked := outcome{kind: wantFail, codes: []int{1002}, drop: true}
	for i, f := range []frame{textFrame("unmasked"), binFrame([]byte{1, 2, 3}), ctlFrame(opPing, []byte("unmasked")), closeFrame(1000, ""), textFrame("")} {
		b.add(&testCase{id: fmt.Sprintf("1.6.%d", i+1), title: fmt.Sprintf("unmasked frame, opcode %d, %d bytes", f.op, len(f.payload)),
			parts: atOnce(f.withoutMask()), want: unmasked})
	}
	b.add(&testCase{id: "1.6.6", title: "valid text, then an unmasked continuation of a fragmented message",
		parts: atOnce(textFrame("ok"), textFrame("a").more(), contFrame([]byte("b"), true).withoutMask()), expect: events(textMsg("ok")), want: unmasked})
	zero := textFrame("zero masking key")
	zero.zeroKey = true
	b.add(&testCase{id: "1.7.1", title: "text masked with the all-zero key", parts: atOnce(zero), expect: events(textMsg("zero masking key")), want: echo})
	var many []frame
	var manyWant []event
	for i := range 100 {
		s := fmt.Sprintf("message %d", i)
		many, manyWant = append(many, textFrame(s)), append(manyWant, textMsg(s))
	}
	b.add(&testCase{id: "1.8.1", title: "100 text messages in one write", parts: atOnce(many...), expect: manyWant, want: echo})
	var mixed []frame
	var mixedWant []event
	for i := range 10 {
		if i%2 == 0 {
			s := fmt.Sprintf("text %d", i)
			mixed, mixedWant = append(mixed, textFrame(s)), append(mixedWant, textMsg(s))
		} else {
			p := []byte{byte(i), 0xff, 0x00, 0xfe}
			mixed, mixedWant = append(mixed, binFrame(p)), append(mixedWant, binMsg(p))
		}
	}
	b.add(&testCase{id: "1.8.2", title: "text and binary messages alternating: the opcode is kept", parts: atOnce(mixed...), expect: mixedWant, want: echo})
	return b.cases
}

// pingCases: RFC 6455 §5.5.2 and §5.5.3.
func pingCases() []*testCase {
	b := &batch{fam: famPings}
	for i, n := range []int{0, 1, 10, 124, 125} {
		p := []byte(asciiText(n))
		b.add(&testCase{id: fmt.Sprintf("2.1.%d", i+1), title: fmt.Sprintf("ping with %d bytes", n),
			parts: atOnce(ctlFrame(opPing, p)), expect: events(pongOf(p)), want: echo})
	}
	bin := make([]byte, 125)
	for i := range bin {
		bin[i] = byte(255 - i)
	}
	b.add(&testCase{id: "2.2.1", title: "ping with 125 binary bytes (not UTF-8)", parts: atOnce(ctlFrame(opPing, bin)), expect: events(pongOf(bin)), want: echo})
	b.add(&testCase{id: "2.2.2", title: "ping of 125 bytes written byte by byte", parts: inPieces(1, ctlFrame(opPing, bin)), expect: events(pongOf(bin)), want: echo})
	// §5.5: "All control frames MUST have a payload length of 125 bytes or less".
	b.add(&testCase{id: "2.3.1", title: "ping with 126 bytes", parts: atOnce(ctlFrame(opPing, []byte(asciiText(126)))), want: protocolError})
	b.add(&testCase{id: "2.3.2", title: "ping with 65536 bytes", parts: atOnce(ctlFrame(opPing, []byte(asciiText(65536)))), want: protocolError})
	b.add(&testCase{id: "2.3.3", title: "valid text, then a ping with 126 bytes",
		parts: atOnce(textFrame("ok"), ctlFrame(opPing, []byte(asciiText(126)))), expect: events(textMsg("ok")), want: protocolError})
	// §5.5.3: "A Pong frame sent in response to a ping ... an unsolicited
	// Pong frame ... A response to an unsolicited Pong frame is not expected."
	b.add(&testCase{id: "2.4.1", title: "unsolicited empty pong, then text",
		parts: atOnce(ctlFrame(opPong, nil), textFrame("after pong")), expect: events(textMsg("after pong")), want: echo})
	b.add(&testCase{id: "2.4.2", title: "unsolicited pong with 125 bytes, then text",
		parts: atOnce(ctlFrame(opPong, bin), textFrame("after pong")), expect: events(textMsg("after pong")), want: echo})
	b.add(&testCase{id: "2.4.3", title: "unsolicited pong, then a ping: one pong back",
		parts: atOnce(ctlFrame(opPong, []byte("unsolicited")), ctlFrame(opPing, []byte("solicited"))), expect: events(pongOf([]byte("solicited"))), want: echo})
	b.add(&testCase{id: "2.4.4", title: "unsolicited pong with 126 bytes", parts: atOnce(ctlFrame(opPong, []byte(asciiText(126)))), want: protocolError})
	// §5.5.3: a server MAY answer only the latest of pings it has not yet
	// answered; the answers it sends must be in order and include the last.
	for i, c := range []struct {
		n     int
		chunk int
	}{{10, 0}, {100, 0}, {10, 1}} {
		var fs []frame
		var payloads [][]byte
		for j := range c.n {
			p := fmt.Appendf(nil, "ping %d", j)
			fs, payloads = append(fs, ctlFrame(opPing, p)), append(payloads, p)
		}
		title := fmt.Sprintf("%d pings in one write", c.n)
		if c.chunk > 0 {
			title = fmt.Sprintf("%d pings written byte by byte", c.n)
		}
		b.add(&testCase{id: fmt.Sprintf("2.5.%d", i+1), title: title, parts: []part{{frames: fs, chunk: c.chunk}},
			want: echo, check: pongsFor(payloads), doneAfter: sawPong(payloads[len(payloads)-1])})
	}
	b.add(&testCase{id: "2.6.1", title: "ping, then close in the same write: pong, then the close answered",
		parts: atOnce(ctlFrame(opPing, []byte("before close")), closeFrame(1000, "")), expect: events(pongOf([]byte("before close"))), want: closeReply})
	b.add(&testCase{id: "2.6.2", title: "close, then ping: the ping after the close is not answered",
		parts: atOnce(closeFrame(1000, ""), ctlFrame(opPing, []byte("after close"))), want: closeReply})
	b.add(&testCase{id: "2.7.1", title: "10-byte ping with a non-minimal 16-bit length",
		parts: atOnce(ctlFrame(opPing, []byte(asciiText(10))).lengthIn(2)), expect: events(pongOf([]byte(asciiText(10)))),
		want: outcome{kind: wantFailOrEcho, codes: []int{1002}}})
	return b.cases
}

// pongsFor checks the answers to pings with payloads: in order, each for
// one of the pings, and the last ping answered (§5.5.3 lets a server skip
// the earlier ones it had not answered yet).
func pongsFor(payloads [][]byte) func([]event) (verdict, string) {
	return func(got []event) (verdict, string) {
		next := 0
		for _, e := range got {
			if e.kind != evPong {
				return failed, fmt.Sprintf("unexpected %s", e)
			}
			i := slices.IndexFunc(payloads[next:], func(p []byte) bool { return bytes.Equal(p, e.data) })
			if i < 0 {
				return failed, fmt.Sprintf("%s answers no ping, or out of order", e)
			}
			next += i + 1
		}
		if next != len(payloads) {
			return failed, fmt.Sprintf("the last ping was not answered (%d pongs for %d pings)", len(got), len(payloads))
		}
		return ok, ""
	}
}

func sawPong(p []byte) func([]event) bool {
	return func(got []event) bool {
		return len(got) > 0 && bytes.Equal(got[len(got)-1].data, p)
	}
}
