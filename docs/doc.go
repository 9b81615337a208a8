// Package docs serves forge's API documentation UIs, embedded in the binary
// and working offline: nothing is fetched from a CDN or any other host when
// a page loads.
//
//	mux.Handle("/docs/", docs.Handler(docs.Config{
//		Title:       "Chat",
//		BasePath:    "/docs",
//		OpenAPIURL:  "/openapi.json",
//		AsyncAPIURL: "/asyncapi.json",
//	}))
//
// [Handler] serves three pages below [Config.BasePath]:
//
//   - "/" is an index that links the references that are configured, and
//     the raw documents.
//   - "/rest/" is the REST reference: Swagger UI (5.x, embedded by
//     github.com/swaggest/swgui) reading the OpenAPI document.
//   - "/websocket/" is the WebSocket reference, a page of forge's own
//     (HTML, CSS and plain ES modules, no build step).
//
// A reference whose document URL is empty is left out, and its path answers
// 404. The document URLs are absolute paths ("/openapi.json") or full
// URLs; the documents themselves are served by the application, not by
// this package.
//
// # The WebSocket reference
//
// The page fetches the AsyncAPI 3 document and shows every channel: its
// address, address parameters, the query parameters and headers of its ws
// binding, its operations and its messages with their payload schemas
// (references into components resolved, recursive types marked). AsyncAPI
// writes operations from the server's point of view, which the page
// explains next to each one: "receive" is a message the client sends, and
// "send" one the client receives.
//
// Its live console connects to a channel of the server the page came from
// (ws:, or wss: on an https page): pick the channel, fill its address and
// query parameters, connect, and send an example message or one of your
// own. The example is the message's first example when the document has
// one, otherwise it is built from the payload schema: const, examples,
// default and enum first (so an event envelope's event name is filled in),
// else a value that meets the format, pattern, length and range. A message
// that clients send leaves out the optional properties without a declared
// value, so that the example can be sent unchanged. The log shows what was
// sent and received with timestamps, names the declared message an event
// envelope stands for, and explains the close code. The editor refuses
// text that is not JSON unless raw text is asked for.
//
// Browsers cannot set headers on a WebSocket but Sec-WebSocket-Protocol,
// which the console fills from its subprotocols field (the channel's own
// subprotocols to begin with). Other headers the channel reads are listed,
// not sent. A channel that requires credentials shows, before anything is
// sent, each security scheme it accepts and how a browser presents it: in
// a query parameter, as a Sec-WebSocket-Protocol entry when the scheme
// names a prefix (the extension x-forge-subprotocol-prefix, such as
// "bearer." or "apikey."), offered next to the channel's subprotocol, in a
// cookie the browser holds, or not at all (another client is needed).
//
// # Caching and security headers
//
// Pages are rendered once, when Handler is called, and are revalidated on
// every visit (Cache-Control: no-cache with an ETag). The WebSocket page's
// assets live under a directory named after a hash of their content, so
// they are cached for good and change URL when forge is upgraded. Swagger
// UI's assets are revalidated through their ETag. forge's own pages carry
// a Content-Security-Policy that lets them load only from the application
// and connect only to it; Swagger UI's page has none, because it needs
// inline scripts and "Try it out" may call the servers the OpenAPI
// document names.
//
// The package does not import the root forge package: it is an
// http.Handler that an application mounts where it likes.
package docs
