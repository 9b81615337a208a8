// Package conformance is forge's WebSocket conformance suite: it checks a
// forge echo route against [RFC 6455] (the WebSocket protocol) and
// [RFC 7692] (permessage-deflate), beside gorilla/websocket as a
// reference. The package holds tests only.
//
// The standard suite, Autobahn|Testsuite, runs on Python 2.7, which the
// project cannot install. This suite is written from the RFCs, not copied
// from Autobahn; it borrows Autobahn's family numbers so that reports read
// alike, and nothing else.
//
// # How it works
//
// A raw client of its own opens TCP, writes the opening handshake by hand
// and encodes every frame byte by byte, so that it can send what a correct
// client never would: reserved bits and opcodes, unmasked frames,
// fragmented or oversized control frames, non-minimal length encodings,
// invalid UTF-8, invalid close codes. A reader goroutine decodes the
// server's frames and checks them too: a server frame that is masked, uses
// a reserved bit or opcode, a non-minimal length, a close code it may not
// send, or text that is not UTF-8 fails the case.
//
// Every case runs in one go test against four echo servers on loopback,
// each reading messages of up to 16 MiB and echoing each with its opcode:
//
//   - forge: a route of forge.New with WithReadLimit, its handler echoing
//     with ReadMessage and WriteMessage;
//   - forge+deflate: the same with WithCompression;
//   - forge+listen: the same echo handed to Connection.Listen, so that the
//     connection parks between messages (compared with gorilla);
//   - gorilla: gorilla/websocket's own echo, as its Autobahn example server
//     writes it (the application checks that text is UTF-8);
//   - gorilla+deflate: the same with EnableCompression.
//
// # Families
//
//	 1 framing          lengths in the 7-, 16- and 64-bit forms, non-minimal
//	                    lengths, the 64-bit length's top bit, masking
//	 2 pings/pongs      pong payloads, control frames over 125 bytes,
//	                    unsolicited pongs, many pings
//	 3 reserved bits    every RSV combination on every kind of frame
//	 4 opcodes          every reserved opcode, alone, after a message,
//	                    inside a fragmented one, without FIN
//	 5 fragmentation    fragments, control frames between them, fragmented
//	                    control frames, continuations without a start,
//	                    a new message inside a fragmented one
//	 6 UTF-8            valid and invalid text, whole, across fragments,
//	                    cut inside a code point, fail-fast
//	 7 close handshake  close bodies, reasons, every kind of status code
//	 9 limits           messages and frames up to 16 MiB, one byte more,
//	                    1,000 frames or messages
//	12 compression      offers and context takeover, compressed echo of
//	                    many sizes, fragmented compressed messages, RSV1
//	                    where RFC 7692 does not define it, corrupt data,
//	                    offers that must be declined
//
// Each case asserts the outcome the RFCs require: the exact echo (or
// pong), or the connection failed with the code they name (1002 protocol
// error, 1007 invalid data, 1009 too big). Then the closing behaviour:
// the server answers the client's close frame (or the client answers the
// server's), and the server closes TCP within two seconds of that closing
// handshake (RFC 6455 §5.5.1: at once).
//
// # Verdicts
//
//   - OK: what the RFC requires.
//   - NON-STRICT: acceptable, but not what the RFC names: a different code
//     that still fits (1002 for invalid UTF-8 in a close reason), failing
//     by dropping TCP without the close frame the RFC says SHOULD be sent,
//     failing only at the end of a message rather than at the first
//     invalid fragment (fail-fast), accepting a frame that breaks a rule
//     the RFC puts on the sender only (a non-minimal length).
//   - FAILED: a MUST of the RFCs is broken.
//   - UNIMPLEMENTED: the server declined a valid permessage-deflate offer,
//     as every server without compression does.
//
// The test prints a table of verdicts per family and server and lists the
// cases that are not OK. It fails if forge fails a case, or does worse
// than gorilla configured alike, unless the finding is explained by an
// entry of knownForgeFailures: the list of forge's open defects, printed
// loudly on every run. Gorilla's own failures are reported, never failed.
//
// # Running
//
//	go test -v -run TestConformance ./conformance/
//
// One family or case, with a path.Match pattern (after the package):
//
//	go test -v -run TestConformance ./conformance/ -conformance.case='6.3.*'
//
// The whole suite takes about half a minute with -race on two cores.
//
// [RFC 6455]: https://www.rfc-editor.org/rfc/rfc6455
// [RFC 7692]: https://www.rfc-editor.org/rfc/rfc7692
package conformance
