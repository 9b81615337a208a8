//go:build race

package connection

// raceEnabled reports whether the test binary was built with -race.
const raceEnabled = true
