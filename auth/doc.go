// Package auth authenticates requests and WebSocket handshakes for forge:
// the providers, the principal they establish, and the 401/403 answers
// given when they refuse.
//
// # Providers
//
// A [Provider] authenticates one kind of credential and describes it for
// the API documents: [JWT] (golang-jwt/jwt/v5, HMAC or public keys or a
// [JWKS], algorithms pinned), [APIKey] and [StaticAPIKeys] (header, query
// or cookie), [Basic], and [Func] for anything else. Register providers on
// the app with forge.WithAuthProvider and require them on routes with
// forge.WithAuth; forge then enforces them before the handler and, on
// WebSocket routes, before the upgrade: 401 with a WWW-Authenticate
// challenge without valid credentials, 403 without a required scope, never
// a 101. The handler finds the [Principal] with [PrincipalFrom].
//
// # Browsers and WebSocket handshakes
//
// Browsers cannot set Authorization on a WebSocket handshake. The JWT
// provider therefore also takes the token from a Sec-WebSocket-Protocol
// entry "bearer.<token>", offered next to the route's real subprotocol:
//
//	new WebSocket(url, ["chat.v1", "bearer." + token])
//
// The handshake is answered with "chat.v1"; the token is never echoed. An
// API key provider takes its key the same way, from an entry
// "apikey.<key>". Each scheme names its prefix (apidoc.SecurityScheme.Subprotocol),
// which the AsyncAPI document and the /docs console show. Query parameters
// and cookies are opt-in (JWTConfig.Query and JWTConfig.Cookie,
// APIKeyFromQuery): query strings end up in logs; with cookies, forge's
// same-origin check on WebSocket routes is what stops cross-site WebSocket
// hijacking.
//
// # In the API documents
//
// Each document declares the security schemes of the providers that its
// own routes name in forge.WithAuth, and no others: the OpenAPI document
// those of REST routes, the AsyncAPI document those of WebSocket routes.
// A provider required only on REST routes is absent from the AsyncAPI
// document, and the reverse. A provider declares one scheme per way it
// takes credentials ([Provider] Schemes), keyed by the name it was
// registered under, and an alternative by that name and a suffix: a JWT
// provider registered as "jwt" with a query parameter and a cookie
// declares "jwt" (HTTP bearer), "jwt_query" and "jwt_cookie" (API keys).
// A route's security requirement lists every scheme of each of its
// providers, as alternatives. OpenAPI's requirements carry the route's
// scopes (forge.WithScopes); AsyncAPI 3's have no place for them, so on
// WebSocket routes scopes are enforced but not shown. In the AsyncAPI
// document an API key outside the Authorization header has the type
// "httpApiKey", and a scheme's subprotocol prefix ("bearer.") is the
// extension x-forge-subprotocol-prefix.
//
// # Configuration
//
// [JWT] takes a [JWTConfig], whose zero fields are the safe defaults.
// Setup follows forge's one rule: [JWT] returns an error, since its secret
// and keys come from the deployment (a secret too short, a key of a type
// no algorithm fits); the other constructors take only what the program
// states (a location, a name, a function) and panic with a "forge: "
// message on a mistake, returning the provider alone.
// [APIKey] and [NewJWKS] take options named after them (APIKeyFromQuery,
// JWKSCache) rather than With*, so that each says which constructor it
// configures.
package auth
