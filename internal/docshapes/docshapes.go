// Package docshapes builds an application with every route shape forge's
// documents must describe. The root module's tests read the documents it
// yields; the integration module's tests run the document validators on
// them.
package docshapes

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/router"
)

// The types of App: every kind of Go type a document must describe.

// Status is an enum, through jsonschema-go's Enum interface.
type Status string

func (Status) Enum() []any { return []any{"online", "away", "offline"} }

// Address is nested in User.
type Address struct {
	Street string `json:"street"`
	City   string `json:"city" required:"true"`
}

// Base is embedded in User: its fields are User's.
type Base struct {
	ID        string    `json:"id" format:"uuid" description:"The user's id."`
	CreatedAt time.Time `json:"createdAt"`
}

// User is recursive, through Manager and Friends.
type User struct {
	Base
	Name    string         `json:"name" minLength:"1" maxLength:"50" required:"true" example:"Ann"`
	Email   *string        `json:"email,omitempty" format:"email"`
	Age     int            `json:"age" minimum:"0" maximum:"150"`
	Status  Status         `json:"status"`
	Tags    []string       `json:"tags"`
	Attrs   map[string]int `json:"attrs,omitempty"`
	Address *Address       `json:"address,omitempty"`
	Manager *User          `json:"manager,omitempty"`
	Friends []*User        `json:"friends,omitempty"`
}

func (User) Examples() []any {
	return []any{User{Name: "Ann", Age: 33, Status: "online", Tags: []string{"admin"}}}
}

// Page is generic.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

type getUserIn struct {
	ID        string   `path:"id" pattern:"^[a-z0-9]+$" description:"The user's id."`
	Fields    []string `query:"fields" description:"Fields to return."`
	Verbose   bool     `query:"verbose"`
	RequestID string   `header:"X-Request-Id"`
}

type listIn struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Status Status `query:"status"`
}

type createUserIn struct {
	Org  string `path:"org"`
	Idem string `header:"Idempotency-Key" required:"true"`
	User
}

type deleteUserIn struct {
	Org string `path:"org"`
	ID  string `path:"id"`
}

type patchIn struct {
	ID   string  `path:"id"`
	Name *string `json:"name,omitempty" minLength:"1"`
}

type Health struct {
	OK bool `json:"ok"`
}

type legacyIn struct {
	Trace string `query:"trace"`
	Data  []int  `json:"data" minItems:"1"`
}

// ChatLine is the message of the chat route.
type ChatLine struct {
	Type    string `json:"type" enum:"message,system"`
	User    string `json:"user"`
	Content string `json:"content"`
}

// FieldError has the name of router.FieldError: the documents qualify
// both by package.
type FieldError struct {
	Field string `json:"field"`
}

type subscribe struct {
	Topics []string `json:"topics" minItems:"1"`
}

type ack struct {
	OK bool `json:"ok"`
}

type notice struct {
	Level Status         `json:"level"`
	Text  string         `json:"text"`
	At    time.Time      `json:"at"`
	Meta  map[string]any `json:"meta,omitempty"`
}

type eventsHandshake struct {
	Topic string `path:"topic" enum:"news,sport" description:"The topic to follow."`
	Token string `query:"token" required:"true" description:"Access token."`
	Since int64  `query:"since" minimum:"0"`
	Auth  string `header:"Authorization"`
}

// OKJSON answers 200 with a Health.
func OKJSON(ctx forge.Context) error { return ctx.JSON(http.StatusOK, Health{OK: true}) }

// WSNoop ends a WebSocket connection at once.
func WSNoop(ctx forge.Context, conn forge.Connection) error { return nil }

