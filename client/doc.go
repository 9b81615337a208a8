// Package client serves forge's browser client, and writes TypeScript
// types for it from an app's AsyncAPI document.
//
// # The client
//
// The client is one dependency-free ES module, forge.js, written in
// TypeScript (src/forge.ts) and built to dist/forge.js and
// dist/forge.d.ts, which are committed and embedded in this package, so a
// Go program serves it without Node. [Handler] serves the module; mount it
// at a path of the app, conventionally /forge.js:
//
//	r.Mount("/forge.js", client.Handler())
//
// and import it from a page:
//
//	import { connect } from "/forge.js";
//	const chat = connect({ url: "/ws/chat/lobby?user=ann" });
//	chat.on("message", (m) => show(m.user, m.text));
//	const sent = await chat.request("message", { text: "hello" });
//
// It speaks the events package's envelope, {"event", "id", "payload"},
// or with the envelope option "command", its {"channel", "cmd", "param"}
// shape: emit, request (a Promise of the reply, rejected by the error
// event or a timeout), handlers that answer the server's requests, and
// ?events= subscriptions. It reconnects with exponential backoff and full
// jitter, joins again the rooms it joined, sends its token as the
// "bearer.<token>" subprotocol entry (asking a token function for a fresh
// one before each connection), and stops, saying why, on the close codes
// 4401, 1008 and 1003. While the connection is down, messages wait in a
// queue bounded in bytes: one that does not fit is dropped, never one
// already waiting, and the drop is reported and counted. A heartbeat
// replaces a link that went silent. In rooms with history (hub.WithHistory)
// it remembers the last position seen in each room and reconnects with
// ?recover=room:epoch:offset, so the server replays what was missed, and
// reports the server's "recovery" event. dist/forge.d.ts documents every
// option.
//
// # Types from the document
//
// [WriteTypeScript] turns an AsyncAPI 3 document, such as the one
// forge.App.WriteDocuments writes, into TypeScript declarations: one
// type per schema and, per WebSocket channel, an API type that makes the
// client's calls type-checked:
//
//	import type { WsChatRoomAPI } from "./chat-api";
//	const chat = connect<WsChatRoomAPI>({ url: "/ws/chat/lobby" });
//	chat.emit("message", { text: 1 }); // error: text is a string
//
// The forge-client-gen command (cmd/forge-client-gen) runs it from the
// command line.
package client
