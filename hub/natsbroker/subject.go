package natsbroker

import (
	"fmt"
	"strings"
)

// maxSubject bounds the subjects and KV keys the broker builds. The server
// reads a protocol line of at most 4 KiB by default (max_control_line) and
// closes a connection that sends a longer one; the limit leaves room for
// the bucket name, a reply subject and the sizes.
const maxSubject = 2048

// token encodes an opaque string as one subject token that is also a
// valid KV key: the bytes A-Z, a-z, 0-9, '-' and '_' stand for themselves,
// every other byte becomes '=' and two upper-case hex digits, and the empty
// string becomes "=" alone. A token is never empty and holds no '.', '*',
// '>' or white space, so it matches exactly one topic; and it can be
// decoded, so two strings never share a token. Topics made of names and
// numbers stay readable in the server's monitoring: "chat-42".
func token(s string) string {
	if s != "" && escapes(s) == 0 {
		return s
	}
	return withToken("", s)
}

// withToken returns prefix followed by token(s), in one allocation.
func withToken(prefix, s string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(s) + 2*escapes(s) + 1)
	b.WriteString(prefix)
	if s == "" {
		b.WriteByte('=')
		return b.String()
	}
	const hex = "0123456789ABCDEF"
	for i := range len(s) {
		c := s[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// escapes counts the bytes of s that token escapes.
func escapes(s string) int {
	n := 0
	for i := range len(s) {
		if !plain(s[i]) {
			n++
		}
	}
	return n
}

func plain(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// errTooLong reports a topic, room or id whose subject or key would exceed
// maxSubject.
func errTooLong(what string, n int) error {
	return fmt.Errorf("forge: natsbroker: %s too long: its subject would have %d bytes, more than %d", what, n, maxSubject)
}
