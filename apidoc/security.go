package apidoc

// SecurityScheme describes one way of presenting a credential, in terms
// both OpenAPI and AsyncAPI documents can express.
type SecurityScheme struct {
	// Suffix tells a provider's schemes apart: the document key is the
	// provider's name, plus "_" and Suffix when Suffix is set.
	Suffix string
	// Type is "http" (Authorization header) or "apiKey" (a named header,
	// query parameter or cookie).
	Type string
	// Scheme is the HTTP scheme for Type "http": "bearer" or "basic".
	Scheme string
	// BearerFormat hints at the bearer token's format, e.g. "JWT".
	BearerFormat string
	// In and Name locate an apiKey: In is "header", "query" or "cookie".
	In   string
	Name string
	// Subprotocol, when set, is the prefix of a Sec-WebSocket-Protocol
	// entry that carries the credential on WebSocket handshakes, e.g.
	// "bearer." for "bearer.<token>": the way a browser, which cannot set
	// headers on a WebSocket, sends a header credential. The AsyncAPI
	// document writes it as the extension x-forge-subprotocol-prefix.
	Subprotocol string
	// Description explains the scheme to the reader.
	Description string
}

// Security is a security scheme a route accepts, with its key in the
// documents: the auth provider's name, plus "_" and the scheme's Suffix
// when set.
type Security struct {
	Key    string
	Scheme SecurityScheme
}
