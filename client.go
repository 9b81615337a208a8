package forge

import (
	"net/http"

	"github.com/forgekit/forge/client"
)

// ClientHandler serves forge's browser client, one dependency-free ES
// module embedded in the binary, so that pages import it from the app
// itself: mount it at /forge.js,
//
//	app.Router().Mount("/forge.js", forge.ClientHandler())
//
// and a page's script does
//
//	import { connect } from "/forge.js";
//	const chat = connect({ url: "/ws/chat/lobby?user=ann" });
//	chat.on("message", (m) => console.log(m.user, m.text));
//	await chat.request("message", { text: "hello" }); // resolved by message.ack
//
// The client speaks the events envelope (or the command envelope),
// reconnects with backoff, queues while offline and resumes rooms with
// history; package client documents it, and cmd/forge-client-gen writes
// TypeScript types for it from the app's AsyncAPI document. The module
// is revalidated on each load (no-cache with an ETag).
func ClientHandler() http.Handler { return client.Handler() }
