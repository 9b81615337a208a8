package soak

import (
	"fmt"
	"strconv"
	"time"
)

// config sizes one soak run; configFromEnv reads it from SOAK_* variables.
type config struct {
	Duration time.Duration // steady phase
	Conns    int           // echo connections, one message per second each
	Room     int           // room members
	RoomRate float64       // messages per second published to the room, spread over the publishers
	Churn    float64       // connections opened and closed per second
	Interval time.Duration // sampling interval
	Warmup   time.Duration // samples before this are recorded, not compared; default half the run, at most 5 minutes
	Drain    time.Duration // after the steady phase, how long to wait for messages still on the way
	CSV      string        // where the samples go; empty: t.TempDir()
}

// defaultConfig is the short form that `go test ./...` runs. Under the race
// detector, where every memory access costs several times more and both
// processes are instrumented, the room carries a fifth of the deliveries,
// so that the form keeps its rates on a busy 2-core machine.
func defaultConfig() config {
	c := config{
		Duration: 60 * time.Second,
		Conns:    1000,
		Room:     200,
		RoomRate: 50,
		Churn:    20,
		Interval: 10 * time.Second,
		Drain:    30 * time.Second,
	}
	if raceEnabled {
		c.Conns, c.Room, c.RoomRate, c.Churn = 500, 100, 20, 10
	}
	return c
}

// publishers is how many room members publish: the room's messages come
// from several connections at once, as in a chat, each counted in order.
func (c config) publishers() int { return min(c.Room, 10) }

func (c config) String() string {
	return fmt.Sprintf("%v steady, %d echo connections at 1 msg/s, a room of %d at %g msg/s (%d publishers), %g connects/disconnects per second, sampled every %v after a %v warm-up, race detector %v",
		c.Duration, c.Conns, c.Room, c.RoomRate, c.publishers(), c.Churn, c.Interval, c.Warmup, raceEnabled)
}

// configFromEnv returns defaultConfig changed by the SOAK_* variables that
// getenv returns.
func configFromEnv(getenv func(string) string) (config, error) {
	c := defaultConfig()
	var err error
	dur := func(name string, p *time.Duration) {
		if v := getenv(name); v != "" && err == nil {
			d, e := time.ParseDuration(v)
			if e != nil || d <= 0 || d > 24*time.Hour {
				err = fmt.Errorf("%s=%q: want a duration in (0, 24h]", name, v)
			}
			*p = d
		}
	}
	count := func(name string, p *int) {
		if v := getenv(name); v != "" && err == nil {
			n, e := strconv.Atoi(v)
			if e != nil || n < 0 || n > 100000 {
				err = fmt.Errorf("%s=%q: want a count in [0, 100000]", name, v)
			}
			*p = n
		}
	}
	rate := func(name string, p *float64) {
		if v := getenv(name); v != "" && err == nil {
			f, e := strconv.ParseFloat(v, 64)
			if e != nil || f < 0 || f > 100000 {
				err = fmt.Errorf("%s=%q: want a rate in [0, 100000]", name, v)
			}
			*p = f
		}
	}
	dur("SOAK_DURATION", &c.Duration)
	count("SOAK_CONNS", &c.Conns)
	count("SOAK_ROOM", &c.Room)
	rate("SOAK_ROOM_RATE", &c.RoomRate)
	rate("SOAK_CHURN", &c.Churn)
	dur("SOAK_INTERVAL", &c.Interval)
	dur("SOAK_WARMUP", &c.Warmup)
	dur("SOAK_DRAIN", &c.Drain)
	c.CSV = getenv("SOAK_CSV")
	if err != nil {
		return c, err
	}
	if c.Warmup == 0 {
		// RSS climbs until the per-connection buffers have grown to the
		// largest backlog the machine's stalls produce: in the long form
		// on a busy 2-core box that took 4-5 minutes (BENCHMARKS.md, "Soak").
		c.Warmup = min(max(10*time.Second, (c.Duration/2).Truncate(c.Interval)), 5*time.Minute)
	}
	if c.Room == 0 {
		c.RoomRate = 0
	}
	return c, nil
}
