package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// family groups cases as Autobahn|Testsuite does; the number is the first
// part of a case ID.
type family int

const (
	famFraming       family = 1
	famPings         family = 2
	famReserved      family = 3
	famOpcodes       family = 4
	famFragmentation family = 5
	famUTF8          family = 6
	famClose         family = 7
	famLimits        family = 9
	famCompression   family = 12
)

var families = []family{famFraming, famPings, famReserved, famOpcodes, famFragmentation, famUTF8, famClose, famLimits, famCompression}

func (f family) String() string {
	switch f {
	case famFraming:
		return "framing"
	case famPings:
		return "pings/pongs"
	case famReserved:
		return "reserved bits"
	case famOpcodes:
		return "opcodes"
	case famFragmentation:
		return "fragmentation"
	case famUTF8:
		return "UTF-8"
	case famClose:
		return "close handshake"
	case famLimits:
		return "limits"
	case famCompression:
		return "compression"
	}
	return fmt.Sprintf("family %d", int(f))
}

// verdict grades a server's behaviour in one case, worst first.
type verdict int

const (
	failed        verdict = iota // the server broke a MUST of the RFCs
	nonStrict                    // acceptable, but not what the RFC names
	unimplemented                // the server declined an optional feature (permessage-deflate)
	ok                           // what the RFC requires
)

func (v verdict) String() string {
	return [...]string{"FAILED", "NON-STRICT", "UNIMPLEMENTED", "OK"}[v]
}

// rank orders verdicts for comparing servers: declining compression counts
// like a non-strict answer.
func (v verdict) rank() int {
	return [...]int{0, 1, 1, 2}[v]
}

// testCase is one conformance case: frames to send, and what the server
// must answer.
type testCase struct {
	id     string
	family family
	title  string // what is sent
	offer  string // Sec-WebSocket-Extensions offer; "" offers nothing
	parts  []part
	expect []event // the messages and pongs the server must send, in order
	want   outcome
	heavy  bool // megabytes of traffic: run alone, with a longer timeout

	// anyOrder accepts the expected events in another order, as NON-STRICT.
	anyOrder bool
	// check, when set, replaces comparing the events with expect.
	check func(got []event) (verdict, string)
	// doneAfter, when set, says when the client has seen enough to close;
	// by default, once as many events as expected arrived.
	doneAfter func(got []event) bool
}

// part is frames written together; the client waits for the server between
// parts only where window is set.
type part struct {
	frames []frame
	chunk  int // write in pieces of this many bytes; 0 writes each frame at once
	// window, when set, is how long to wait after this part for the server
	// to fail the connection before the next part goes out.
	window time.Duration
}

// outcome is how the connection must end.
type outcome struct {
	kind outcomeKind
	// wantFail: the codes the RFC names for the failure (any is OK), and
	// other codes that are acceptable but less exact (NON-STRICT).
	codes, alt []int
	// wantFail: RFC 6455 lets the server close TCP without a close frame
	// (§5.1 for unmasked frames), so a drop is OK rather than NON-STRICT.
	drop bool
	// wantFail: failing before the script's last part is required for OK
	// (fail-fast); failing only at the end is NON-STRICT.
	failFast bool
}

type outcomeKind int

const (
	wantEcho       outcomeKind = iota // the expected events, then the client closes with 1000
	wantCloseReply                    // the script closes; the server answers the close
	wantFail                          // the server fails the connection
	wantFailOrEcho                    // failing is OK; answering with expect is NON-STRICT
)

// Timeouts of a case. Only a server that does not answer makes a case wait
// for them.
const (
	answerTimeout = 15 * time.Second // for the expected events or the close frame
	heavyTimeout  = 60 * time.Second // the same for cases with megabytes of traffic
	closeWait     = 2 * time.Second  // for the server to close TCP after the closing handshake
)

// result is one case's verdict against one server.
type result struct {
	verdict verdict
	notes   []note // why it is not OK
}

// note is one finding of a case, with the verdict it earns.
type note struct {
	verdict verdict
	text    string
}

