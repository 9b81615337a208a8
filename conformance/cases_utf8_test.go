package conformance

import (
	"fmt"
	"time"
)

// validUTF8 are byte strings that RFC 3629 accepts: the boundaries of each
// sequence length, the edges of the surrogate gap, noncharacters (valid
// UTF-8 all the same) and mixed text.
var validUTF8 = []struct{ name, s string }{
	{"Latin-1 and ASCII", "Hello-µ@ßöäüàá-UTF-8!!"},
	{"Greek", "κόσμε"},
	{"U+0000", "\x00"},
	{"U+007F", "\x7f"},
	{"U+0080", "\xc2\x80"},
	{"U+07FF", "\xdf\xbf"},
	{"U+0800", "\xe0\xa0\x80"},
	{"U+D7FF, before the surrogates", "\xed\x9f\xbf"},
	{"U+E000, after the surrogates", "\xee\x80\x80"},
	{"U+FEFF byte order mark", "\xef\xbb\xbf"},
	{"U+FFFD replacement character", "\xef\xbf\xbd"},
	{"U+FFFF noncharacter", "\xef\xbf\xbf"},
	{"U+10000", "\xf0\x90\x80\x80"},
	{"U+10FFFF, the last code point", "\xf4\x8f\xbf\xbf"},
	{"emoji between ASCII", "a\xf0\x9f\x98\x80b\xf0\x9f\x8e\x89c"},
}

// invalidUTF8 are byte strings that RFC 3629 rejects.
var invalidUTF8 = []struct{ name, s string }{
	{"lone continuation byte 0x80", "\x80"},
	{"lone continuation byte 0xBF", "\xbf"},
	{"two continuation bytes", "\x80\xbf"},
	{"three continuation bytes", "\x80\xbf\x80"},
	{"2-byte start, then a space", "\xc2 "},
	{"3-byte start, then a space", "\xe0 "},
	{"4-byte start, then a space", "\xf0 "},
	{"5-byte start, then a space", "\xf8 "},
	{"6-byte start, then a space", "\xfc "},
	{"2-byte sequence cut at the end", "ab\xc2"},
	{"3-byte sequence cut at the end", "ab\xe2\x82"},
	{"4-byte sequence cut at the end", "ab\xf0\x9f\x98"},
	{"byte 0xFE", "\xfe"},
	{"byte 0xFF", "\xff"},
	{"bytes FE FE FF FF", "\xfe\xfe\xff\xff"},
	{"overlong '/' in 2 bytes", "\xc0\xaf"},
	{"overlong '/' in 3 bytes", "\xe0\x80\xaf"},
	{"overlong '/' in 4 bytes", "\xf0\x80\x80\xaf"},
	{"overlong U+007F (C1 BF)", "\xc1\xbf"},
	{"overlong U+07FF in 3 bytes", "\xe0\x9f\xbf"},
	{"overlong U+FFFF in 4 bytes", "\xf0\x8f\xbf\xbf"},
	{"overlong NUL (C0 80)", "\xc0\x80"},
	{"high surrogate U+D800", "\xed\xa0\x80"},
	{"low surrogate U+DFFF", "\xed\xbf\xbf"},
	{"surrogate pair encoded as CESU-8", "\xed\xa0\x80\xed\xb0\x80"},
	{"U+110000, past the last code point", "\xf4\x90\x80\x80"},
	{"start byte F5", "\xf5\x80\x80\x80"},
	{"start byte F7", "\xf7\xbf\xbf\xbf"},
	{"5-byte sequence", "\xf8\x88\x80\x80\x80"},
	{"6-byte sequence", "\xfc\x84\x80\x80\x80\x80"},
	{"surrogate inside valid text", "κόσμε\xed\xa0\x80edited"},
}

