// Package connection runs one WebSocket connection on gorilla/websocket,
// from the upgrade to the closing handshake: the handshake's checks, one
// reader and one writer, the outbound queue and its backpressure,
// keepalive, limits, compression, subprotocols and close codes. It knows
// nothing of routes or documents (package router) nor of rooms (package
// hub).
//
// # Serving
//
// [Serve] checks a handshake (origin, required subprotocol, shutdown),
// answers a refusal with an RFC 9457 problem before any upgrade, upgrades
// the request and runs the handler in a goroutine of the connection's own.
// The handler's result picks the close code: nil closes with
// [CloseNormal], an error carrying a [CloseError] with its code, any other
// error with [CloseInternalError]. A [Config] holds the settings; it is
// plain data, and the zero value of every field means its default
// (DefaultReadLimit, DefaultPingInterval, ...), so there is nothing to get
// wrong in building one: forge's route options check their values where
// they are written and fill a Config from them. A [Tracker] follows the
// connections of one application, counts them ([Stats]) and closes them
// all with [CloseGoingAway] on shutdown.
//
// # Concurrency
//
// Every method of a connection is safe for concurrent use. One holder of
// the writer role at a time writes every frame, control frames included;
// everyone else puts messages on a bounded queue. One reader at a time
// owns the read side. [Conn] says how the roles move between goroutines
// so that an idle connection costs its handler's goroutine and nothing
// more.
//
// # Many idle connections
//
// A handler that returns [Connection.Listen] (or [ListenJSON]) hands its
// reads to a callback and lets its goroutine go: between messages the
// connection holds no goroutine at all. On Linux an epoll instance of this
// package's own (one goroutine, run while any connection uses it) reports
// input, and the connection is resumed in the poller's goroutine itself
// (one of those a report names; a callback that takes long has another
// goroutine take over the waiting, and its connection goes to workers
// for a while) or on a shared worker goroutine; the end of the
// connection's context and the keepalive timer resume it too.
// The poller's goroutine waits in the runtime's own poller, as a reading
// goroutine does. Elsewhere, and over TLS, a goroutine reads for the
// listener. Where it can, the same poller also watches the socket of a
// handler that does not read, in place of a goroutine blocked in it.
//
// While a callback runs, Read and ReadMessage take the next messages (to
// wait for a peer's answer inside the callback, say), and [OnListenEnd]
// runs what must run when the connection ends, which a reading handler
// would defer. Package events listens this way for every connection.
//
// # Writes and backpressure
//
// The queue is capped in bytes (Config.QueueBytes). [Connection.Write]
// and the other waiting writes wait for room up to the write timeout, then
// close the peer as a slow consumer ([CloseSlowConsumer]) and return
// [ErrSlowConsumer]. [Connection.Offer], for broadcasts, never waits: a
// full queue gets the route's [Policy] instead. A [PreparedMessage] is
// encoded (and compressed) once for any number of connections.
//
// # Reads, keepalive and closing
//
// Reads return whole messages, up to the read limit (past it the
// connection closes with [CloseMessageTooBig]); text must be valid UTF-8.
// [Connection.ReadJSON] decodes, and validates against the schema of the
// route's declared message (Config.Inbound); its failures are
// [DecodeError] values that leave the connection usable. The server pings
// every PingInterval and closes a peer that shows no sign of life within
// PongWait. Every close sends a real close code; [CloseStatus] reads the
// code an error carries.
//
// # Why Connection is an interface
//
// [Connection] has one implementation, [*Conn], and its methods are
// exactly Conn's exported methods (a test keeps them so). It is an
// interface all the same, because it is what code outside this package
// names: the handlers of forge's WebSocket routes take a forge.Connection,
// and package hub registers and package events
// dispatches any Connection. A program can therefore test a handler with
// a fake connection and no socket, and wrap a connection (embed it,
// override Write to count or log) before handing it to a hub, as net.Conn
// allows for sockets. Serve hands its handler the *Conn itself.
package connection