// App is an application with every route shape the documents must
// handle: typed and untyped REST routes, path parameters in both syntaxes
// and with regexps, groups, a mounted router, WebSocket routes with
// several messages per direction, events with replies, handshake types,
// subprotocols, hidden and deprecated routes.
func App(opts ...forge.Option) *forge.App {
	opts = append([]forge.Option{
		forge.WithAppName("shapes"), forge.WithVersion("1.2.3"),
		forge.WithAppDescription("Every route shape forge documents."),
		forge.WithAddr("127.0.0.1:9000"),
		forge.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)
	keys := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{"k1": {Subject: "svc"}})
	jwt, err := auth.JWT(auth.JWTConfig{HMACSecret: []byte("0123456789abcdef0123456789abcdef"), Query: "access_token"})
	if err != nil {
		panic(err)
	}
	opts = append(opts, forge.WithAuthProvider("apikey", keys), forge.WithAuthProvider("jwt", jwt))
	app := forge.New(opts...)
	r := app.Router()
	r.GET("/admin/stats", OKJSON, forge.WithAuth("apikey", "jwt"), forge.WithScopes("admin"),
		forge.WithResponse(http.StatusOK, &Health{}, "Statistics"))
	r.WebSocket("/ws/secure", WSNoop, forge.WithAuth("jwt"), forge.WithWebSocketMessages(nil, &ack{}))

	forge.Get(r, "/users/:id", func(ctx forge.Context, in getUserIn) (User, error) {
		if in.ID == "nobody" {
			return User{}, forge.NewHTTPError(http.StatusNotFound, "no such user")
		}
		return User{Base: Base{ID: in.ID}, Name: "Ann", Tags: in.Fields}, nil
	}, forge.WithName("getUser"), forge.WithSummary("Get a user"), forge.WithTags("users"),
		forge.WithDescription("Returns one user."),
		forge.WithResponse(http.StatusNotFound, &forge.Problem{}, "No such user"))
	forge.Get(r, "/users", func(ctx forge.Context, in listIn) (Page[User], error) {
		return Page[User]{Items: make([]User, 0, in.Limit)}, nil
	}, forge.WithName("listUsers"), forge.WithTags("users"))

	r.Route("/orgs/{org}", func(g forge.Router) {
		forge.Post(g, "/users", func(ctx forge.Context, in createUserIn) (*User, error) {
			return &in.User, nil
		}, forge.WithName("createUser"), forge.WithStatus(http.StatusCreated))
		forge.Delete(g, "/users/{id}", func(ctx forge.Context, in deleteUserIn) (struct{}, error) {
			return struct{}{}, nil
		}, forge.WithName("deleteUser"))
		forge.Patch(g, "/users/{id}", func(ctx forge.Context, in patchIn) (User, error) {
			return User{}, nil
		})
		forge.Put(g, "/settings", func(ctx forge.Context, in map[string]string) (map[string]string, error) {
			return in, nil
		})
	}, forge.WithTags("orgs"))

	r.GET("/health", OKJSON, forge.WithResponse(http.StatusOK, &Health{}, "The service is up."))
	r.POST("/legacy", func(ctx forge.Context) error { return ctx.NoContent(http.StatusAccepted) },
		forge.WithRequest(&legacyIn{}), forge.WithResponse(http.StatusAccepted, nil, "Accepted"),
		forge.WithDeprecated())
	r.GET("/items/{id:[0-9]+}", OKJSON)
	r.GET("/files/*", OKJSON)
	r.GET("/internal/metrics", OKJSON, forge.WithHidden())
	r.DELETE("/cache", func(ctx forge.Context) error { return errors.New("not today") })

	sub := router.New(router.Config{Logger: slog.New(slog.DiscardHandler)})
	sub.GET("/ping", OKJSON, router.WithName("v2Ping"))
	sub.WebSocket("/ws/feed/:id", WSNoop, router.WithWebSocketMessages(nil, &notice{}))
	r.Mount("/v2", sub)

	r.WebSocket("/ws/chat/:room", WSNoop, forge.WithSummary("Chat room"), forge.WithTags("chat"),
		forge.WithWebSocketMessages(&ChatLine{}, &ChatLine{}))
	ackMsg := &forge.Message{Name: "subscribed", Direction: forge.ServerToClient, Payload: &ack{}, Envelope: events.Envelope{}}
	r.WebSocket("/ws/events/{topic}", WSNoop,
		forge.WithName("events"),
		forge.WithSummary("Event stream"),
		forge.WithDescription("Subscribe to topics and receive notices."),
		forge.WithRequest(&eventsHandshake{}),
		forge.WithSubprotocols("events.v1", "events.v2"), forge.WithRequiredSubprotocol(),
		forge.WithMessages(
			forge.Message{Name: "subscribe", Direction: forge.ClientToServer, Payload: &subscribe{}, Envelope: events.Envelope{},
				Reply: ackMsg, Summary: "Subscribe to topics"},
			forge.Message{Name: "unsubscribe", Direction: forge.ClientToServer, Payload: &subscribe{}, Envelope: events.Envelope{}},
			forge.Message{Name: "notice", Direction: forge.ServerToClient, Payload: &notice{}, Envelope: events.Envelope{},
				Description: "A notice on a followed topic."},
			forge.Message{Name: "user", Direction: forge.ServerToClient, Payload: &User{}, Envelope: events.Envelope{}},
			forge.Message{Direction: forge.ServerToClient, Payload: &router.FieldError{}},
			forge.Message{Direction: forge.ServerToClient, Payload: &FieldError{}},
		))
	admin := r.Group("/ws/admin", forge.WithTags("admin"))
	admin.WebSocket("/old", WSNoop, forge.WithDeprecated(), forge.WithWebSocketMessages(&FieldError{}, nil))
	admin.WebSocket("/hidden", WSNoop, forge.WithHidden(), forge.WithWebSocketMessages(&ack{}, nil))
	return app
}
