//go:build !unix

package main

// raiseNoFile changes nothing where there is no RLIMIT_NOFILE.
func raiseNoFile(want uint64) (uint64, error) { return want, nil }