// utf8Cases: RFC 6455 §5.6 ("The "Payload data" is text data encoded as
// UTF-8") and §8.1 ("When an endpoint is to interpret a byte stream as
// UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8
// stream, that endpoint MUST _Fail the WebSocket Connection_"), with 1007
// as the code (§7.4.1). A message is judged whole: a code point split
// across frames is valid. Failing at the first invalid fragment
// (fail-fast) is allowed and graded OK; failing at the end NON-STRICT.
func utf8Cases() []*testCase {
	b := &batch{fam: famUTF8}
	for i, c := range validUTF8 {
		b.add(&testCase{id: fmt.Sprintf("6.1.%d", i+1), title: "valid: " + c.name,
			parts: atOnce(textFrame(c.s)), expect: events(textMsg(c.s)), want: echo})
	}
	kosme := "κόσμε"
	for cut := 1; cut < len(kosme); cut++ {
		b.add(&testCase{id: fmt.Sprintf("6.2.%d", cut), title: fmt.Sprintf("valid %q in 2 frames cut after byte %d", kosme, cut),
			parts: atOnce(fragment(opText, []byte(kosme), cut)...), expect: events(textMsg(kosme)), want: echo})
	}
	emoji := validUTF8[len(validUTF8)-1].s
	b.add(&testCase{id: "6.2.11", title: "valid text with 4-byte code points, one byte per frame",
		parts: atOnce(fragmentEvery(opText, []byte(emoji), 1)...), expect: events(textMsg(emoji)), want: echo})
	for i, c := range invalidUTF8 {
		b.add(&testCase{id: fmt.Sprintf("6.3.%d", i+1), title: "invalid: " + c.name, parts: atOnce(textFrame(c.s)), want: invalidData})
	}
	// The invalid bytes in the last of two fragments, after a valid one.
	for i, c := range invalidUTF8[:12] {
		b.add(&testCase{id: fmt.Sprintf("6.4.%d", i+1), title: "valid fragment, then a fragment with " + c.name,
			parts: atOnce(textFrame("valid ").more(), contFrame([]byte(c.s), true)), want: invalidData})
	}
	// An invalid sequence cut between two frames: each frame alone holds
	// only the part of a sequence.
	for i, c := range []struct {
		name     string
		one, two string
	}{
		{"surrogate U+D800", "ab\xed", "\xa0\x80cd"},
		{"overlong '/'", "ab\xe0", "\x80\xafcd"},
		{"U+110000", "ab\xf4\x90", "\x80\x80cd"},
		{"4-byte sequence cut by the end of the message", "ab\xf0\x9f", "\x98"},
		{"2-byte start followed by ASCII", "ab\xc3", "(cd"},
	} {
		b.add(&testCase{id: fmt.Sprintf("6.5.%d", i+1), title: "invalid across frames: " + c.name,
			parts: atOnce(fragment(opText, []byte(c.one+c.two), len(c.one))...), want: invalidData})
	}
	// Fail-fast: the client pauses after the fragment that makes the text
	// invalid; a server that fails then is OK, one that waits for the end
	// of the message NON-STRICT.
	const window = 200 * time.Millisecond
	ff := invalidData
	ff.failFast = true
	for i, c := range []struct {
		name            string
		one, two, three string
	}{
		{"U+110000 in the middle fragment", "κόσμε", "\xf4\x90\x80\x80", "edited"},
		{"surrogate in the middle fragment", "hello ", "\xed\xa0\x80", " world"},
		{"lone continuation byte in the first fragment", "\x80", "hello", " world"},
		{"byte 0xFF in the middle fragment", "hello ", "\xff", " world"},
	} {
		parts := []part{
			{frames: []frame{textFrame(c.one).more()}},
			{frames: []frame{contFrame([]byte(c.two), false)}, window: window},
			{frames: []frame{contFrame([]byte(c.three), true)}},
		}
		if i == 2 {
			parts[0].window, parts[1].window = window, 0
		}
		b.add(&testCase{id: fmt.Sprintf("6.6.%d", i+1), title: "fail-fast: " + c.name, parts: parts, want: ff})
	}
	// Binary messages carry any bytes.
	b.add(&testCase{id: "6.7.1", title: "binary message with bytes that are not UTF-8",
		parts: atOnce(binFrame([]byte("\xff\xfe\xed\xa0\x80"))), expect: events(binMsg([]byte("\xff\xfe\xed\xa0\x80"))), want: echo})
	b.add(&testCase{id: "6.7.2", title: "fragmented binary message cut inside a code point",
		parts: atOnce(fragment(opBinary, []byte(kosme), 1, 3)...), expect: events(binMsg([]byte(kosme))), want: echo})
	return b.cases
}
