package asyncapi

import (
	"bytes"
	"encoding/json"

	"github.com/swaggest/jsonschema-go"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/internal/jsonyaml"
)

// Version is the AsyncAPI version of the documents this package builds.
const Version = "3.0.0"

// WebSocketsBindingVersion is the version of the ws channel binding used.
const WebSocketsBindingVersion = "0.1.0"

// Document is an AsyncAPI 3.0 document: the subset of the specification
// that describes WebSocket APIs. Maps encode with sorted keys, so a
// Document always encodes to the same bytes.
type Document struct {
	AsyncAPI           string                `json:"asyncapi"`
	Info               apidoc.Info           `json:"info"`
	Servers            map[string]*Server    `json:"servers,omitempty"`
	DefaultContentType string                `json:"defaultContentType,omitempty"`
	Channels           map[string]*Channel   `json:"channels,omitempty"`
	Operations         map[string]*Operation `json:"operations,omitempty"`
	Components         *Components           `json:"components,omitempty"`
}

// Server is a server that serves the channels: its host and protocol
// ("ws" or "wss").
type Server struct {
	Host        string `json:"host"`
	Protocol    string `json:"protocol"`
	Pathname    string `json:"pathname,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// Channel is one WebSocket route: its address, the parameters of the
// address, the messages that travel on it and its handshake binding.
type Channel struct {
	Address     string                `json:"address"`
	Title       string                `json:"title,omitempty"`
	Summary     string                `json:"summary,omitempty"`
	Description string                `json:"description,omitempty"`
	Parameters  map[string]*Parameter `json:"parameters,omitempty"`
	Messages    map[string]Reference  `json:"messages,omitempty"`
	Tags        []Tag                 `json:"tags,omitempty"`
	Bindings    *ChannelBindings      `json:"bindings,omitempty"`
	// Deprecated marks a deprecated route. AsyncAPI 3.0 has no such field
	// for channels, so it is written as the extension x-deprecated.
	Deprecated bool `json:"x-deprecated,omitempty"`
}

// Parameter describes a parameter of a channel address.
type Parameter struct {
	Description string   `json:"description,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	Default     string   `json:"default,omitempty"`
	Examples    []string `json:"examples,omitempty"`
}

// ChannelBindings holds the protocol bindings of a channel; forge uses the
// WebSocket one only.
type ChannelBindings struct {
	WS *WebSocketsChannelBinding `json:"ws,omitempty"`
}

// WebSocketsChannelBinding describes the HTTP request that opens a
// WebSocket channel: its method, query and headers. Query and Headers are
// object schemas with properties.
type WebSocketsChannelBinding struct {
	Method         string             `json:"method,omitempty"`
	Query          *jsonschema.Schema `json:"query,omitempty"`
	Headers        *jsonschema.Schema `json:"headers,omitempty"`
	BindingVersion string             `json:"bindingVersion"`
}

// Operation is one thing the application does on a channel, seen from the
// application: "receive" a message that clients send, or "send" one to
// them.
type Operation struct {
	Action      string          `json:"action"`
	Channel     Reference       `json:"channel"`
	Title       string          `json:"title,omitempty"`
	Summary     string          `json:"summary,omitempty"`
	Description string          `json:"description,omitempty"`
	Messages    []Reference     `json:"messages,omitempty"`
	Reply       *OperationReply `json:"reply,omitempty"`
	// Security lists the security schemes of which the upgrade request
	// must satisfy one.
	Security []Reference `json:"security,omitempty"`
	Tags     []Tag       `json:"tags,omitempty"`
	// Deprecated is written as the extension x-deprecated, as for channels.
	Deprecated bool `json:"x-deprecated,omitempty"`
}

// Operation actions, from the application's point of view.
const (
	ActionSend    = "send"
	ActionReceive = "receive"
)

// OperationReply is the message that answers an operation's message.
type OperationReply struct {
	Channel  *Reference  `json:"channel,omitempty"`
	Messages []Reference `json:"messages,omitempty"`
}

// Reference is a JSON reference, "#/components/messages/ChatMessage".
type Reference struct {
	Ref string `json:"$ref"`
}

// Tag groups channels and operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Components holds the reusable messages, schemas and security schemes.
type Components struct {
	Schemas         map[string]*jsonschema.Schema `json:"schemas,omitempty"`
	Messages        map[string]*Message           `json:"messages,omitempty"`
	SecuritySchemes map[string]*SecurityScheme    `json:"securitySchemes,omitempty"`
}

// SecurityScheme is a way of presenting a credential with the upgrade
// request: Type "http" with a Scheme ("bearer", "basic"), or "httpApiKey"
// with In ("header", "query", "cookie") and Name.
type SecurityScheme struct {
	Type         string `json:"type"`
	Description  string `json:"description,omitempty"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	Name         string `json:"name,omitempty"`
	In           string `json:"in,omitempty"`
	// SubprotocolPrefix, when set, is the prefix of a
	// Sec-WebSocket-Protocol entry that carries the credential instead
	// ("bearer." for "bearer.<token>"): how a browser, which cannot set
	// headers on a WebSocket, presents it. AsyncAPI has no field for it;
	// the docs console reads the extension to offer the credential.
	SubprotocolPrefix string `json:"x-forge-subprotocol-prefix,omitempty"`
}

// Message is one kind of message: its name and payload schema.
type Message struct {
	Name          string             `json:"name,omitempty"`
	Title         string             `json:"title,omitempty"`
	Summary       string             `json:"summary,omitempty"`
	Description   string             `json:"description,omitempty"`
	ContentType   string             `json:"contentType,omitempty"`
	Payload       *jsonschema.Schema `json:"payload,omitempty"`
	CorrelationID *CorrelationID     `json:"correlationId,omitempty"`
	Examples      []MessageExample   `json:"examples,omitempty"`
}

// CorrelationID says where a message carries the id that pairs it with
// its reply.
type CorrelationID struct {
	Description string `json:"description,omitempty"`
	Location    string `json:"location"`
}

// MessageExample is an example of a message.
type MessageExample struct {
	Name    string `json:"name,omitempty"`
	Summary string `json:"summary,omitempty"`
	Payload any    `json:"payload"`
}

// JSON encodes the document as indented JSON.
func (d *Document) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// YAML encodes the document as YAML, with the keys in the order of JSON.
func (d *Document) YAML() ([]byte, error) {
	b, err := d.JSON()
	if err != nil {
		return nil, err
	}
	return jsonyaml.FromJSON(b)
}