func (r result) detail() string {
	s := make([]string, len(r.notes))
	for i, n := range r.notes {
		s[i] = n.text
	}
	return strings.Join(s, "; ")
}

// transcript is what happened in one run of a case.
type transcript struct {
	neg         negotiation
	got         []event // messages and pongs before the server's close
	violation   string  // the server broke a framing rule
	failFast    bool    // the server failed before the script's last part
	sentClose   bool    // the client sent a close frame
	ourCode     int     // its code; 0 for none
	serverClose *event  // the server's close frame
	serverFirst bool    // the server's close frame came before the client's
	handshakeAt time.Time
	closedTCP   bool
	cut         bool // the client stopped inside a frame, so it cannot answer with a close frame
	// The server answered the probe, a ping sent after the frames it had
	// to fail on, or something it had to refuse: it did not fail, and the
	// case ends without sitting out the timeout.
	probeAnswered, answeredBad bool
}

// probe is the payload of the ping sent after a script the server must
// fail on.
var probe = []byte("conformance probe")

// session runs one case on one connection.
type session struct {
	tc *testCase
	c  *client
	tr transcript
}

// run plays tc against the server at addr.
func run(addr, path string, tc *testCase) result {
	v, notes := runCase(addr, path, tc)
	return result{verdict: v, notes: notes}
}

func runCase(addr, path string, tc *testCase) (verdict, []note) {
	c, answer, err := dial(addr, path, tc.offer)
	if err != nil {
		return failed, []note{{failed, err.Error()}}
	}
	s := &session{tc: tc, c: c}
	s.tr.neg = negotiate(tc.offer, answer)
	if s.tr.neg.problem != "" {
		c.nc.Close()
		return failed, []note{{failed, "negotiation: " + s.tr.neg.problem}}
	}
	c.deflate = s.tr.neg.params
	c.start()
	defer c.shutdown()
	if tc.family == famCompression && c.deflate == nil && s.tr.neg.validOffer {
		c.writeFrame(closeFrame(1000, ""))
		return unimplemented, []note{{unimplemented, "permessage-deflate declined"}}
	}
	s.play()
	return s.judge()
}

func (s *session) timeout() time.Duration {
	if s.tc.heavy {
		return heavyTimeout
	}
	return answerTimeout
}

// play writes the script, then reads until the server closes TCP, breaks
// a rule, or a timeout passes.
func (s *session) play() {
	for i, p := range s.tc.parts {
		sent, err := s.c.write(p.frames, p.chunk)
		if sent {
			s.sentClose(p.frames)
		}
		if err != nil {
			s.tr.cut = errors.Is(err, errFrameCut)
			break
		}
		if p.window > 0 && i < len(s.tc.parts)-1 {
			s.wait(time.Now().Add(p.window), s.serverFailed)
			if s.serverFailed() {
				s.tr.failFast = true
				break
			}
		}
	}
	s.closeIfDone()
	if s.tc.want.kind == wantFail && !s.tr.sentClose && !s.serverFailed() {
		s.c.write([]frame{ctlFrame(opPing, probe)}, 0)
	}
	s.wait(time.Now().Add(s.timeout()), func() bool {
		return s.tr.closedTCP || s.tr.violation != "" || s.tr.probeAnswered || s.tr.answeredBad
	})
}

func (s *session) serverFailed() bool {
	return s.tr.serverClose != nil || s.tr.closedTCP || s.tr.violation != ""
}

// sentClose records the client's close frame, the first among frames.
func (s *session) sentClose(frames []frame) {
	if s.tr.sentClose {
		return
	}
	s.tr.sentClose = true
	for _, f := range frames {
		if f.op == opClose {
			if len(f.payload) >= 2 {
				s.tr.ourCode = int(binary.BigEndian.Uint16(f.payload))
			}
			break
		}
	}
	if s.tr.serverClose != nil {
		s.tr.handshakeAt = time.Now()
	}
}

