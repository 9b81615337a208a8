//go:build race

package router_test

// raceEnabled reports whether the test binary was built with -race.
const raceEnabled = true
