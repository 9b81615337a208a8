package connection

import "encoding/binary"

// frameCheck follows the frame headers in the bytes a client sends, as
// socketConn.Read passes them to gorilla, to refuse what gorilla v1.5.3's
// reader accepts although the RFCs forbid it:
//
//   - RSV1 on a continuation or control frame. permessage-deflate defines
//     RSV1 for the first frame of a data message only (RFC 7692 §6.1), so
//     anywhere else it must fail the connection (RFC 6455 §5.2); once
//     compression is negotiated gorilla ignores it there.
//   - A close frame with a 1-byte body. A body starts with a 2-byte status
//     code (RFC 6455 §5.5.1); gorilla reads it as no code at all.
//
// It parses each header where it lies in the read (keeping the start of
// one that the end of a read cuts) and skips payloads whole, so it costs a
// few instructions per frame and allocates nothing. Every byte gorilla
// reads comes through socketConn.Read once and in order, so the headers it
// sees are the ones gorilla parses.
type frameCheck struct {
	skip uint64   // payload bytes of the current frame still to pass
	hdr  [14]byte // the start of a header that the end of a read cut; with hn 0, see last
	hn   uint8    // bytes in hdr
	off  bool     // a frame was refused: check no more
}

// setLast records the length (header and payload) of the frame whose
// header was parsed last, in hdr, which holds no header while hn is 0.
func (f *frameCheck) setLast(n uint64) { binary.LittleEndian.PutUint64(f.hdr[:8], n) }

// last returns what setLast recorded; only while hn is 0. The last
// frame's header then starts last()-skip bytes before the end of the
// bytes scanned.
func (f *frameCheck) last() uint64 { return binary.LittleEndian.Uint64(f.hdr[:8]) }

// frameError is a frame that frameCheck refused; its text is the reason
// for the close frame.
type frameError string

func (e frameError) Error() string { return string(e) }

const (
	errRSV1Continuation frameError = "RSV1 set on a continuation frame"
	errRSV1Control      frameError = "RSV1 set on a control frame"
	errCloseBody        frameError = "close frame with a 1-byte body"
)

// scan follows the frames in p, the next bytes read. When it refuses a
// frame it returns how many bytes of p come before that frame's header
// (0 if the header began in an earlier read), which may still pass, and
// the reason; it checks nothing after that.
func (f *frameCheck) scan(p []byte) (int, error) {
	i := 0
	for f.hn > 0 && i < len(p) { // complete the header the last read cut
		f.hdr[f.hn] = p[i]
		f.hn++
		i++
		if h, plen, ok := header(f.hdr[:f.hn]); ok {
			if err := check(f.hdr[0], plen); err != nil {
				f.off = true
				return 0, err
			}
			f.hn, f.skip = 0, plen
			f.setLast(uint64(h) + plen)
		}
	}
	if rest := uint64(len(p) - i); f.skip >= rest {
		f.skip -= rest
		return len(p), nil
	}
	i += int(f.skip)
	for i < len(p) {
		h, plen, ok := header(p[i:])
		if !ok { // cut by the end of p: shorter than hdr
			f.hn, f.skip = uint8(copy(f.hdr[:], p[i:])), 0
			return len(p), nil
		}
		if err := check(p[i], plen); err != nil {
			f.off = true
			return i, err
		}
		f.setLast(uint64(h) + plen)
		i += h
		if rest := uint64(len(p) - i); plen >= rest {
			f.skip = plen - rest
			return len(p), nil
		}
		i += int(plen)
	}
	f.skip = 0
	return len(p), nil
}

// header parses the frame header at the start of q: its length h, and
// the payload length. ok is false when q holds only part of it.
func header(q []byte) (h int, plen uint64, ok bool) {
	if len(q) < 2 {
		return 0, 0, false
	}
	h, plen = 2, uint64(q[1]&0x7f)
	switch plen {
	case 126:
		if len(q) < 4 {
			return 0, 0, false
		}
		h, plen = 4, uint64(binary.BigEndian.Uint16(q[2:]))
	case 127:
		if len(q) < 10 {
			return 0, 0, false
		}
		h, plen = 10, binary.BigEndian.Uint64(q[2:])
	}
	if q[1]&0x80 != 0 { // masked: a 4-byte key follows
		h += 4
	}
	return h, plen, len(q) >= h
}

// check judges a frame by the first byte of its header (FIN, RSV and
// opcode) and its payload length.
func check(b0 byte, plen uint64) error {
	const rsv1, opClose = 0x40, 0x8
	op := b0 & 0x0f
	switch {
	case b0&rsv1 != 0 && op == 0:
		return errRSV1Continuation
	case b0&rsv1 != 0 && op >= opClose:
		return errRSV1Control
	case op == opClose && plen == 1:
		return errCloseBody
	}
	return nil
}
