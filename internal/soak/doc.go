// Package soak holds forge's soak test, TestSoak: a forge app in the test
// process serves /echo, the same echo through Connection.Listen at /listen
// (half the echo connections use it) and a hub room at /room over
// loopback, while a child
// process (the test binary started again) keeps echo connections, the
// room's members and a stream of short-lived connections busy at steady
// rates. It counts every message by (connection, sequence number), so that
// a lost, duplicated or reordered message is seen, samples the server's
// RSS and goroutines at a fixed interval into a CSV, and fails on any
// Warn or Error log, any loss or duplicate, growth of RSS or goroutines
// after warm-up, and anything the connections leave behind.
//
// Without settings it runs the short form, about 60 s, as part of
// `go test ./...`. The environment sizes it:
//
//	SOAK_DURATION   steady phase                          60s
//	SOAK_CONNS      echo connections, 1 msg/s each        1000
//	SOAK_ROOM       members of the room                   200
//	SOAK_ROOM_RATE  messages/s published to the room      50
//	SOAK_CHURN      connects+disconnects per second       20
//	SOAK_INTERVAL   sampling interval                     10s
//	SOAK_WARMUP     samples before this are not compared  half the run, at most 5m
//	SOAK_DRAIN      wait for the last messages            30s
//	SOAK_CSV        where the CSV goes; beside it a .txt summary and heap
//	                profiles at the end of the steady phase and after
//	                the clients have gone
//
// Under the race detector the defaults are 500 echo connections, a room of
// 100 at 20 msg/s and 10 connects/disconnects per second (defaultConfig).
// scripts/soak.sh runs the long form (`make soak`).
package soak
