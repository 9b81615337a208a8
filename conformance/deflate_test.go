package conformance

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// permessage-deflate (RFC 7692): the client's side of the negotiation, and
// compressing and inflating messages.

// deflateParams is what a server's permessage-deflate answer settles.
type deflateParams struct {
	serverNoContextTakeover bool // the server starts every message with an empty window
}

// extension is one element of a Sec-WebSocket-Extensions list.
type extension struct {
	name   string
	params []extParam
}

type extParam struct {
	name, value string
	hasValue    bool
}

func (e extension) param(name string) (extParam, bool) {
	for _, p := range e.params {
		if p.name == name {
			return p, true
		}
	}
	return extParam{}, false
}

// parseExtensions splits a Sec-WebSocket-Extensions value (RFC 6455 §9.1)
// into extensions and their parameters. Quoted values lose their quotes.
func parseExtensions(s string) []extension {
	var exts []extension
	for item := range strings.SplitSeq(s, ",") {
		parts := strings.Split(item, ";")
		name := strings.TrimSpace(parts[0])
		if name == "" {
			continue
		}
		e := extension{name: strings.ToLower(name)}
		for _, p := range parts[1:] {
			k, v, has := strings.Cut(p, "=")
			e.params = append(e.params, extParam{
				name:     strings.ToLower(strings.TrimSpace(k)),
				value:    strings.Trim(strings.TrimSpace(v), `"`),
				hasValue: has,
			})
		}
		exts = append(exts, e)
	}
	return exts
}

// windowBits parses a max_window_bits value, 8 to 15 (RFC 7692 §7.1.2).
func windowBits(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > 15 || v != strconv.Itoa(n) {
		return 0, false
	}
	return n, true
}

// validDeflate reports what makes a permessage-deflate element invalid
// (RFC 7692 §7.1): an unknown or repeated parameter, or a bad value. In an
// offer, client_max_window_bits may come without a value; in an answer it
// may not.
func validDeflate(e extension, offer bool) error {
	seen := map[string]bool{}
	for _, p := range e.params {
		if seen[p.name] {
			return fmt.Errorf("parameter %s repeated", p.name)
		}
		seen[p.name] = true
		switch p.name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.hasValue {
				return fmt.Errorf("%s takes no value", p.name)
			}
		case "server_max_window_bits":
			if _, ok := windowBits(p.value); !ok {
				return fmt.Errorf("server_max_window_bits=%q", p.value)
			}
		case "client_max_window_bits":
			if offer && !p.hasValue {
				continue
			}
			if _, ok := windowBits(p.value); !ok {
				return fmt.Errorf("client_max_window_bits=%q", p.value)
			}
		default:
			return fmt.Errorf("unknown parameter %s", p.name)
		}
	}
	return nil
}

// accepts reports whether answer is a valid acceptance of offer (RFC 7692
// §7.1.1 and §7.1.2): a server_no_context_takeover or server_max_window_bits
// the offer asks for must be granted, and client_max_window_bits may only
// appear if offered, no larger than the offer's value.
func accepts(offer, answer extension) error {
	if _, ok := offer.param("server_no_context_takeover"); ok {
		if _, ok := answer.param("server_no_context_takeover"); !ok {
			return fmt.Errorf("offer asks for server_no_context_takeover, answer lacks it")
		}
	}
	if op, ok := offer.param("server_max_window_bits"); ok {
		ap, ok := answer.param("server_max_window_bits")
		want, _ := windowBits(op.value)
		if !ok {
			return fmt.Errorf("offer asks for server_max_window_bits=%d, answer lacks it", want)
		}
		if got, _ := windowBits(ap.value); got > want {
			return fmt.Errorf("server_max_window_bits=%d, offer allows %d", got, want)
		}
	}
	if ap, ok := answer.param("client_max_window_bits"); ok {
		op, ok := offer.param("client_max_window_bits")
		if !ok {
			return fmt.Errorf("client_max_window_bits in the answer, not in the offer")
		}
		if op.hasValue {
			want, _ := windowBits(op.value)
			if got, _ := windowBits(ap.value); got > want {
				return fmt.Errorf("client_max_window_bits=%d, offer allows %d", got, want)
			}
		}
	}
	return nil
}

// negotiation is the outcome of an extension offer.
type negotiation struct {
	params     *deflateParams // nil: permessage-deflate was not negotiated
	validOffer bool           // the offer held a valid permessage-deflate element
	problem    string         // what is wrong with the server's answer; "" if nothing
}

// negotiate checks the server's Sec-WebSocket-Extensions answer against
// the client's offer.
func negotiate(offer, answer string) negotiation {
	var valid []extension
	for _, e := range parseExtensions(offer) {
		if e.name == "permessage-deflate" && validDeflate(e, true) == nil {
			valid = append(valid, e)
		}
	}
	n := negotiation{validOffer: len(valid) > 0}
	got := parseExtensions(answer)
	if len(got) == 0 {
		return n
	}
	offered := parseExtensions(offer)
	for _, e := range got {
		if !slices.ContainsFunc(offered, func(o extension) bool { return o.name == e.name }) {
			n.problem = fmt.Sprintf("answer names extension %q, which was not offered (RFC 6455 §9.1)", e.name)
			return n
		}
	}
	if len(got) > 1 || got[0].name != "permessage-deflate" {
		n.problem = fmt.Sprintf("answer %q: only one permessage-deflate was offered", answer)
		return n
	}
	a := got[0]
	if err := validDeflate(a, false); err != nil {
		n.problem = fmt.Sprintf("answer %q is invalid: %v (RFC 7692 §7.1)", answer, err)
		return n
	}
	if len(valid) == 0 {
		n.problem = fmt.Sprintf("answer %q accepts an invalid offer %q that must be declined (RFC 7692 §5, §7.1)", answer, offer)
		return n
	}
	var why []string
	for _, o := range valid {
		err := accepts(o, a)
		if err == nil {
			_, noCtx := a.param("server_no_context_takeover")
			n.params = &deflateParams{serverNoContextTakeover: noCtx}
			return n
		}
		why = append(why, err.Error())
	}
	n.problem = fmt.Sprintf("answer %q accepts none of the offers: %s (RFC 7692 §7.1)", answer, strings.Join(why, "; "))
	return n
}

// deflateTail is the end of every compressed message, removed before
// sending (RFC 7692 §7.2.1) and added back to inflate. The final empty
// stored block after it ends the stream cleanly for compress/flate.
const (
	deflateTail = "\x00\x00\xff\xff"
	finalBlock  = "\x01\x00\x00\xff\xff"
)

// compress returns the payload of p compressed as one message without
// context takeover, which a client may always use.
func compress(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte(deflateTail))
}

// inflate decompresses one message from the server, with the previous
// messages' window unless the server resets it for every message.
func (c *client) inflate(p []byte) ([]byte, error) {
	in := io.MultiReader(bytes.NewReader(p), strings.NewReader(deflateTail+finalBlock))
	var r io.ReadCloser
	if c.deflate.serverNoContextTakeover || len(c.history) == 0 {
		r = flate.NewReader(in)
	} else {
		r = flate.NewReaderDict(in, c.history)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxFrame+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxFrame {
		return nil, fmt.Errorf("inflates past %d bytes", maxFrame)
	}
	if !c.deflate.serverNoContextTakeover {
		c.history = append(c.history, out...)
		if len(c.history) > 32<<10 {
			c.history = slices.Clone(c.history[len(c.history)-32<<10:])
		}
	}
	return out, nil
}
