package admin

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{`{"event":"auth","payload":{"token":"abc.def"}}`, `{"event":"auth","payload":{"token":"[redacted]"}}`},
		{`{"access_token": "x", "refresh_token":"y"}`, `{"access_token": "[redacted]", "refresh_token":"[redacted]"}`},
		{`{"Password":"p\"w","user":"ann"}`, `{"Password":"[redacted]","user":"ann"}`},
		{`{"apiKey":12345,"n":1}`, `{"apiKey":"[redacted]","n":1}`},
		{`{"session_id":"s1"}`, `{"session_id":"[redacted]"}`},
		{`{"text":"my header is Bearer abc.def-123"}`, `{"text":"my header is Bearer [redacted]"}`},
		{`{"text":"Basic YW5uOnB3"}`, `{"text":"Basic [redacted]"}`},
		{`{"t":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2ln"}`, `{"t":"[redacted]"}`},
		{`{"token":"cut short`, `{"token":"[redacted]"`},
		{`{"text":"hello","room":"lobby"}`, `{"text":"hello","room":"lobby"}`},
	} {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestFrameRender(t *testing.T) {
	t.Parallel()
	var f Frame
	long := `{"token":"secret","pad":"` + strings.Repeat("é", TapDataLimit) + `"}`
	capture(&f, false, []byte(long))
	f.render()
	if !f.Truncated || f.Size != len(long) || len(f.Data) > TapDataLimit+len(`"[redacted]"`) || !utf8.ValidString(f.Data) || strings.Contains(f.Data, "secret") || !strings.HasPrefix(f.Data, `{"token":"[redacted]"`) {
		t.Fatalf("frame of a long message: truncated %v, size %d, %d bytes of data starting %.40q", f.Truncated, f.Size, len(f.Data), f.Data)
	}
	var b Frame
	capture(&b, true, []byte{0xff, 0x00})
	b.render()
	if !b.Binary || b.Size != 2 || b.Data != "" {
		t.Fatalf("binary frame %+v", b)
	}
}
