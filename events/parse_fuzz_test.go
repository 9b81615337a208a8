package events

import (
	"encoding/json"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/hub"
)

// recoverEntry is what a ?recover= value says, read independently of
// parseRecover: the room up to the second-to-last colon, then the epoch,
// then a decimal offset.
var recoverEntry = regexp.MustCompile(`(?s)^(.+):([^:]+):([0-9]+)$`)

// FuzzParseRecover: the positions read from any ?recover= values are the
// well-formed values, the last one of a room counting, at most maxRecover
// rooms, and nothing else.
func FuzzParseRecover(f *testing.F) {
	for _, s := range []string{
		"lobby:e1:7",
		"a:b:c:e:12\nlobby:e1:7\nlobby:e2:9",
		":e:1\nr::1\nr:e:\nr:e:-1\nr:e:+1\nr:e:18446744073709551616",
		"r:e:007\nr:e:18446744073709551615",
		"room with spaces:\u00e9poque:0",
		strings.Repeat("r:e:1\n", 3),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		values := strings.Split(joined, "\n")
		got := parseRecover(values)
		want := map[string]hub.StreamPosition{}
		for _, v := range values {
			if len(want) == maxRecover {
				break
			}
			m := recoverEntry.FindStringSubmatch(v)
			if m == nil {
				continue
			}
			off, err := strconv.ParseUint(m[3], 10, 64)
			if err != nil {
				continue
			}
			want[m[1]] = hub.StreamPosition{Epoch: m[2], Offset: off}
		}
		if len(got) != len(want) || !maps.Equal(got, want) {
			t.Fatalf("parseRecover(%q) = %v, want %v", values, got, want)
		}
	})
}

// FuzzSubscriptions: the set of events a connection receives, from its
// ?events= list and then subscribe and unsubscribe events, is what a plain
// model of the rules says: a blank list means all (a list of empty names,
// such as ",", means none), "*" means all (or none, when unsubscribed),
// names are trimmed, empty names ignored.
func FuzzSubscriptions(f *testing.F) {
	f.Add("chat,typing", "-chat\n+*\n-typing", "chat")
	f.Add("", "-a", "a")
	f.Add(" , ,", "+b", "b")
	f.Add("*", "-*\n+ a ", "a")
	f.Add("a,*", "-a", "a")
	f.Add("\u00e9v\u00e9nement", "", "\u00e9v\u00e9nement")
	f.Fuzz(func(t *testing.T, query, ops, probe string) {
		s := newSubscriptions(query)
		// The model: all, plus exceptions; or only the names listed.
		all, names := strings.TrimSpace(query) == "", map[string]bool{}
		apply := func(subscribe bool, name string) {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
			case name == "*":
				all, names = subscribe, map[string]bool{}
			case subscribe != all:
				// Subscribing to a listed set, or unsubscribing from
				// all-but-some: the name is listed.
				names[name] = true
			default:
				delete(names, name)
			}
		}
		for name := range strings.SplitSeq(query, ",") {
			apply(true, name)
		}
		for op := range strings.SplitSeq(ops, "\n") {
			if len(op) == 0 || op[0] != '+' && op[0] != '-' {
				continue
			}
			s.update(op[0] == '+', []string{op[1:]})
			apply(op[0] == '+', op[1:])
		}
		check := func(event string) {
			if want := all != names[event]; s.Accepts(event) != want {
				t.Fatalf("?events=%q then %q: Accepts(%q) = %v, want %v", query, ops, event, !want, want)
			}
		}
		check(probe)
		for name := range names {
			check(name)
		}
	})
}

// FuzzInbound sends any text message to an events route, in each envelope,
// and checks the answer: an acknowledgment or an error event, in the
// route's own envelope, and the connection still serving.
func FuzzInbound(f *testing.F) {
	for _, s := range []string{
		`{"event":"say","id":"1","payload":{"text":"hi"}}`,
		`{"channel":"c","cmd":"say","param":{"text":"hi"},"id":"1"}`,
		`{"event":"say","id":"2","payload":{"text":""}}`,
		`{"event":"say","id":"3","payload":{"text":1}}`,
		`{"event":"say","id":"4","payload":{"text":"` + strings.Repeat("x", 40) + `"}}`,
		`{"event":"nope","id":"5"}`,
		`{"event":"say","id":"6"`,
		`{"event":"say","id":{}}`,
		`{"event":"subscribe","id":"7","payload":{"events":[]}}`,
		`{"event":"say_ack","id":"8"}`,
		`[]`,
		``,
		`{"event":"say","id":"9","payload":{"text":"\ud800"}}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	type say struct {
		Text string `json:"text" required:"true" minLength:"1" maxLength:"32"`
	}
	conns := map[bool]*websocket.Conn{}
	for _, command := range []bool{false, true} {
		opts := []DispatcherOption{quiet()}
		if command {
			opts = append(opts, WithCommandEnvelope())
		}
		d := New(opts...)
		OnRequest(d, "say", func(c *Context, p say) (say, error) { return p, nil })
		srv := serve(f, d)
		ws, _, err := srv.DialErr("/ws", nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { ws.Close() })
		conns[command] = ws
	}
	f.Fuzz(func(t *testing.T, msg string, command bool) {
		ws := conns[command]
		send := func(s string) {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		env := eventEnvelope
		if command {
			env = commandEnvelope
		}
		if !utf8.ValidString(msg) {
			t.Skip("not a text message") // the connection's own check, fuzzed in connection
		}
		send(msg)
		// A well-formed request follows, so that every answer to msg
		// comes before its acknowledgment.
		sentinel := `{"event":"say","id":"sentinel","payload":{"text":"ok"}}`
		if command {
			sentinel = `{"cmd":"say","id":"sentinel","param":{"text":"ok"}}`
		}
		send(sentinel)
		var answers []inbound
		for {
			var in inbound
			ws.SetReadDeadline(time.Now().Add(time.Minute)) // a hang guard, not a timing assertion
			_, raw, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("after %q: %v", msg, err)
			}
			if err := env.decode(raw, &in); err != nil {
				t.Fatalf("answer %q is not in the route's envelope: %v", raw, err)
			}
			if in.id == "sentinel" && in.eventName() == "say"+ackSuffix {
				break
			}
			answers = append(answers, in)
		}
		if len(answers) > 1 {
			t.Fatalf("%q got %d answers", msg, len(answers))
		}
		var want inbound
		wellFormed := env.decode([]byte(msg), &want) == nil
		if len(answers) == 0 {
			// Only a message that is not a request goes unanswered: a
			// valid one without an id.
			if !wellFormed || want.id != "" || want.eventName() != "say" {
				t.Fatalf("%q got no answer", msg)
			}
			return
		}
		a := answers[0]
		switch a.eventName() {
		case "error":
			var e Error
			if err := json.Unmarshal(a.payload, &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("%q: error payload %s", msg, a.payload)
			}
			if wellFormed && a.id != want.id {
				t.Fatalf("%q: error for id %q", msg, a.id)
			}
		case "say" + ackSuffix:
			if !wellFormed || want.eventName() != "say" || a.id != want.id {
				t.Fatalf("%q acknowledged as %q", msg, a.id)
			}
		default:
			if !wellFormed || want.id == "" {
				t.Fatalf("%q answered with %q", msg, a.eventName())
			}
		}
	})
}
