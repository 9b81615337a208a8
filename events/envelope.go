package events

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// inbound is one decoded message. Its byte slices alias the message read
// from the connection, which belongs to the dispatcher (a fresh slice per
// message), so they stay valid for as long as they are referenced.
type inbound struct {
	event   []byte // raw event name (JSON string contents); see eventName
	escaped bool   // event holds escapes or invalid UTF-8: decode it with encoding/json
	id      string
	channel string
	payload []byte // the payload's JSON text; nil when absent
}

// eventName returns the event name as a string (allocating).
func (in *inbound) eventName() string {
	if !in.escaped {
		return string(in.event)
	}
	var s string
	_ = json.Unmarshal(in.event, &s) // checked by decode
	return s
}

// envelope names the fields of a wire format.
type envelope struct {
	event, payload, id, channel string
}

var (
	// eventEnvelope is forge's {"event", "id", "payload"}.
	eventEnvelope = &envelope{event: "event", payload: "payload", id: "id"}
	// commandEnvelope is the {"channel", "cmd", "param"} of command
	// services, with an optional "id" for replies.
	commandEnvelope = &envelope{event: "cmd", payload: "param", id: "id", channel: "channel"}
)

// Decoding errors; their text is sent to the client in the error event.
var (
	errNotJSON      = errors.New("the message is not valid JSON")
	errNotObject    = errors.New("the message must be a JSON object")
	errNoEvent      = errors.New("the message has no event name")
	errEventString  = errors.New("the event name must be a string")
	errIDString     = errors.New("the id must be a string")
	errChanString   = errors.New("the channel must be a string")
	errNoEventCmd   = errors.New("the message has no cmd")
	errEventCmdType = errors.New("cmd must be a string")
)

// decode parses one message in one pass that also validates it, as
// encoding/json would (the fuzz test holds it to that), without copying
// the payload. Keys match exactly, unknown keys are ignored, and a
// repeated key counts with its last value, as in encoding/json's decoding
// into a map. A null id (or channel) counts as absent; a null payload is
// kept as "null".
func (e *envelope) decode(data []byte, in *inbound) error {
	p := scanner{data: data}
	p.space()
	if p.i >= len(data) {
		return errNotJSON
	}
	if data[p.i] != '{' {
		if !p.value() || !p.end() {
			return errNotJSON
		}
		return errNotObject
	}
	p.i++
	p.depth = 1
	var event, id, channel []byte
	p.space()
	if p.i < len(data) && data[p.i] == '}' {
		p.i++
	} else {
		for {
			p.space()
			kStart := p.i
			if !p.string() {
				return errNotJSON
			}
			key := data[kStart+1 : p.i-1]
			p.space()
			if !p.consume(':') {
				return errNotJSON
			}
			p.space()
			vStart := p.i
			if !p.value() {
				return errNotJSON
			}
			val := data[vStart:p.i]
			switch e.field(key) {
			case fieldEvent:
				event = val
			case fieldID:
				id = val
			case fieldChannel:
				channel = val
			case fieldPayload:
				in.payload = val
			}
			p.space()
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				break
			}
			return errNotJSON
		}
	}
	if !p.end() {
		return errNotJSON
	}
	var ok bool
	if id != nil {
		if in.id, ok = stringValue(id); !ok {
			return errIDString
		}
	}
	if channel != nil {
		if in.channel, ok = stringValue(channel); !ok {
			return errChanString
		}
	}
	if event != nil && event[0] != '"' && string(event) != "null" {
		if e == commandEnvelope {
			return errEventCmdType
		}
		return errEventString
	}
	if len(event) <= 2 || event[0] != '"' { // absent, null or ""
		if e == commandEnvelope {
			return errNoEventCmd
		}
		return errNoEvent
	}
	raw := event[1 : len(event)-1]
	in.event, in.escaped = raw, needsDecoding(raw)
	if in.escaped {
		in.event = event // keep the quotes for json.Unmarshal
		if in.eventName() == "" {
			return errNoEvent
		}
	}
	return nil
}

type field int

const (
	fieldOther field = iota
	fieldEvent
	fieldPayload
	fieldID
	fieldChannel
)