// wait takes events until done reports true, the reader ends, or deadline
// passes; once the closing handshake is complete, the deadline is closeWait
// after it.
func (s *session) wait(deadline time.Time, done func() bool) {
	for !done() {
		d := deadline
		if !s.tr.handshakeAt.IsZero() {
			d = s.tr.handshakeAt.Add(closeWait)
		}
		t := time.NewTimer(time.Until(d))
		select {
		case ev, open := <-s.c.events:
			t.Stop()
			if !open {
				return
			}
			s.take(ev)
		case <-t.C:
			return
		}
	}
}

// take records one event and answers it as a client would.
func (s *session) take(ev event) {
	switch ev.kind {
	case evMessage, evPong:
		if s.tc.want.kind == wantFail && ev.kind == evPong && bytes.Equal(ev.data, probe) {
			s.tr.probeAnswered = true
			return
		}
		s.tr.got = append(s.tr.got, ev)
		s.tr.answeredBad = s.tc.want.kind == wantFail && len(s.tr.got) > len(s.tc.expect)
		s.closeIfDone()
	case evClose:
		s.tr.serverClose = &ev
		if s.tr.sentClose {
			s.tr.handshakeAt = time.Now()
			return
		}
		s.tr.serverFirst = true
		if s.tr.cut {
			return
		}
		// Answer with the server's code, as endpoints typically do (§5.5.1).
		reply, code := emptyClose(), 0
		if sendableCode(ev.code) {
			reply, code = closeFrame(ev.code, ""), ev.code
		}
		if s.c.writeFrame(reply) == nil {
			s.tr.sentClose, s.tr.ourCode = true, code
			s.tr.handshakeAt = time.Now()
		}
	case evViolation:
		s.tr.violation = ev.detail
	case evEOF:
		s.tr.closedTCP = true
	}
}

// closeIfDone starts the closing handshake once the server has sent what
// an echo case expects.
func (s *session) closeIfDone() {
	k := s.tc.want.kind
	if s.tr.sentClose || s.serverFailed() || (k != wantEcho && k != wantFailOrEcho) {
		return
	}
	done := len(s.tr.got) >= len(s.tc.expect)
	if s.tc.doneAfter != nil {
		done = s.tc.doneAfter(s.tr.got)
	}
	if done && s.c.writeFrame(closeFrame(1000, "")) == nil {
		s.sentClose([]frame{closeFrame(1000, "")})
	}
}

