package natsbroker

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// kvKey is nats.go's rule for a KV key (jetstream's keyValid).
var kvKey = regexp.MustCompile(`\A[-/_=.a-zA-Z0-9]+\z`)

// checkToken fails the test unless tok is one literal subject token and a
// valid KV key, as the server and nats.go see them.
func checkToken(t *testing.T, s, tok string) {
	t.Helper()
	if tok == "" || strings.ContainsAny(tok, ".*> \t\r\n") {
		t.Fatalf("token(%q) = %q: not one plain token", s, tok)
	}
	if subj := "forge." + tok; !server.IsValidLiteralSubject(subj) {
		t.Fatalf("token(%q): %q is not a valid literal subject", s, subj)
	}
	if !kvKey.MatchString(tok) {
		t.Fatalf("token(%q) = %q: not a valid KV key", s, tok)
	}
}

// untoken decodes a token: that it can, for every token, is what makes
// token injective.
func untoken(tok string) (string, error) {
	if tok == "=" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case plain(c):
			b.WriteByte(c)
		case c == '=' && i+2 < len(tok) && isHex(tok[i+1]) && isHex(tok[i+2]):
			n, _ := strconv.ParseUint(tok[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
		default:
			return "", fmt.Errorf("bad token %q at %d", tok, i)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("bad token %q", tok)
	}
	return b.String(), nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func TestToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "="},
		{"chat-42", "chat-42"},
		{"snake_case", "snake_case"},
		{"room.chat 1", "room=2Echat=201"},
		{"*", "=2A"},
		{">", "=3E"},
		{"a.>", "a=2E=3E"},
		{"=", "=3D"},
		{"=3D", "=3D3D"},
		{"ü", "=C3=BC"},
		{"\x00\xff", "=00=FF"},
		{"a\tb\nc", "a=09b=0Ac"},
		{"{tag}", "=7Btag=7D"},
		{"a/b", "a=2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			got := token(tt.in)
			if got != tt.want {
				t.Fatalf("token(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkToken(t, tt.in, got)
			if back, err := untoken(got); err != nil || back != tt.in {
				t.Fatalf("untoken(%q) = %q, %v; want %q", got, back, err, tt.in)
			}
		})
	}
}

// TestTokenDistinct: topics that an escape could confuse (the escape
// character itself, escapes written out, the empty topic) all get tokens
// of their own.
func TestTokenDistinct(t *testing.T) {
	t.Parallel()
	topics := []string{"", "=", "==", "=3D", "=2E", ".", "..", "a.b", "a=2Eb", "a_b", "a-b", "a b", "a", "A",
		"*", ">", "a.*", "a.>", "=2A", "=3E", "room.", "room", "ü", "=C3=BC", "\x00", "0"}
	seen := make(map[string]string)
	for _, s := range topics {
		tok := token(s)
		checkToken(t, s, tok)
		if prev, dup := seen[tok]; dup {
			t.Fatalf("token(%q) = token(%q) = %q", s, prev, tok)
		}
		seen[tok] = s
	}
}

func TestMemberKeyDistinct(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{{"a", "b.c"}, {"a.b", "c"}, {"a", "b"}, {"", "a"}, {"a", ""}, {"", ""}}
	seen := make(map[string][2]string)
	for _, p := range pairs {
		k, err := memberKey(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		if !kvKey.MatchString(k) || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			t.Fatalf("memberKey(%q, %q) = %q: not a valid KV key", p[0], p[1], k)
		}
		if prev, dup := seen[k]; dup {
			t.Fatalf("memberKey(%q) = memberKey(%q) = %q", p, prev, k)
		}
		seen[k] = p
	}
}

func TestTooLong(t *testing.T) {
	t.Parallel()
	if _, err := memberKey(strings.Repeat("ü", maxSubject/6), "id"); err == nil {
		t.Fatal("memberKey accepted a key longer than maxSubject")
	}
	b := &Broker{cfg: config{prefix: defaultSubjectPrefix}}
	if _, err := b.subject(strings.Repeat("x", maxSubject)); err == nil {
		t.Fatal("subject accepted a subject longer than maxSubject")
	}
	if _, err := b.subject(strings.Repeat("x", maxSubject-len(defaultSubjectPrefix))); err != nil {
		t.Fatalf("subject of maxSubject bytes: %v", err)
	}
}

func TestValidPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"forge.", true},
		{"app.prod.", true},
		{"$app.", true},
		{"forge", false},
		{".", false},
		{".forge.", false},
		{"a..b.", false},
		{"a b.", false},
		{"a.*.", false},
		{"a.>.", false},
		{"a*.", false},
		{"tab\t.", false},
	}
	for _, tt := range tests {
		if got := validPrefix(tt.prefix); got != tt.ok {
			t.Errorf("validPrefix(%q) = %v, want %v", tt.prefix, got, tt.ok)
		}
		if tt.ok && !server.IsValidLiteralSubject(tt.prefix+"x") {
			t.Errorf("%q: the server refuses %q", tt.prefix, tt.prefix+"x")
		}
	}
}

// FuzzToken: every string makes one valid literal token that decodes back
// to it, so no two strings share a subject or a KV key.
func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "=", "a.b", "*", ">", "ü", "=3D", "a b", "\x00"} {
		f.Add(s, s+".")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, tb := token(a), token(b)
		checkToken(t, a, ta)
		if back, err := untoken(ta); err != nil || back != a {
			t.Fatalf("untoken(token(%q)) = %q, %v", a, back, err)
		}
		if got, want := withToken("p.", a), "p."+ta; got != want {
			t.Fatalf("withToken(%q, %q) = %q, want %q", "p.", a, got, want)
		}
		if a != b && ta == tb {
			t.Fatalf("token(%q) = token(%q) = %q", a, b, ta)
		}
		if a == b && ta != tb {
			t.Fatalf("token(%q) is not deterministic", a)
		}
	})
}