// field identifies a key by its raw bytes, decoding it first only when it
// holds escapes or invalid UTF-8.
func (e *envelope) field(raw []byte) field {
	if needsDecoding(raw) {
		return e.fieldOf(decodeKey(raw))
	}
	// string(raw) in comparisons does not allocate.
	switch {
	case string(raw) == e.event:
		return fieldEvent
	case string(raw) == e.payload:
		return fieldPayload
	case string(raw) == e.id:
		return fieldID
	case e.channel != "" && string(raw) == e.channel:
		return fieldChannel
	}
	return fieldOther
}

func (e *envelope) fieldOf(key string) field {
	switch {
	case key == e.event:
		return fieldEvent
	case key == e.payload:
		return fieldPayload
	case key == e.id:
		return fieldID
	case e.channel != "" && key == e.channel:
		return fieldChannel
	}
	return fieldOther
}

// decodeKey decodes the contents of a JSON string (known to be valid).
func decodeKey(raw []byte) string {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var key string
	_ = json.Unmarshal(q, &key)
	return key
}

// stringValue decodes a JSON string or null (as "").
func stringValue(val []byte) (string, bool) {
	if string(val) == "null" {
		return "", true
	}
	if val[0] != '"' {
		return "", false
	}
	raw := val[1 : len(val)-1]
	if !needsDecoding(raw) {
		return string(raw), true
	}
	var s string
	if json.Unmarshal(val, &s) != nil {
		return "", false
	}
	return s, true
}

// needsDecoding reports whether string contents differ from their JSON
// decoding: escapes, or bytes that are not valid UTF-8 (which encoding/json
// replaces).
func needsDecoding(raw []byte) bool {
	ascii := true
	for _, c := range raw {
		if c == '\\' {
			return true
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return !ascii && !utf8.Valid(raw)
}

// scanner validates JSON as encoding/json does: the same grammar, the
// same nesting limit, and like it, it does not check that strings are
// valid UTF-8.
type scanner struct {
	data  []byte
	i     int
	depth int
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

func (p *scanner) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) consume(c byte) bool {
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (p *scanner) end() bool {
	p.space()
	return p.i == len(p.data)
}

func (p *scanner) value() bool {
	if p.i >= len(p.data) {
		return false
	}
	switch c := p.data[p.i]; {
	case c == '"':
		return p.string()
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

func (p *scanner) literal(lit string) bool {
	if len(p.data)-p.i >= len(lit) && string(p.data[p.i:p.i+len(lit)]) == lit {
		p.i += len(lit)
		return true
	}
	return false
}

func (p *scanner) object() bool {
	if p.depth++; p.depth > maxDepth {
		return false
	}
	p.i++ // '{'
	p.space()
	if p.consume('}') {
		p.depth--
		return true
	}
	for {
		p.space()
		if !p.string() {
			return false
		}
		p.space()
		if !p.consume(':') {
			return false
		}
		p.space()
		if !p.value() {
			return false
		}
		p.space()
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			p.depth--
			return true
		}
		return false
	}
}

func (p *scanner) array() bool {
	if p.depth++; p.depth > maxDepth {
		return false
	}
	p.i++ // '['
	p.space()
	if p.consume(']') {
		p.depth--
		return true
	}
	for {
		p.space()
		if !p.value() {
			return false
		}
		p.space()
		if p.consume(',') {
			continue
		}
		if p.consume(']') {
			p.depth--
			return true
		}
		return false
	}
}

// string checks the string starting at data[i] and moves past it.
func (p *scanner) string() bool {
	d := p.data
	if p.i >= len(d) || d[p.i] != '"' {
		return false
	}
	for i := p.i + 1; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			p.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(d) {
				return false
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) {
					return false
				}
				for _, h := range d[i+1 : i+5] {
					if !isHex(h) {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *scanner) number() bool {
	d, i := p.data, p.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.i = i
	return true
}

// appendEnvelope writes one message in the format. payload, when not nil,
// must be valid JSON.
func (e *envelope) appendEnvelope(b []byte, event, id, channel string, payload []byte) []byte {
	b = append(b, '{')
	if e.channel != "" {
		b = append(b, `"channel":`...)
		b = appendQuoted(b, channel)
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, e.event...)
	b = append(b, `":`...)
	b = appendQuoted(b, event)
	if id != "" {
		b = append(b, `,"id":`...)
		b = appendQuoted(b, id)
	}
	if payload != nil {
		b = append(b, ',', '"')
		b = append(b, e.payload...)
		b = append(b, `":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
