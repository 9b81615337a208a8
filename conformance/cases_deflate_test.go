package conformance

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strings"
)

const pmd = "permessage-deflate"

// compressionCases: RFC 7692, permessage-deflate. The client offers the
// extension; a server that declines a valid offer gets UNIMPLEMENTED for
// the case, and must decline an invalid one (§5, §7.1). The client
// compresses every message on its own (no context takeover, always
// allowed) and inflates the server's with or without context takeover, as
// negotiated. RSV1 marks the first frame of a compressed message only
// (§6): on a continuation or a control frame, and RSV2/RSV3 anywhere, the
// connection must fail.
func compressionCases() []*testCase {
	b := &batch{fam: famCompression}
	add := func(id, offer, title string, parts []part, expect []event, want outcome) {
		b.add(&testCase{id: id, offer: offer, title: title, parts: parts, expect: expect, want: want})
	}
	hello := []byte("Hello, compressed world!")
	repeated := []byte(strings.Repeat("the same 4 KiB again and again ", 133))[:4096]
	noise := randomBytes(64<<10, 5)
	variantParts := atOnce(
		frame{op: opText, fin: true, rsv: rsv1, payload: compress(hello)},
		frame{op: opText, fin: true, rsv: rsv1, payload: compress(repeated)},
		frame{op: opText, fin: true, rsv: rsv1, payload: compress(repeated)},
		frame{op: opText, fin: true, rsv: rsv1, payload: compress(repeated)},
		frame{op: opBinary, fin: true, rsv: rsv1, payload: compress(noise)},
	)
	variantWant := events(textMsg(string(hello)), textMsg(string(repeated)), textMsg(string(repeated)), textMsg(string(repeated)), binMsg(noise))
	for i, offer := range []string{
		pmd,
		pmd + "; client_max_window_bits",
		pmd + "; client_no_context_takeover",
		pmd + "; server_no_context_takeover",
		pmd + "; client_no_context_takeover; server_no_context_takeover",
		pmd + "; client_max_window_bits=15; server_no_context_takeover",
		pmd + "; server_max_window_bits=15",
		pmd + "; server_max_window_bits=10",
		pmd + "; server_max_window_bits=10, " + pmd,
		"x-unknown-extension, " + pmd,
	} {
		add(fmt.Sprintf("12.1.%d", i+1), offer, fmt.Sprintf("offer %q, then 5 compressed messages", offer), variantParts, variantWant, echo)
	}

	for i, c := range []struct {
		op byte
		p  []byte
	}{
		{opText, nil}, {opText, []byte("a")}, {opText, []byte(asciiText(64))}, {opText, []byte(asciiText(511))},
		{opText, []byte(asciiText(512))}, {opText, []byte(asciiText(4096))}, {opText, []byte(asciiText(64 << 10))},
		{opText, []byte(asciiText(1 << 20))}, {opBinary, randomBytes(128, 6)}, {opBinary, randomBytes(64<<10, 6)},
		{opBinary, randomBytes(1<<20, 6)}, {opBinary, make([]byte, 1<<20)},
	} {
		add(fmt.Sprintf("12.2.%d", i+1), pmd, fmt.Sprintf("compressed %s of %s", opName(c.op), size(len(c.p))),
			atOnce(frame{op: c.op, fin: true, rsv: rsv1, payload: compress(c.p)}), events(event{kind: evMessage, op: c.op, data: nonNil(c.p)}), echo)
	}

	add("12.3.1", pmd, "uncompressed text on a deflate connection", atOnce(textFrame("plain")), events(textMsg("plain")), echo)
	add("12.3.2", pmd, "uncompressed 4 KiB binary on a deflate connection", atOnce(binFrame(repeated)), events(binMsg(repeated)), echo)
	add("12.3.3", pmd, "compressed and uncompressed messages alternating",
		atOnce(textFrame("plain"), frame{op: opText, fin: true, rsv: rsv1, payload: compress(repeated)}, binFrame(hello),
			frame{op: opBinary, fin: true, rsv: rsv1, payload: compress(noise)}),
		events(textMsg("plain"), textMsg(string(repeated)), binMsg(hello), binMsg(noise)), echo)

	long := []byte(asciiText(64 << 10))
	z := compress(long)
	for i, n := range []int{2, 10, 100} {
		add(fmt.Sprintf("12.4.%d", i+1), pmd, fmt.Sprintf("compressed 64 KiB text in %d frames, RSV1 on the first", n),
			atOnce(compressed(fragmentEvery(opText, z, (len(z)+n-1)/n))...), events(textMsg(string(long))), echo)
	}
	zf := compressed(fragment(opText, z, len(z)/2))
	add("12.4.4", pmd, "compressed text in 2 frames with a ping between",
		atOnce(zf[0], ctlFrame(opPing, []byte("in between")), zf[1]), events(pongOf([]byte("in between")), textMsg(string(long))), echo)
	add("12.4.5", pmd, "compressed text whose first frame is empty", atOnce(compressed(fragment(opText, z, 0))...), events(textMsg(string(long))), echo)

	rsvCont := compressed(fragment(opText, z, len(z)/2))
	rsvCont[1].rsv = rsv1
	add("12.5.1", pmd, "compressed text with RSV1 on the continuation too", atOnce(rsvCont...), nil, protocolError)
	plainCont := fragment(opText, []byte("plain text"), 5)
	plainCont[1].rsv = rsv1
	add("12.5.2", pmd, "uncompressed text with RSV1 on the continuation only", atOnce(plainCont...), nil, protocolError)
	for i, f := range []frame{ctlFrame(opPing, []byte("x")), ctlFrame(opPong, []byte("x")), closeFrame(1000, "")} {
		add(fmt.Sprintf("12.6.%d", i+1), pmd, fmt.Sprintf("RSV1 on a control frame (opcode %d)", f.op), atOnce(f.withRSV(rsv1)), nil, protocolError)
	}
	for i, r := range []byte{rsv2, rsv3} {
		add(fmt.Sprintf("12.7.%d", i+1), pmd, fmt.Sprintf("compressed text with %s as well", rsvName(r)),
			atOnce(frame{op: opText, fin: true, rsv: rsv1 | r, payload: compress(hello)}), nil, protocolError)
	}

	corrupt := fails(1007, 1002)
	add("12.8.1", pmd, "compressed message with a reserved block type (corrupt deflate data)",
		atOnce(frame{op: opBinary, fin: true, rsv: rsv1, payload: []byte{0x07, 0xff, 0xff}}), nil, corrupt)
	add("12.8.2", pmd, "compressed message cut short",
		atOnce(frame{op: opBinary, fin: true, rsv: rsv1, payload: compress(noise)[:1000]}), nil, corrupt)
	add("12.8.3", pmd, "compressed text that inflates to invalid UTF-8",
		atOnce(frame{op: opText, fin: true, rsv: rsv1, payload: compress([]byte("bad \xed\xa0\x80 text"))}), nil, invalidData)
	bomb := compressedZeros(readLimit + 1)
	b.add(&testCase{id: "12.9.1", offer: pmd, title: fmt.Sprintf("%d-byte compressed message that inflates to %s + 1 byte", len(bomb), size(readLimit)),
		parts: atOnce(frame{op: opBinary, fin: true, rsv: rsv1, payload: bomb}), want: tooBig, heavy: true})

	// Offers the server must decline (RFC 7692 §7.1: an unknown or
	// repeated parameter, or an invalid value). The client then sends
	// plain text.
	for i, offer := range []string{
		pmd + "; server_max_window_bits=16",
		pmd + "; server_max_window_bits=7",
		pmd + "; server_max_window_bits",
		pmd + "; client_max_window_bits=16",
		pmd + "; client_max_window_bits=abc",
		pmd + "; unknown_parameter",
		pmd + "; server_no_context_takeover; server_no_context_takeover",
		pmd + "; client_no_context_takeover=1",
	} {
		add(fmt.Sprintf("12.10.%d", i+1), offer, fmt.Sprintf("invalid offer %q must be declined", offer),
			atOnce(textFrame("plain")), events(textMsg("plain")), echo)
	}
	return b.cases
}

// compressedZeros returns n zero bytes compressed, as copies of one
// compressed MiB: a block of zeros refers back only to zeros, so a copy
// decodes the same after any run of zeros, and the megabytes need not be
// compressed under -race.
func compressedZeros(n int) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(make([]byte, 1<<20))
	w.Flush() // ends the copy at a byte boundary, with an empty non-final block
	out := bytes.Repeat(buf.Bytes(), n>>20)
	return append(out, compress(make([]byte, n&(1<<20-1)))...)
}

func opName(op byte) string {
	if op == opText {
		return "text"
	}
	return "binary"
}

func nonNil(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return bytes.Clone(p)
}
