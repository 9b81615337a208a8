package events

import (
	"errors"
	"testing"

	"github.com/forgekit/forge/connection"
)

// TestOnConnectRefusals: what WithOnConnect's doc promises for each kind
// of error the hook returns.
func TestOnConnectRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		hook      func(*Context) error
		errorCode string // the error event before the close; "" for none
		close     int
		reason    string
	}{
		{"*Error", func(*Context) error { return NewError(CodeForbidden, "who are you?") }, CodeForbidden, int(connection.ClosePolicyViolation), "who are you?"},
		{"wrapped *Error", func(*Context) error { return errors.Join(errors.New("x"), NewError("banned", "go away")) }, "banned", int(connection.ClosePolicyViolation), "go away"},
		{"*CloseError", func(*Context) error { return &connection.CloseError{Code: 4001, Reason: "later"} }, "", 4001, "later"},
		{"other error", func(*Context) error { return errors.New("database down") }, "", int(connection.CloseInternalError), ""},
		{"panic", func(*Context) error { panic("hook") }, "", int(connection.CloseInternalError), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := New(quiet(), WithOnConnect(tt.hook))
			c := dial(t, serve(t, d), "/ws")
			if tt.errorCode != "" {
				if msg := c.expectError("", tt.errorCode); msg != tt.reason {
					t.Fatalf("error event message %q, want %q", msg, tt.reason)
				}
			}
			reason := c.ExpectClose(tt.close)
			if tt.reason != "" && reason != tt.reason {
				t.Fatalf("close reason %q, want %q", reason, tt.reason)
			}
			if tt.reason == "" && reason != "internal error" && reason != "" {
				t.Fatalf("close reason %q tells the client about a server fault", reason)
			}
		})
	}
}