// judge grades the transcript: the events, how the connection ended, and
// whether the server closed TCP after the closing handshake.
func (s *session) judge() (verdict, []note) {
	tc, tr := s.tc, &s.tr
	v := ok
	var notes []note
	lower := func(nv verdict, text string) {
		v = min(v, nv)
		notes = append(notes, note{nv, text})
	}
	if tr.violation != "" {
		lower(failed, "server: "+tr.violation)
	}
	kind := tc.want.kind
	if kind == wantFailOrEcho {
		// The server either refused what it got, or answered it.
		kind = wantEcho
		refused := tr.serverClose != nil && slices.Contains(tc.want.codes, tr.serverClose.code) && tr.ourCode != tr.serverClose.code
		if tr.serverFirst || refused || (tr.serverClose == nil && tr.closedTCP && !tr.sentClose) {
			kind = wantFail
		}
	}
	if dv, note := s.compare(); dv != ok {
		lower(dv, note)
	}
	switch kind {
	case wantEcho, wantCloseReply:
		switch {
		case tr.serverClose == nil && !tr.sentClose && tr.closedTCP:
			lower(failed, fmt.Sprintf("closed TCP without a close frame; got %s, want %s", eventList(tr.got), eventList(tc.expect)))
		case tr.serverClose == nil && !tr.sentClose:
			lower(failed, fmt.Sprintf("no answer within %v: got %s, want %s", s.timeout(), eventList(tr.got), eventList(tc.expect)))
		case tr.serverClose == nil && tr.closedTCP:
			lower(failed, "closed TCP without answering the client's close frame (RFC 6455 §5.5.1)")
		case tr.serverClose == nil:
			lower(failed, fmt.Sprintf("no close frame within %v of the client's", s.timeout()))
		case tr.serverFirst:
			lower(failed, fmt.Sprintf("closed first, with %s, instead of answering", tr.serverClose))
		default:
			if nv, note := replyCode(tr.ourCode, tr.serverClose.code); nv != ok {
				lower(nv, note)
			}
		}
		if tc.want.kind == wantFailOrEcho && v > failed {
			lower(nonStrict, "accepted it (the RFC binds only the sender here)")
		}
	case wantFail:
		want := tc.want
		switch {
		case tr.serverClose != nil:
			switch code := tr.serverClose.code; {
			case slices.Contains(want.codes, code):
			case slices.Contains(want.alt, code):
				lower(nonStrict, fmt.Sprintf("failed with %d where the RFC names %s", code, codeList(want.codes)))
			default:
				lower(failed, fmt.Sprintf("failed with %s, want %s", tr.serverClose, codeList(want.codes)))
			}
		case tr.closedTCP && want.drop:
		case tr.closedTCP:
			lower(nonStrict, "closed TCP without a close frame (RFC 6455 §7.1.7: it SHOULD send one)")
		case tr.probeAnswered:
			lower(failed, "connection not failed: it answered a ping sent after the frames")
		case tr.answeredBad:
			lower(failed, "connection not failed")
		default:
			lower(failed, fmt.Sprintf("connection not failed within %v", s.timeout()))
		}
		if want.failFast && !tr.failFast && (tr.serverClose != nil || tr.closedTCP) {
			lower(nonStrict, "failed at the end of the message, not at the first invalid fragment")
		}
	}
	switch {
	case tr.closedTCP || tr.violation != "" || tr.serverClose == nil:
	case tr.sentClose:
		lower(failed, fmt.Sprintf("kept TCP open %v after the closing handshake; the server must close it at once (RFC 6455 §5.5.1)", closeWait))
	case !tr.probeAnswered && !tr.answeredBad:
		lower(failed, fmt.Sprintf("kept TCP open %v after its close frame (RFC 6455 §7.1.1)", s.timeout()))
	}
	return v, notes
}

// compare checks the messages and pongs the server sent. The first of
// those expected are enough: what an echo case still misses is judged with
// the ending, and a server that read ahead may fail the connection, or
// answer the client's close, before it answers earlier messages (RFC 6455
// §5.5.1 and §7.1.7 let it send no more data then).
func (s *session) compare() (verdict, string) {
	got, want := s.tr.got, s.tc.expect
	if s.tc.check != nil {
		return s.tc.check(got)
	}
	if slices.EqualFunc(got, want, sameEvent) {
		return ok, ""
	}
	if s.tc.anyOrder && len(got) == len(want) && sameMultiset(got, want) {
		return nonStrict, fmt.Sprintf("answered in another order: %s", eventList(got))
	}
	if len(got) < len(want) && slices.EqualFunc(got, want[:len(got)], sameEvent) {
		return ok, ""
	}
	return failed, fmt.Sprintf("got %s, want %s", eventList(got), eventList(want))
}

// replyCode grades the server's answer to the client's close frame: the
// same code is usual (§5.5.1), 1000 is fine, another code is NON-STRICT.
func replyCode(sent, got int) (verdict, string) {
	switch {
	case got == sent, got == 1000, sent == 0 && got == 0:
		return ok, ""
	}
	return nonStrict, fmt.Sprintf("answered close %d with %d", sent, got)
}

func sameEvent(a, b event) bool {
	return a.kind == b.kind && a.op == b.op && string(a.data) == string(b.data)
}

func sameMultiset(a, b []event) bool {
	rest := slices.Clone(b)
	for _, e := range a {
		i := slices.IndexFunc(rest, func(r event) bool { return sameEvent(e, r) })
		if i < 0 {
			return false
		}
		rest = slices.Delete(rest, i, i+1)
	}
	return len(rest) == 0
}

func eventList(evs []event) string {
	if len(evs) == 0 {
		return "nothing"
	}
	if len(evs) > 4 {
		return fmt.Sprintf("%s … %s (%d events)", evs[0], evs[len(evs)-1], len(evs))
	}
	parts := make([]string, len(evs))
	for i, e := range evs {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

func codeList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}
