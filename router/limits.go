package router

// WithMessageRateLimit limits the messages a client may send on a
// WebSocket route: perSecond on average, in bursts of up to burst. A
// message over the limit is dropped and counted (App.Stats().RateLimited);
// the client gets an error event {"event":"error","payload":{"code":
// "rate_limited",...}}, or, with closeOnExceed, the connection is closed
// with 1008 (policy violation).
func WithMessageRateLimit(perSecond float64, burst int, closeOnExceed bool) RouteOption {
	if perSecond <= 0 || burst < 1 {
		panic("forge: WithMessageRateLimit: rate and burst must be positive")
	}
	return func(s *settings) {
		if s.wsOnly("WithMessageRateLimit") {
			s.conn.MessageRate, s.conn.MessageBurst, s.conn.RateLimitClose = perSecond, burst, closeOnExceed
		}
	}
}
