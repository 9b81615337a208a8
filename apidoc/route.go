package apidoc

// Info is what both documents say about the application as a whole.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Route describes one route of the application: a REST route, which the
// OpenAPI document describes as an operation, or a WebSocket route, which
// the AsyncAPI document describes as a channel. package router records one
// per registered route (Mux.Routes).
type Route struct {
	Method  string  // HTTP method; "GET" for WebSocket routes
	Path    string  // full path with parameters as "{name}", without regexps
	Pattern string  // the routing pattern, with regexps: "/users/{id:[0-9]+}"
	Params  []Param // the parameters of Path, in order

	// Name is the route's name: the operationId of a REST route, the
	// channel id of a WebSocket route. Empty: the documents derive one.
	Name        string
	Summary     string
	Description string
	Tags        []string
	Deprecated  bool
	// Hidden reports a route that the documents leave out.
	Hidden bool

	// Auth names the auth providers of the route, any of which may admit a
	// request; Scopes are required of the principal. Empty Auth: the
	// route is public.
	Auth   []string
	Scopes []string
	// Security lists the security schemes of the providers in Auth, in
	// order: a request must satisfy one of them.
	Security []Security

	// Request is a value of the route's request type, nil when unknown.
	// Its fields tagged path, query, header, cookie and json describe the
	// request (a WebSocket route's upgrade request has no body or
	// cookies).
	Request any
	// Responses are the documented responses of a REST route, by status
	// (the default response, Status 0, last).
	Responses []Response

	// WebSocket reports a WebSocket route; the fields below apply to
	// WebSocket routes only.
	WebSocket bool
	// Messages are the kinds of message the route exchanges, in
	// declaration order.
	Messages []Message
	// Subprotocols lists the route's subprotocols in order of preference;
	// RequireSubprotocol refuses clients that offer none of them.
	Subprotocols       []string
	RequireSubprotocol bool
}

// Param describes one parameter of a route path.
type Param struct {
	// Name is the parameter's name. The trailing catch-all of a path
	// ending in "*" is named "*".
	Name string
	// Pattern is the regular expression the value must match, as written
	// in "{name:pattern}"; empty when any segment matches.
	Pattern string
}

// Response documents one response of a REST route.
type Response struct {
	// Status is the HTTP status; 0 is the default response, which stands
	// for every status not listed (a typed handler's errors).
	Status int
	// Body is a value of the body type, such as &User{}; nil for a
	// response without body.
	Body any
	// ContentType is the body's media type; "" means application/json.
	ContentType string
	// Description says when the response is sent; "" means the status
	// text.
	Description string
}
