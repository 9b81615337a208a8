package conformance

import (
	"fmt"
	"strings"
)

// reservedBitCases: RFC 6455 §5.2, "RSV1, RSV2, RSV3: MUST be 0 unless an
// extension is negotiated that defines meanings for non-zero values. If a
// nonzero value is received and none of the negotiated extensions defines
// the meaning of such a nonzero value, the receiving endpoint MUST _Fail
// the WebSocket Connection_." No extension is offered here, so RSV1 is
// reserved too; every combination of the three bits on every kind of
// frame.
func reservedBitCases() []*testCase {
	b := &batch{fam: famReserved}
	for r := byte(1); r <= 7; r++ {
		bits := r << 4 // RSV3 is 0x10, RSV2 0x20, RSV1 0x40
		name := rsvName(bits)
		add := func(n int, title string, parts []part, expect []event) {
			b.add(&testCase{id: fmt.Sprintf("3.%d.%d", r, n), title: name + " " + title, parts: parts, expect: expect, want: protocolError})
		}
		add(1, "on a text frame", atOnce(textFrame("reserved").withRSV(bits)), nil)
		add(2, "on a binary frame", atOnce(binFrame([]byte{0, 1, 2}).withRSV(bits)), nil)
		add(3, "on a text frame after a valid text message",
			atOnce(textFrame("ok"), textFrame("reserved").withRSV(bits)), events(textMsg("ok")))
		add(4, "on a ping", atOnce(ctlFrame(opPing, []byte("reserved")).withRSV(bits)), nil)
		add(5, "on a pong", atOnce(ctlFrame(opPong, []byte("reserved")).withRSV(bits)), nil)
		add(6, "on a close frame", atOnce(closeFrame(1000, "").withRSV(bits)), nil)
		add(7, "on the continuation of a fragmented text message",
			atOnce(textFrame("frag").more(), contFrame([]byte("ment"), true).withRSV(bits)), nil)
	}
	// A genuinely compressed message, when permessage-deflate was not
	// offered: RSV1 has no meaning on this connection.
	b.add(&testCase{id: "3.8.1", title: "compressed text (RSV1) without permessage-deflate negotiated",
		parts: atOnce(frame{op: opText, fin: true, rsv: rsv1, payload: compress([]byte("compressed without deflate"))}), want: protocolError})
	b.add(&testCase{id: "3.8.2", title: "valid text, then compressed binary (RSV1) without permessage-deflate negotiated",
		parts:  atOnce(textFrame("ok"), frame{op: opBinary, fin: true, rsv: rsv1, payload: compress(randomBytes(4096, 7))}),
		expect: events(textMsg("ok")), want: protocolError})
	return b.cases
}

func rsvName(bits byte) string {
	var n []string
	for _, c := range []struct {
		bit  byte
		name string
	}{{rsv1, "RSV1"}, {rsv2, "RSV2"}, {rsv3, "RSV3"}} {
		if bits&c.bit != 0 {
			n = append(n, c.name)
		}
	}
	return strings.Join(n, "+")
}

// opcodeCases: RFC 6455 §5.2, opcodes 3-7 are reserved for further
// non-control frames and 0xB-0xF for further control frames; "If an
// unknown opcode is received, the receiving endpoint MUST _Fail the
// WebSocket Connection_." Every reserved opcode, alone, with a payload,
// after a valid message, inside a fragmented message, and without FIN.
func opcodeCases() []*testCase {
	b := &batch{fam: famOpcodes}
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		add := func(n int, title string, parts []part, expect []event) {
			b.add(&testCase{id: fmt.Sprintf("4.%d.%d", op, n), title: fmt.Sprintf("reserved opcode %#x: %s", op, title),
				parts: parts, expect: expect, want: protocolError})
		}
		f := frame{op: op, fin: true}
		add(1, "empty frame", atOnce(f), nil)
		f.payload = []byte("reserved opcode")
		add(2, "frame with a payload", atOnce(f), nil)
		add(3, "after a valid text message", atOnce(textFrame("ok"), f), events(textMsg("ok")))
		add(4, "between the fragments of a text message",
			atOnce(textFrame("frag").more(), f, contFrame([]byte("ment"), true)), nil)
		add(5, "without FIN, then a continuation", atOnce(f.more(), contFrame([]byte("more"), true)), nil)
	}
	return b.cases
}

