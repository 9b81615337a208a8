// Package connhook carries what package connection offers forge's other
// packages but not its users: hooks whose misuse would deadlock a
// connection. Package connection sets the functions when it is
// initialized; every package that imports connhook imports connection
// too, so they are set before any use.
package connhook

// AfterEnd arranges for f to run once conn's context has ended, in the
// goroutine that ends it, which may hold the connection's locks: f must
// only do what cannot block or call back into the connection (cancel a
// context, stop a timer). If the context has ended already, f runs now.
// It reports false, doing nothing, when conn is not a *connection.Conn.
//
// It is context.AfterFunc(conn.Context(), f) without its cost to an idle
// connection (a child registered in the context, which then holds a map
// and a channel, about 0.4 KB, for as long as the connection lives), and
// with f run at the moment the context ends rather than in a goroutine of
// its own, so that whoever sees the connection's end sees f's effect.
var AfterEnd func(conn any, f func()) bool
