package conformance

import (
	"fmt"
	"strings"
)

// closeCases: RFC 6455 §5.5.1 and §7.4. A close frame's body, if any,
// starts with a 2-byte status code, followed by a UTF-8 reason; the whole
// is a control frame of at most 125 bytes. The server answers a valid
// close frame with one of its own, sends nothing after it, discards what
// follows the client's, and closes TCP. §7.4.2: codes below 1000 are
// unused, 1000-2999 are the protocol's (1004 reserved; 1005, 1006 and
// 1015 never sent), 3000-4999 are for libraries and applications. 1012 to
// 1014 were registered with IANA after the RFC, so a server may accept
// them (OK) or not (1002, NON-STRICT).
func closeCases() []*testCase {
	b := &batch{fam: famClose}
	add := func(id, title string, parts []part, expect []event, want outcome) {
		b.add(&testCase{id: id, title: title, parts: parts, expect: expect, want: want})
	}
	add("7.1.1", "close without a body", atOnce(emptyClose()), nil, closeReply)
	add("7.1.2", "close 1000", atOnce(closeFrame(1000, "")), nil, closeReply)
	add("7.1.3", "close 1000 with a reason", atOnce(closeFrame(1000, "bye")), nil, closeReply)
	add("7.1.4", "close 1000 with a 123-byte reason (125-byte payload)", atOnce(closeFrame(1000, asciiText(123))), nil, closeReply)
	add("7.1.5", "close 1000 with a UTF-8 reason", atOnce(closeFrame(1000, "κόσμε")), nil, closeReply)
	add("7.1.6", "text, then close, in one write: echo, then the close answered",
		atOnce(textFrame("last"), closeFrame(1000, "")), events(textMsg("last")), closeReply)
	add("7.1.7", "close, then text: the text after the close is discarded",
		atOnce(closeFrame(1000, ""), textFrame("after close")), nil, closeReply)
	add("7.1.8", "close, then a fragmented message", atOnce(append([]frame{closeFrame(1000, "")}, fragment(opText, []byte("after"), 2)...)...), nil, closeReply)
	add("7.1.9", "two close frames", atOnce(closeFrame(1000, ""), closeFrame(1001, "")), nil, closeReply)
	add("7.1.10", "close written byte by byte", inPieces(1, closeFrame(1000, "bye")), nil, closeReply)
	add("7.1.11", "close with a 16-bit length form", atOnce(closeFrame(1000, "").lengthIn(2)), nil, outcome{kind: wantFailOrEcho, codes: []int{1002}})

	add("7.2.1", "close with a 1-byte payload", atOnce(frame{op: opClose, fin: true, payload: []byte{0x03}}), nil, protocolError)
	add("7.2.2", "close 1000 with a 124-byte reason (126-byte payload)", atOnce(closeFrame(1000, asciiText(124))), nil, protocolError)
	for i, c := range invalidUTF8[:6] {
		add(fmt.Sprintf("7.3.%d", i+1), "close 1000 with a reason that is not UTF-8: "+c.name,
			atOnce(closeFrame(1000, c.s)), nil, invalidData)
	}
	add("7.3.7", "close 1000 with a surrogate in the reason", atOnce(closeFrame(1000, "bye \xed\xa0\x80")), nil, invalidData)

	valid := []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3001, 3500, 3999, 4000, 4001, 4500, 4999}
	for i, code := range valid {
		add(fmt.Sprintf("7.4.%d", i+1), fmt.Sprintf("close %d", code), atOnce(closeFrame(code, "")), nil, closeReply)
	}
	for i, code := range []int{1012, 1013, 1014} {
		add(fmt.Sprintf("7.5.%d", i+1), fmt.Sprintf("close %d (registered after RFC 6455)", code), atOnce(closeFrame(code, "")), nil, closeReply)
	}
	invalid := []int{0, 1, 500, 999, 1004, 1005, 1006, 1015, 1016, 1100, 1500, 2000, 2500, 2999, 5000, 6000, 10000, 40000, 65535}
	for i, code := range invalid {
		add(fmt.Sprintf("7.6.%d", i+1), fmt.Sprintf("close %d (not a code an endpoint may send)", code), atOnce(closeFrame(code, "")), nil, protocolError)
	}
	return b.cases
}

// limitCases: large messages and frames, and many small ones. The servers
// under test read messages of up to readLimit bytes; a larger one must be
// refused with 1009 (RFC 6455 §7.4.1: "a message that is too big for it
// to process").
func limitCases() []*testCase {
	b := &batch{fam: famLimits}
	for i, n := range []int{64 << 10, 256 << 10, 1 << 20, readLimit} {
		p := []byte(asciiText(n)) // frame and event share the megabytes
		b.add(&testCase{id: fmt.Sprintf("9.1.%d", i+1), title: fmt.Sprintf("text message of %s in one frame", size(n)),
			parts:  atOnce(frame{op: opText, fin: true, payload: p}),
			expect: events(event{kind: evMessage, op: opText, data: p}), want: echo, heavy: n == readLimit})
	}
	for i, n := range []int{64 << 10, 1 << 20} {
		p := randomBytes(n, 3)
		b.add(&testCase{id: fmt.Sprintf("9.2.%d", i+1), title: fmt.Sprintf("binary message of %s in one frame", size(n)),
			parts: atOnce(binFrame(p)), expect: events(binMsg(p)), want: echo})
	}
	big := randomBytes(readLimit, 4)
	b.add(&testCase{id: "9.3.1", title: fmt.Sprintf("binary message of %s in 1 MiB frames", size(readLimit)),
		parts: atOnce(fragmentEvery(opBinary, big, 1<<20)...), expect: events(binMsg(big)), want: echo, heavy: true})
	b.add(&testCase{id: "9.3.2", title: "binary message of 1 MiB in 4 KiB frames",
		parts: atOnce(fragmentEvery(opBinary, big[:1<<20], 4<<10)...), expect: events(binMsg(big[:1<<20])), want: echo})
	t1000 := asciiText(1000)
	b.add(&testCase{id: "9.4.1", title: "text message in 1,000 one-byte frames",
		parts: atOnce(fragmentEvery(opText, []byte(t1000), 1)...), expect: events(textMsg(t1000)), want: echo})
	b.add(&testCase{id: "9.4.2", title: "binary message in 10,000 16-byte frames",
		parts: atOnce(fragmentEvery(opBinary, big[:160000], 16)...), expect: events(binMsg(big[:160000])), want: echo})
	for i, n := range []int{0, 16} {
		var fs []frame
		var want []event
		for j := range 1000 {
			s := asciiText(n)
			if n > 0 {
				s = fmt.Sprintf("%16d", j)
			}
			fs, want = append(fs, textFrame(s)), append(want, textMsg(s))
		}
		b.add(&testCase{id: fmt.Sprintf("9.5.%d", i+1), title: fmt.Sprintf("1,000 text messages of %d bytes in one write", n),
			parts: atOnce(fs...), expect: want, want: echo})
	}
	over := []byte(asciiText(readLimit + 1))
	b.add(&testCase{id: "9.6.1", title: fmt.Sprintf("text message of %s + 1 byte in one frame", size(readLimit)),
		parts: atOnce(frame{op: opText, fin: true, payload: over}), want: tooBig, heavy: true})
	b.add(&testCase{id: "9.6.2", title: fmt.Sprintf("text message of %s, then a 1-byte continuation", size(readLimit)),
		parts: atOnce(fragment(opText, over, readLimit)...), want: tooBig, heavy: true})
	return b.cases
}

func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return strings.TrimSpace(fmt.Sprintf("%d bytes", n))
}
