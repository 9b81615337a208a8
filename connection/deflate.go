package connection

import (
	"net/http"
	"strings"
)

// permessage-deflate negotiation (RFC 7692). gorilla's Upgrader accepts the
// first offer named permessage-deflate whatever its parameters, with the
// one answer it can honour: "permessage-deflate; server_no_context_takeover;
// client_no_context_takeover" (it deflates each message on its own with a
// full 32 KiB window, and inflates each on its own). forge decides instead,
// and lets gorilla see an offer only when that answer accepts one of the
// client's.

// withDeflateOffers returns r as gorilla's Upgrader is to see it: as it is
// when the client offers permessage-deflate in a way gorilla's answer
// accepts, or offers nothing; otherwise a copy without
// Sec-WebSocket-Extensions, so that gorilla answers without the extension,
// which declines every offer (RFC 7692 §5). r itself is left alone.
func withDeflateOffers(r *http.Request) *http.Request {
	offers := r.Header.Values("Sec-WebSocket-Extensions")
	if len(offers) == 0 || deflateAcceptable(offers) {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	r2.Header.Del("Sec-WebSocket-Extensions")
	return r2
}

// deflateAcceptable reports whether the Sec-WebSocket-Extensions values
// hold a permessage-deflate offer that gorilla's answer accepts: one whose
// parameters are known, not repeated and valid (RFC 7692 §7.1), and that
// does not ask for server_max_window_bits, which the answer would have to
// repeat (§7.1.2.1) and gorilla's cannot. A value that does not parse as
// an extension list (RFC 6455 §9.1) offers nothing.
func deflateAcceptable(values []string) bool {
	found := false
	for _, v := range values {
		l := extLexer{s: v}
		for {
			l.s = strings.TrimLeft(l.s, ", \t") // empty list elements are allowed (RFC 9110 §5.6.1)
			if l.s == "" {
				break
			}
			name := l.token()
			if name == "" {
				return false
			}
			var o deflateOffer
			for l.skip(';') {
				param := l.token()
				if param == "" {
					return false
				}
				var value string
				has := l.skip('=')
				if has {
					var ok bool
					if value, ok = l.value(); !ok {
						return false
					}
				}
				o.add(param, value, has)
			}
			if strings.EqualFold(name, "permessage-deflate") && !o.invalid && !o.serverWindow {
				found = true
			}
			if l.s != "" && l.s[0] != ',' {
				return false
			}
		}
	}
	return found
}

// deflateOffer collects the parameters of one permessage-deflate offer.
type deflateOffer struct {
	seen         uint8 // one bit per parameter
	invalid      bool  // unknown or repeated parameter, or invalid value
	serverWindow bool  // asks for server_max_window_bits
}

func (o *deflateOffer) add(name, value string, hasValue bool) {
	var bit uint8
	switch strings.ToLower(name) {
	case "server_no_context_takeover":
		bit = 1
		o.invalid = o.invalid || hasValue
	case "client_no_context_takeover":
		bit = 2
		o.invalid = o.invalid || hasValue
	case "server_max_window_bits":
		bit = 4
		o.invalid = o.invalid || !windowBits(value)
		o.serverWindow = true
	case "client_max_window_bits":
		bit = 8
		o.invalid = o.invalid || hasValue && !windowBits(value)
	default:
		o.invalid = true
	}
	o.invalid = o.invalid || o.seen&bit != 0
	o.seen |= bit
}

// windowBits reports whether v is a window size an offer may name: 8 to
// 15, in decimal without leading zeros (RFC 7692 §7.1.2.1).
func windowBits(v string) bool {
	switch len(v) {
	case 1:
		return v[0] == '8' || v[0] == '9'
	case 2:
		return v[0] == '1' && '0' <= v[1] && v[1] <= '5'
	}
	return false
}

// extLexer splits a Sec-WebSocket-Extensions value into tokens, quoted
// strings and separators.
type extLexer struct{ s string }

// skip consumes c, and the whitespace around it, if c comes next.
func (l *extLexer) skip(c byte) bool {
	l.s = strings.TrimLeft(l.s, " \t")
	if l.s == "" || l.s[0] != c {
		return false
	}
	l.s = strings.TrimLeft(l.s[1:], " \t")
	return true
}

// token consumes a token (RFC 9110 §5.6.2) and the whitespace after it; it
// returns "" if none comes next.
func (l *extLexer) token() string {
	i := 0
	for i < len(l.s) && isTokenChar(l.s[i]) {
		i++
	}
	t := l.s[:i]
	l.s = strings.TrimLeft(l.s[i:], " \t")
	return t
}

// value consumes a parameter value, a token or a quoted string; a quoted
// one is returned unescaped and must be a token then (RFC 6455 §9.1).
func (l *extLexer) value() (string, bool) {
	if l.s == "" || l.s[0] != '"' {
		t := l.token()
		return t, t != ""
	}
	var v []byte
	for i := 1; i < len(l.s); i++ {
		switch c := l.s[i]; c {
		case '"':
			l.s = strings.TrimLeft(l.s[i+1:], " \t")
			t := string(v)
			return t, t != "" && len(strings.TrimLeft(t, tokenChars)) == 0
		case '\\':
			i++
			if i == len(l.s) {
				return "", false
			}
			v = append(v, l.s[i])
		default:
			v = append(v, c)
		}
	}
	return "", false
}

const tokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isTokenChar(c byte) bool {
	return strings.IndexByte(tokenChars, c) >= 0
}
