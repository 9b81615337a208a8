//go:build !race

package faults

// raceEnabled reports whether the test binary was built with -race.
const raceEnabled = false
