//go:build !linux

package connection

import "errors"

// canPoll reports whether this platform parks listening connections; here
// a listening connection reads in a goroutine of its own (see Conn.Listen).
const canPoll = false

var errNoPoller = errors.New("no poller on this platform")

func pollJoin(*listener) error { return errNoPoller }
func pollLeave(*listener)      {}

func pollHandOver(_, _ *listener) bool { return false }
