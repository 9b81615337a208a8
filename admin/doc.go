// Package admin is forge's inspector: pages and a JSON API that show what
// an application holds (its connections, rooms, per-route counters) and
// act on it (close a connection with a code, evict a member from a room,
// send a test message), with a live tap that streams a connection's or a
// room's messages to the page.
//
// The root package mounts it (forge.WithAdmin), always behind an auth
// provider unless the program opts into loopback-only access; this
// package does not authenticate. Everything the pages need is embedded:
// no CDN, no network but the inspector's own endpoints.
//
// # Cost
//
// An Inspector is a connection.Observer: with it, every message of every
// connection adds to its route's counters (a few atomic adds). A tap is
// on only while a watcher streams it: a connection nobody taps pays one
// atomic load per message for taps, a room nobody taps one per broadcast.
// A tap's buffer is bounded (TapBuffer frames of at most TapDataLimit
// bytes); a watcher that falls behind is told how many frames it missed,
// and never holds up a connection or a room.
//
// # What a tap shows
//
// Messages only: a handshake's headers, where credentials travel, are
// never captured, and in the messages the values of members named like
// tokens, passwords, secrets, keys and cookies, Bearer and Basic
// credentials, and JWT-shaped strings are blanked out (Redact).
package admin
