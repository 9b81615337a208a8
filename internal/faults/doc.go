// Package faults holds forge's fault tests: what a forge server does when
// a handler panics, blocks forever or leaks a goroutine, and when a peer
// vanishes without a FIN (a client in a network namespace whose link goes
// down or whose address is removed).
//
// Each test asserts outcomes, counted: which close code every client got,
// whether the clients already connected kept being served, what the
// server logged and how often. Deadlines only bound a wait that would
// otherwise hang.
//
// The tests that need a network namespace run as root with iproute2 (ip);
// elsewhere they skip, except when CI is "true", where a missing
// privilege or tool fails.
package faults
