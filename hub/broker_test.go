package hub

import (
	"bytes"
	"reflect"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kind   byte
		node   string
		target string
		msg    Message
	}{
		{"empty", kindRoom, "n", "", Message{Data: []byte{}}},
		{"text with label", kindRoom, "node_1", "", Message{Data: []byte(`{"event":"x"}`), Event: "x"}},
		{"binary to all with exceptions", kindAll, "node_2", "", Message{Data: []byte{0, 1, 2}, Binary: true, Except: []string{"ws_a", "ws_b"}}},
		{"to one connection", kindConn, "node_3", "ws_x", Message{Data: []byte("direct"), Event: "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodeFrame(encodeFrame(tt.kind, tt.node, tt.target, &tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			if f.kind != tt.kind || f.node != tt.node || f.target != tt.target || !reflect.DeepEqual(f.msg, tt.msg) {
				t.Fatalf("decoded %+v, want kind %d node %q %+v", f, tt.kind, tt.node, tt.msg)
			}
		})
	}
}

// FuzzDecodeFrame feeds arbitrary broker messages to the decoder, which
// must never panic, and checks that whatever it accepts encodes back to the
// same bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(encodeFrame(kindRoom, "node", "", &Message{Data: []byte("hi"), Event: "e", Except: []string{"ws_1"}}))
	f.Add(encodeFrame(kindAll, "", "", &Message{Binary: true}))
	f.Add(encodeFrame(kindConn, "n", "ws_1", &Message{Data: []byte("x")}))
	f.Add([]byte{1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1})
	f.Add([]byte{1, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeFrame(data)
		if err != nil {
			return
		}
		if got := encodeFrame(fr.kind, fr.node, fr.target, &fr.msg); !bytes.Equal(got, data) {
			// Uvarints have one canonical form only when minimal; a
			// non-minimal length is accepted but re-encodes shorter.
			again, err := decodeFrame(got)
			if err != nil || !reflect.DeepEqual(again, fr) {
				t.Fatalf("%x decoded to %+v, which re-encodes to %x", data, fr, got)
			}
		}
	})
}
