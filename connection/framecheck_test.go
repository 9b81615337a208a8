package connection

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestFrameCheck(t *testing.T) {
	t.Parallel()
	text := clientFrame(opText, []byte("hello"))
	long := clientFrame(0x2, make([]byte, 70000)) // a 64-bit length
	// A close frame whose 1-byte body is announced in 16 bits, as gorilla
	// accepts it.
	wideClose := []byte{0x80 | opClose, 0x80 | 126, 0, 1, 0, 0, 0, 0, 0x03}
	tests := []struct {
		name   string
		stream []byte
		at     int // where the refused frame starts; -1: nothing refused
		want   error
	}{
		{"messages and control frames", cat(text, long, clientFrame(opPing, []byte("p")), clientFrame(opClose, []byte{0x03, 0xe8}), text), -1, nil},
		{"RSV1 on a first frame", cat(clientFragment(0x40|opText, []byte("z")), clientFragment(0x80, []byte("z"))), -1, nil},
		{"empty close", cat(text, clientFrame(opClose, nil)), -1, nil},
		{"unmasked frame", []byte{0x81, 0x01, 'a', 0x81, 0x00}, -1, nil},
		{"RSV1 on a continuation", cat(clientFragment(opText, []byte("plain")), clientFragment(0x80|0x40, []byte(" text"))), len(clientFragment(opText, []byte("plain"))), errRSV1Continuation},
		{"RSV1 on a ping", cat(long, clientFragment(0x80|0x40|opPing, []byte("x")), text), len(long), errRSV1Control},
		{"RSV1 on a pong", clientFragment(0x80|0x40|opPong, nil), 0, errRSV1Control},
		{"RSV1 on a close", cat(text, clientFragment(0x80|0x40|opClose, []byte{0x03, 0xe8})), len(text), errRSV1Control},
		{"close with a 1-byte body", cat(text, text, clientFrame(opClose, []byte{0x03})), 2 * len(text), errCloseBody},
		{"close with a 1-byte body in a 16-bit length", cat(text, wideClose), len(text), errCloseBody},
	}
	for _, tt := range tests {
		// Whole, and cut in two at every place: the frames come in
		// reads of any size.
		for split := 0; split <= len(tt.stream); split++ {
			if len(tt.stream) > 1000 && split%997 != 0 && split != len(tt.stream) {
				continue
			}
			var f frameCheck
			at, err := -1, error(nil)
			if k, e := f.scan(tt.stream[:split]); e != nil {
				at, err = k, e
			} else if k, e := f.scan(tt.stream[split:]); e != nil {
				at, err = split+k, e
			}
			want := tt.at
			if tt.want != nil && want < split && at >= split {
				want = split // the header began in the first read, which has passed
			}
			if err != tt.want || at != want {
				t.Errorf("%s, cut at %d: refused at %d (%v), want at %d (%v)", tt.name, split, at, err, want, tt.want)
			}
		}
	}
}

// FuzzFrameCheck: whatever the bytes, frameCheck refuses the same frame
// whether they come in one read or in two.
func FuzzFrameCheck(f *testing.F) {
	f.Add(cat(clientFrame(opText, []byte("hi")), clientFragment(0x80|0x40|opPing, nil)), uint16(3))
	f.Add(cat(clientFrame(opClose, []byte{1}), clientFrame(0x2, make([]byte, 300))), uint16(1))
	f.Add(binary.BigEndian.AppendUint64([]byte{0x82, 0xff}, 1<<63), uint16(5))
	f.Fuzz(func(t *testing.T, stream []byte, split uint16) {
		cut := int(split) % (len(stream) + 1)
		var whole frameCheck
		atWhole, errWhole := whole.scan(stream)
		var parts frameCheck
		at, err := parts.scan(stream[:cut])
		if err == nil {
			at, err = parts.scan(stream[cut:])
			at += cut
		}
		if err != errWhole {
			t.Fatalf("whole: %v; cut at %d: %v", errWhole, cut, err)
		}
		if err == nil {
			if at != len(stream) {
				t.Fatalf("%d of %d bytes pass, want all", at, len(stream))
			}
			return
		}
		if atWhole > cut && at != atWhole || atWhole <= cut && at != atWhole && at != cut {
			t.Fatalf("refused at %d whole, at %d when cut at %d", atWhole, at, cut)
		}
	})
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
