package soak

import (
	"math/bits"
	"testing"
)

// Every message the clients send is printable ASCII, a kind byte, the
// sender's id and the message's sequence number (8 hex digits each), then
// '.' up to msgSize bytes:
//
//	E<conn><seq>...  echo: the connection's own id
//	R<pub><seq>...   room: the publisher's index among the publishers
//	C<op>00000000... a churning connection's one echo
//
// Sequence numbers count from 0 on each stream, a stream being an echo
// connection's messages or, for each room member, one publisher's.
const (
	hdrLen  = 17
	msgSize = 64
)

const hexDigits = "0123456789abcdef"

// encode fills p (msgSize bytes) with a message.
func encode(p []byte, kind byte, id, seq uint32) {
	p[0] = kind
	for i := 7; i >= 0; i-- {
		p[1+i] = hexDigits[id&0xf]
		p[9+i] = hexDigits[seq&0xf]
		id >>= 4
		seq >>= 4
	}
	for i := hdrLen; i < len(p); i++ {
		p[i] = '.'
	}
}

// decode reads a message's header; ok is false unless p is one encode
// wrote.
func decode(p []byte) (kind byte, id, seq uint32, ok bool) {
	if len(p) != msgSize {
		return 0, 0, 0, false
	}
	hex := func(b []byte) (uint32, bool) {
		var v uint32
		for _, c := range b {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | uint32(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | uint32(c-'a'+10)
			default:
				return 0, false
			}
		}
		return v, true
	}
	id, ok1 := hex(p[1:9])
	seq, ok2 := hex(p[9:17])
	for _, c := range p[hdrLen:] {
		if c != '.' {
			return 0, 0, 0, false
		}
	}
	return p[0], id, seq, ok1 && ok2
}

// maxSeq bounds the sequence numbers a stream accepts, so that a corrupt
// one cannot make its bitmap huge: 1<<24 is 46 hours at 100 msg/s.
const maxSeq = 1 << 24

// stream records which sequence numbers of one sender have arrived at one
// receiver. It is used by one goroutine at a time.
type stream struct {
	seen      []uint64 // bit n: message n arrived
	next      uint32   // one past the highest arrived
	distinct  int64    // messages that arrived (once or more)
	dup       int64    // arrivals of a message that had arrived before
	reordered int64    // messages that arrived after a later one
}

// add records the arrival of seq and reports whether it is new.
func (s *stream) add(seq uint32) bool {
	w, bit := seq/64, uint64(1)<<(seq%64)
	for int(w) >= len(s.seen) {
		s.seen = append(s.seen, make([]uint64, len(s.seen)+1)...)
	}
	if s.seen[w]&bit != 0 {
		s.dup++
		return false
	}
	s.seen[w] |= bit
	s.distinct++
	if seq < s.next {
		s.reordered++
	} else {
		s.next = seq + 1
	}
	return true
}

// count is how many of the messages 0..n-1 have arrived (a check on
// distinct, which counts arrivals of any sequence number).
func (s *stream) count(n uint32) int64 {
	var c int
	for w := 0; w < len(s.seen) && uint32(w)*64 < n; w++ {
		word := s.seen[w]
		if rest := n - uint32(w)*64; rest < 64 {
			word &= 1<<rest - 1
		}
		c += bits.OnesCount64(word)
	}
	return int64(c)
}

func TestStream(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                           string
		arrivals                       []uint32
		sent                           uint32
		received, dup, reordered, lost int64
	}{
		{"in order", []uint32{0, 1, 2, 3}, 4, 4, 0, 0, 0},
		{"one lost", []uint32{0, 1, 3}, 4, 3, 0, 0, 1},
		{"duplicated", []uint32{0, 1, 1, 2}, 3, 3, 1, 0, 0},
		{"reordered", []uint32{0, 2, 1}, 3, 3, 0, 1, 0},
		{"across words", []uint32{63, 64, 65, 200}, 201, 4, 0, 0, 197},
		{"never sent", []uint32{0, 5}, 1, 1, 0, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s stream
			for _, seq := range tt.arrivals {
				s.add(seq)
			}
			got := s.count(tt.sent)
			if got != tt.received || s.dup != tt.dup || s.reordered != tt.reordered || int64(tt.sent)-got != tt.lost {
				t.Errorf("received %d, dup %d, reordered %d, lost %d; want %d, %d, %d, %d",
					got, s.dup, s.reordered, int64(tt.sent)-got, tt.received, tt.dup, tt.reordered, tt.lost)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	var p [msgSize]byte
	encode(p[:], 'R', 0xab, 0x12345678)
	kind, id, seq, ok := decode(p[:])
	if !ok || kind != 'R' || id != 0xab || seq != 0x12345678 {
		t.Errorf("decode(%q) = %c, %x, %x, %v", p, kind, id, seq, ok)
	}
	if _, _, _, ok := decode(p[:msgSize-1]); ok {
		t.Error("decode accepted a short message")
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		msg  string
		min  int
		want string
	}{
		{"churn 6344 (ws://127.0.0.1:37053/echo): close 1006", 1, "churn N (ws://N.N.N.N:N/echo): close N"},
		{"read tcp 127.0.0.1:19500->127.0.0.1:37053: close 1006", 5, "read tcp 127.0.0.1:N->127.0.0.1:N: close 1006"},
	} {
		if got := kindOf(tt.msg, tt.min); got != tt.want {
			t.Errorf("kindOf(%q, %d) = %q, want %q", tt.msg, tt.min, got, tt.want)
		}
	}
}
