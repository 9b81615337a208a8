// Package faults holds forge's fault tests: what a forge server does when
// a handler panics, blocks forever or leaks a goroutine.
//
// Each test asserts outcomes, counted: which close code every client got,
// whether the clients already connected kept being served, what the
// server logged and how often. Deadlines only bound a wait that would
// otherwise hang.
package faults
