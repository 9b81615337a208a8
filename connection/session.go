package connection

import (
	"context"
	"time"
)

// SessionInfo summarizes a finished WebSocket session, for access logs and
// metrics.
type SessionInfo struct {
	ID          string
	Subprotocol string
	Duration    time.Duration // from the upgrade to the socket's close
	Code        StatusCode    // close code sent to the peer; CloseAbnormal if none could be
	Reason      string        // close reason sent to the peer
	MessagesIn  uint64        // data messages read from the peer (rate-limited ones included)
	BytesIn     uint64
	MessagesOut uint64 // data messages written to the peer
	BytesOut    uint64
}

type observersKey struct{}

func (observersKey) String() string { return "forge connection session observers" }

// ObserveSession returns a copy of ctx that has fn called once with the
// session's summary when a request carrying ctx is upgraded by Serve and the
// connection ends. Middleware that wraps a WebSocket route (an access log)
// uses it: the route's handler returns right after the upgrade, long before
// the session ends. Observers run innermost first, in the connection's
// goroutine after it is fully closed.
func ObserveSession(ctx context.Context, fn func(SessionInfo)) context.Context {
	prev, _ := ctx.Value(observersKey{}).([]func(SessionInfo))
	next := make([]func(SessionInfo), len(prev), len(prev)+1)
	copy(next, prev)
	return context.WithValue(ctx, observersKey{}, append(next, fn))
}

func observersFrom(ctx context.Context) []func(SessionInfo) {
	obs, _ := ctx.Value(observersKey{}).([]func(SessionInfo))
	return obs
}

// sessionInfo summarizes c; call it after finish.
func (c *Conn) sessionInfo() SessionInfo {
	c.wmu.Lock()
	reason := c.closeReason
	c.wmu.Unlock()
	return SessionInfo{
		ID:          c.id,
		Subprotocol: c.ws.Subprotocol(),
		Duration:    time.Since(c.start),
		Code:        c.sentCode(),
		Reason:      reason,
		MessagesIn:  c.msgsIn.Load(),
		BytesIn:     c.bytesIn.Load(),
		MessagesOut: c.msgsOut.Load(),
		BytesOut:    c.bytesOut.Load(),
	}
}