// fragmentationCases: RFC 6455 §5.4. A message is one frame with FIN, or a
// text or binary frame without FIN, continuation frames, and a last one
// with FIN. "Control frames ... MAY be injected in the middle of a
// fragmented message", "Control frames themselves MUST NOT be fragmented",
// and fragments of different messages MUST NOT interleave.
func fragmentationCases() []*testCase {
	b := &batch{fam: famFragmentation}
	p := []byte("fragmented message")
	frag := fragment(opText, p, 4, 10)

	b.add(&testCase{id: "5.1.1", title: "text in 2 fragments", parts: atOnce(fragment(opText, p, 9)...), expect: events(textMsg(string(p))), want: echo})
	b.add(&testCase{id: "5.1.2", title: "binary in 2 fragments", parts: atOnce(fragment(opBinary, p, 9)...), expect: events(binMsg(p)), want: echo})
	b.add(&testCase{id: "5.1.3", title: "text in one fragment per byte", parts: atOnce(fragmentEvery(opText, p, 1)...), expect: events(textMsg(string(p))), want: echo})
	b.add(&testCase{id: "5.1.4", title: "empty first fragment", parts: atOnce(fragment(opText, p, 0)...), expect: events(textMsg(string(p))), want: echo})
	b.add(&testCase{id: "5.1.5", title: "empty last fragment", parts: atOnce(fragment(opText, p, len(p))...), expect: events(textMsg(string(p))), want: echo})
	b.add(&testCase{id: "5.1.6", title: "three empty fragments", parts: atOnce(fragment(opBinary, nil, 0, 0)...), expect: events(binMsg([]byte{})), want: echo})
	b.add(&testCase{id: "5.1.7", title: "3 fragments written byte by byte", parts: inPieces(1, frag...), expect: events(textMsg(string(p))), want: echo})
	b.add(&testCase{id: "5.1.8", title: "fragments with 7-, 16- and 64-bit lengths",
		parts: atOnce(fragment(opBinary, randomBytes(70000, 2), 100, 300)...), expect: events(binMsg(randomBytes(70000, 2))), want: echo})
	b.add(&testCase{id: "5.1.9", title: "fragmented text, then fragmented binary",
		parts: atOnce(append(fragment(opText, p, 5), fragment(opBinary, p, 7)...)...), expect: events(textMsg(string(p)), binMsg(p)), want: echo})

	ping := ctlFrame(opPing, []byte("between fragments"))
	pong := pongOf([]byte("between fragments"))
	b.add(&testCase{id: "5.2.1", title: "ping between fragments: pong, then the message",
		parts: atOnce(frag[0], ping, frag[1], frag[2]), expect: events(pong, textMsg(string(p))), want: echo, anyOrder: true})
	b.add(&testCase{id: "5.2.2", title: "pong between fragments: the message only",
		parts: atOnce(frag[0], ctlFrame(opPong, []byte("unsolicited")), frag[1], frag[2]), expect: events(textMsg(string(p))), want: echo})
	var interleaved []frame
	var want []event
	for i, f := range fragmentEvery(opBinary, p, 2) {
		if i > 0 {
			pp := fmt.Appendf(nil, "ping %d", i)
			interleaved, want = append(interleaved, ctlFrame(opPing, pp)), append(want, pongOf(pp))
		}
		interleaved = append(interleaved, f)
	}
	b.add(&testCase{id: "5.2.3", title: fmt.Sprintf("a ping between each of %d fragments", len(p)/2),
		parts: atOnce(interleaved...), expect: append(want, binMsg(p)), want: echo, anyOrder: true})
	b.add(&testCase{id: "5.2.4", title: "ping between fragments, written byte by byte",
		parts: inPieces(1, frag[0], ping, frag[1], frag[2]), expect: events(pong, textMsg(string(p))), want: echo, anyOrder: true})
	b.add(&testCase{id: "5.2.5", title: "close between fragments: the close is answered, the message dropped",
		parts: atOnce(frag[0], closeFrame(1000, ""), frag[1], frag[2]), want: closeReply})

	for i, op := range []byte{opPing, opPong, opClose} {
		pl := []byte("frag")
		if op == opClose {
			pl = closeFrame(1000, "frag").payload
		}
		b.add(&testCase{id: fmt.Sprintf("5.3.%d", i+1), title: fmt.Sprintf("fragmented control frame (opcode %d), then its continuation", op),
			parts: atOnce(frame{op: op, payload: pl}, contFrame([]byte("ment"), true)), want: protocolError})
	}
	b.add(&testCase{id: "5.3.4", title: "ping without FIN alone", parts: atOnce(ctlFrame(opPing, []byte("x")).more()), want: protocolError})
	b.add(&testCase{id: "5.3.5", title: "fragmented ping between the fragments of a text message",
		parts: atOnce(frag[0], ctlFrame(opPing, []byte("x")).more(), contFrame([]byte("y"), true), frag[1], frag[2]), want: protocolError})

	b.add(&testCase{id: "5.4.1", title: "continuation with FIN, no message started", parts: atOnce(contFrame([]byte("orphan"), true)), want: protocolError})
	b.add(&testCase{id: "5.4.2", title: "continuation without FIN, no message started", parts: atOnce(contFrame([]byte("orphan"), false)), want: protocolError})
	b.add(&testCase{id: "5.4.3", title: "empty continuation, no message started", parts: atOnce(contFrame(nil, true)), want: protocolError})
	b.add(&testCase{id: "5.4.4", title: "valid text, then a continuation with FIN",
		parts: atOnce(textFrame("ok"), contFrame([]byte("orphan"), true)), expect: events(textMsg("ok")), want: protocolError})
	b.add(&testCase{id: "5.4.5", title: "two continuations, no message started",
		parts: atOnce(contFrame([]byte("or"), false), contFrame([]byte("phan"), true)), want: protocolError})
	b.add(&testCase{id: "5.4.6", title: "a fragmented message, then a continuation with FIN",
		parts: atOnce(append(fragment(opText, p, 5), contFrame([]byte("orphan"), true))...), expect: events(textMsg(string(p))), want: protocolError})

	for i, c := range []struct{ first, second byte }{{opText, opText}, {opText, opBinary}, {opBinary, opText}, {opBinary, opBinary}} {
		b.add(&testCase{id: fmt.Sprintf("5.5.%d", i+1), title: fmt.Sprintf("opcode %d without FIN, then a new opcode %d frame with FIN", c.first, c.second),
			parts: atOnce(frame{op: c.first, payload: []byte("first")}, frame{op: c.second, fin: true, payload: []byte("second")}), want: protocolError})
	}
	b.add(&testCase{id: "5.5.5", title: "text without FIN, continuation, then a new text frame without FIN",
		parts: atOnce(textFrame("a").more(), contFrame([]byte("b"), false), textFrame("c").more(), contFrame([]byte("d"), true)), want: protocolError})
	return b.cases
}
