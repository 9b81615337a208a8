// Package faults holds forge's fault tests: what a forge server does when
// a handler panics, blocks forever or leaks a goroutine; when a peer
// stops reading while the server writes to it; when a peer vanishes
// without a FIN (a client in a network namespace whose link goes
// down or whose address is removed); when a client trickles its upgrade
// request (slowloris); when 10,000 handshakes per second come from one
// address, with and without a RateLimiter; and when it shuts down under load,
// in the test process (every Write that returned nil reaches its client
// before the 1001) and as a real process of examples/bench that gets
// SIGTERM with thousands of connections open.
//
// Each test asserts outcomes, counted: which close code every client got,
// whether the clients already connected kept being served, what the
// server logged and how often. Deadlines only bound a wait that would
// otherwise hang.
//
// The tests that need a network namespace run as root with iproute2 (ip);
// elsewhere they skip, except when CI is "true", where a missing
// privilege or tool fails.
//
// `go test ./internal/faults` runs the short form. FAULTS_FULL=1 (`make
// faults`, without -race) runs the long one: SIGTERM under 10,000 connections (a room of
// 1,000 and 10 publishers at 100 msg/s) instead of 2,000 (a room of 200,
// 4 publishers at 50 msg/s), 500 connections flushed in the test
// process instead of 200, and a handshake flood of 10 s instead of 2 s.
package faults
