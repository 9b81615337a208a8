package asyncapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/swaggest/jsonschema-go"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/internal/schemaname"
)

// Spec is what a Document is built from: the application's metadata, its
// servers and the description of its routes.
type Spec struct {
	Info    apidoc.Info
	Servers map[string]*Server
	// Routes are the application's routes. The document describes those
	// that are WebSocket routes and not hidden, each as a channel, in this
	// order: when two would get the same channel id, the later one gets a
	// suffix.
	Routes []apidoc.Route
}

const (
	schemasPrefix  = "#/components/schemas/"
	messagesPrefix = "#/components/messages/"
)

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// Build builds the document that spec describes. It fails when a channel
// contradicts itself: an address with a query or fragment, placeholders
// and parameters that differ, a payload type that cannot be described.
func Build(spec Spec) (*Document, error) {
	b := &builder{
		doc: &Document{
			AsyncAPI:           Version,
			Info:               spec.Info,
			DefaultContentType: "application/json",
		},
		schemas:  make(map[string]*jsonschema.Schema),
		messages: make(map[string]*Message),
		msgJSON:  make(map[string][]byte),
		received: make(map[string][][]byte),
		channels: make(map[string]bool),
		ops:      make(map[string]bool),
	}
	if b.doc.Info.Title == "" {
		b.doc.Info.Title = "forge application"
	}
	if b.doc.Info.Version == "" {
		b.doc.Info.Version = "0.0.0"
	}
	if len(spec.Servers) > 0 {
		b.doc.Servers = spec.Servers
	}
	var channels []*apidoc.Route
	for i := range spec.Routes {
		if r := &spec.Routes[i]; r.WebSocket && !r.Hidden {
			channels = append(channels, r)
		}
	}
	b.nameTypes(channels)
	b.learnReceived(channels)
	// Channels named by their route keep their name as id; the others get
	// one derived from their address, with a suffix when it is taken.
	ids := make([]string, len(channels))
	for i, r := range channels {
		if id := sanitizeKey(r.Name); id != "" {
			ids[i] = unique(b.channels, id)
		}
	}
	for i, r := range channels {
		if ids[i] == "" {
			ids[i] = unique(b.channels, slug(r.Path))
		}
	}
	security := make(map[string]*SecurityScheme)
	for i, r := range channels {
		if len(r.Messages) > 0 { // else no operation refers to them
			for _, s := range r.Security {
				security[s.Key] = securityScheme(s.Scheme)
			}
		}
		if err := b.channel(ids[i], r); err != nil {
			return nil, fmt.Errorf("asyncapi: channel %q: %w", r.Path, err)
		}
	}
	for name, s := range b.schemas {
		titleNested(name, s)
	}
	if len(b.schemas) > 0 || len(b.messages) > 0 || len(security) > 0 {
		b.doc.Components = &Components{}
		if len(b.schemas) > 0 {
			b.doc.Components.Schemas = b.schemas
		}
		if len(b.messages) > 0 {
			b.doc.Components.Messages = b.messages
		}
		if len(security) > 0 {
			b.doc.Components.SecuritySchemes = security
		}
	}
	return b.doc, nil
}

type builder struct {
	doc      *Document
	namer    schemaname.Namer
	refl     jsonschema.Reflector
	schemas  map[string]*jsonschema.Schema
	messages map[string]*Message
	msgJSON  map[string][]byte   // encoded messages, to tell equal ones from clashes
	received map[string][][]byte // encoded messages that clients send, by name
	channels map[string]bool     // channel ids in use
	ops      map[string]bool     // operation ids in use
}

// nameTypes learns the named types the document may hold, so that their
// names do not depend on the order they are met in.
func (b *builder) nameTypes(channels []*apidoc.Route) {
	for _, r := range channels {
		for _, m := range r.Messages {
			for p := &m; p != nil; p = p.Reply {
				if p.Payload != nil {
					b.namer.AddTree(reflect.TypeOf(p.Payload))
				}
			}
		}
	}
	b.refl.DefaultOptions = append(b.refl.DefaultOptions,
		jsonschema.InterceptDefName(func(t reflect.Type, _ string) string { return b.namer.Name(t) }))
}

// payloadSchema returns the schema of a payload type: a reference to its
// component schema for named types, the schema itself for the others.
func (b *builder) payloadSchema(v any) (*jsonschema.Schema, error) {
	s, err := b.refl.Reflect(v,
		jsonschema.RootRef,
		jsonschema.DefinitionsPrefix(schemasPrefix),
		jsonschema.CollectDefinitions(func(name string, s jsonschema.Schema) {
			if _, ok := b.schemas[name]; !ok {
				b.schemas[name] = &s
			}
		}))
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (b *builder) channel(id string, r *apidoc.Route) error {
	if strings.ContainsAny(r.Path, "?#") {
		return errors.New("address must not hold a query or fragment")
	}
	if r.Path == "" {
		return errors.New("empty address")
	}
	ch := &Channel{
		Address:     r.Path,
		Summary:     r.Summary,
		Description: r.Description,
		Deprecated:  r.Deprecated,
	}
	for _, t := range r.Tags {
		ch.Tags = append(ch.Tags, Tag{Name: t})
	}
	if err := b.parameters(ch, r); err != nil {
		return err
	}
	binding, err := b.binding(r)
	if err != nil {
		return err
	}
	ch.Bindings = &ChannelBindings{WS: binding}

	chRef := Reference{Ref: "#/channels/" + id}
	var security []Reference
	for _, s := range r.Security {
		security = append(security, Reference{Ref: "#/components/securitySchemes/" + s.Key})
	}
	for _, m := range r.Messages {
		if m.Direction != apidoc.ClientToServer && m.Direction != apidoc.ServerToClient {
			return fmt.Errorf("message %q: direction %v is neither client-to-server nor server-to-client", m.Name, m.Direction)
		}
		key, err := b.message(&m, false)
		if err != nil {
			return err
		}
		addChannelMessage(ch, key)
		op := &Operation{
			Action:      action(m.Direction),
			Channel:     chRef,
			Summary:     cmp.Or(m.Summary, r.Summary),
			Description: cmp.Or(m.Description, r.Description),
			Messages:    []Reference{{Ref: chRef.Ref + "/messages/" + key}},
			Tags:        ch.Tags,
			Security:    security,
			Deprecated:  r.Deprecated,
		}
		if m.Reply != nil {
			if m.Reply.Direction == m.Direction {
				return fmt.Errorf("message %q: its reply travels the same way", m.Name)
			}
			rkey, err := b.message(m.Reply, true)
			if err != nil {
				return err
			}
			addChannelMessage(ch, rkey)
			op.Reply = &OperationReply{
				Channel:  &Reference{Ref: chRef.Ref},
				Messages: []Reference{{Ref: chRef.Ref + "/messages/" + rkey}},
			}
		}
		opID := id + "." + op.Action + "." + key
		if b.ops[opID] && b.sameOperation(opID, op) {
			continue // declared twice: one operation
		}
		opID = unique(b.ops, opID)
		if b.doc.Operations == nil {
			b.doc.Operations = make(map[string]*Operation)
		}
		b.doc.Operations[opID] = op
	}
	if b.doc.Channels == nil {
		b.doc.Channels = make(map[string]*Channel)
	}
	b.doc.Channels[id] = ch
	return nil
}

func (b *builder) sameOperation(id string, op *Operation) bool {
	prev, ok := b.doc.Operations[id]
	if !ok {
		return false
	}
	x, _ := json.Marshal(prev)
	y, _ := json.Marshal(op)
	return bytes.Equal(x, y)
}

// action is the operation's action for messages travelling d, from the
// application's point of view: it receives what clients send.
func action(d apidoc.Direction) string {
	if d == apidoc.ServerToClient {
		return ActionSend
	}
	return ActionReceive
}

func addChannelMessage(ch *Channel, key string) {
	if ch.Messages == nil {
		ch.Messages = make(map[string]Reference)
	}
	ch.Messages[key] = Reference{Ref: messagesPrefix + key}
}

// parameters declares the parameters of the channel's address, checking
// that they are the address's placeholders.
func (b *builder) parameters(ch *Channel, r *apidoc.Route) error {
	declared := make(map[string]apidoc.Param)
	for _, p := range r.Params {
		if p.Name == "*" {
			continue // a trailing wildcard, written as such in the address
		}
		declared[p.Name] = p
	}
	var inAddress []string
	for _, m := range placeholder.FindAllStringSubmatch(r.Path, -1) {
		inAddress = append(inAddress, m[1])
	}
	for _, name := range inAddress {
		if _, ok := declared[name]; !ok {
			return fmt.Errorf("address placeholder {%s} has no parameter", name)
		}
	}
	for name := range declared {
		if !slices.Contains(inAddress, name) {
			return fmt.Errorf("parameter %q is not in the address", name)
		}
	}
	if len(declared) == 0 {
		return nil
	}
	var fields map[string]jsonschema.SchemaOrBool
	if r.Request != nil {
		s, err := b.handshakeSchema(r.Request, "path")
		if err != nil {
			return err
		}
		fields = s.Properties
		for name := range fields {
			if _, ok := declared[name]; !ok {
				return fmt.Errorf("handshake type %T has path parameter %q, which the address lacks", r.Request, name)
			}
		}
	}
	ch.Parameters = make(map[string]*Parameter, len(declared))
	for name, p := range declared {
		param := &Parameter{}
		if f, ok := fields[name]; ok && f.TypeObject != nil {
			s := f.TypeObject
			if s.Description != nil {
				param.Description = *s.Description
			}
			for _, e := range s.Enum {
				param.Enum = append(param.Enum, scalarString(e))
			}
			if s.Default != nil {
				param.Default = scalarString(*s.Default)
			}
			for _, e := range s.Examples {
				param.Examples = append(param.Examples, scalarString(e))
			}
		}
		if p.Pattern != "" {
			param.Description = strings.TrimSpace(param.Description + "\n\nMatches the regular expression `" + p.Pattern + "`.")
		}
		ch.Parameters[name] = param
	}
	return nil
}

// binding describes the upgrade request: GET, with the query and headers
// of the handshake type and the subprotocol header.
func (b *builder) binding(r *apidoc.Route) (*WebSocketsChannelBinding, error) {
	ws := &WebSocketsChannelBinding{Method: "GET", BindingVersion: WebSocketsBindingVersion}
	if r.Request != nil {
		q, err := b.handshakeSchema(r.Request, "query")
		if err != nil {
			return nil, err
		}
		if len(q.Properties) > 0 {
			ws.Query = q
		}
		h, err := b.handshakeSchema(r.Request, "header")
		if err != nil {
			return nil, err
		}
		if len(h.Properties) > 0 {
			ws.Headers = h
		}
	}
	if len(r.Subprotocols) > 0 {
		if ws.Headers == nil {
			ws.Headers = (&jsonschema.Schema{}).WithType(jsonschema.Object.Type())
		}
		p := (&jsonschema.Schema{}).WithType(jsonschema.String.Type()).
			WithDescription("The subprotocols the client offers. The server speaks " +
				strings.Join(r.Subprotocols, ", ") + " (in its order of preference) and picks the first it speaks.").
			WithExamples(anys(r.Subprotocols)...)
		ws.Headers.WithPropertiesItem("Sec-WebSocket-Protocol", p.ToSchemaOrBool())
		if r.RequireSubprotocol {
			ws.Headers.Required = append(ws.Headers.Required, "Sec-WebSocket-Protocol")
		}
	}
	return ws, nil
}

// handshakeSchema is the object schema of the handshake fields tagged tag,
// with every reference inlined and no null types: request parameters are
// absent or have a value.
func (b *builder) handshakeSchema(v any, tag string) (*jsonschema.Schema, error) {
	var r jsonschema.Reflector
	s, err := r.Reflect(v, jsonschema.PropertyNameTag(tag), jsonschema.InlineRefs)
	if err != nil {
		return nil, fmt.Errorf("handshake type %T: %w", v, err)
	}
	if !s.HasType(jsonschema.Object) {
		return nil, fmt.Errorf("handshake type %T is not a struct", v)
	}
	for name, p := range s.Properties {
		if p.TypeObject != nil {
			p.TypeObject.RemoveType(jsonschema.Null)
			s.Properties[name] = p
		}
	}
	s.Type = nil
	s.WithType(jsonschema.Object.Type())
	if s.Properties == nil {
		s.Properties = map[string]jsonschema.SchemaOrBool{}
	}
	return &s, nil
}

// message adds the component message of m, or finds an equal one, and
// returns its key. isReply marks a message sent as a reply, whose envelope
// always carries the id.
func (b *builder) message(m *apidoc.Message, isReply bool) (string, error) {
	d, err := b.describe(m, isReply)
	if err != nil {
		return "", err
	}
	key, seen := b.messageKey(m, d)
	if seen {
		return key, nil
	}
	// Titles follow from the key, so they are set once it is chosen.
	title := pascal(key)
	if d.payload.Ref == nil && d.payload.Title == nil {
		d.payload.Title = &[]string{title + "Payload"}[0]
	}
	if m.Envelope != nil {
		d.msg.Payload = m.Envelope.Schema(m.Name, d.payload, isReply) // around the titled payload
		d.msg.Payload.Title = &[]string{title + "Envelope"}[0]
	}
	b.msgJSON[key] = d.enc
	b.messages[key] = d.msg
	return key, nil
}

// described is a component message before it has a key.
type described struct {
	msg      *Message
	payload  *jsonschema.Schema // the payload type's schema, in the envelope if any
	typeName string             // the payload's component schema, if any
	enc      []byte             // msg encoded, to tell equal messages from clashes
}

// describe builds the component message of m, without a title.
func (b *builder) describe(m *apidoc.Message, isReply bool) (*described, error) {
	if m.Payload == nil {
		return nil, fmt.Errorf("message %q has no payload", m.Name)
	}
	if m.Envelope != nil && m.Name == "" {
		return nil, errors.New("a message in an envelope needs a name")
	}
	payload, err := b.payloadSchema(m.Payload)
	if err != nil {
		return nil, fmt.Errorf("message %q: payload %T: %w", m.Name, m.Payload, err)
	}
	typeName := ""
	if payload.Ref != nil {
		typeName = strings.TrimPrefix(*payload.Ref, schemasPrefix)
	}
	msg := &Message{
		Name:        cmp.Or(m.Name, typeName),
		Summary:     m.Summary,
		Description: m.Description,
		Payload:     payload,
	}
	examples := apidoc.Examples(m.Payload)
	if env := m.Envelope; env != nil {
		msg.Payload = env.Schema(m.Name, payload, isReply)
		if loc := env.CorrelationID(); loc != "" && (isReply || m.Reply != nil) {
			msg.CorrelationID = &CorrelationID{
				Description: "The envelope id, which a reply carries back.",
				Location:    loc,
			}
		}
		for i, ex := range examples {
			examples[i] = env.Example(m.Name, ex)
		}
	}
	for _, ex := range examples {
		msg.Examples = append(msg.Examples, MessageExample{Payload: ex})
	}
	enc, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("message %q: %w", m.Name, err)
	}
	return &described{msg: msg, payload: payload, typeName: typeName, enc: enc}, nil
}

// learnReceived records the messages clients send, by name, before any
// key is chosen, so that the keys do not depend on the order of the
// messages. A message that cannot be described is reported later, where
// its channel is built.
func (b *builder) learnReceived(channels []*apidoc.Route) {
	learn := func(m *apidoc.Message, isReply bool) {
		if m.Direction != apidoc.ClientToServer {
			return
		}
		if d, err := b.describe(m, isReply); err == nil {
			b.received[d.msg.Name] = append(b.received[d.msg.Name], d.enc)
		}
	}
	for _, r := range channels {
		for _, m := range r.Messages {
			learn(&m, false)
			if m.Reply != nil {
				learn(m.Reply, true)
			}
		}
	}
}

// messageKey chooses the component key of message m, and reports whether
// an equal message has it already. See "Message keys" in the package
// documentation.
func (b *builder) messageKey(m *apidoc.Message, d *described) (string, bool) {
	key := sanitizeKey(d.msg.Name)
	if key == "" {
		key = "Message"
	}
	if received := b.received[d.msg.Name]; m.Direction == apidoc.ServerToClient && len(received) > 0 &&
		!slices.ContainsFunc(received, func(enc []byte) bool { return bytes.Equal(enc, d.enc) }) {
		key += ".received" // the name is the client's message's
	}
	candidates := []string{key}
	if t := sanitizeKey(d.typeName); t != "" && t != key {
		candidates = append(candidates, t)
	}
	for n := 2; ; n++ {
		for _, k := range candidates {
			prev, ok := b.msgJSON[k]
			if !ok {
				return k, false
			}
			if bytes.Equal(prev, d.enc) {
				return k, true
			}
		}
		candidates = []string{key + "_" + strconv.Itoa(n)}
	}
}

// pascal turns a key into a type-like name: "message.ack" gives
// "MessageAck".
func pascal(key string) string {
	var b strings.Builder
	up := true
	for _, r := range key {
		switch {
		case r == '.' || r == '-' || r == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// titleNested gives the anonymous schemas inside component schema name
// that code generators turn into types of their own (objects with
// properties, enums) a title after their place: property "action" of
// Presence becomes PresenceAction, the items of its list PresenceActionItem.
// Without one, generators number them (AsyncAPI Modelina's
// AnonymousSchema_44).
func titleNested(name string, s *jsonschema.Schema) {
	for _, prop := range slices.Sorted(maps.Keys(s.Properties)) {
		if p := s.Properties[prop].TypeObject; p != nil {
			titleSchema(name+pascal(prop), p)
		}
	}
	if s.Items != nil && s.Items.SchemaOrBool != nil && s.Items.SchemaOrBool.TypeObject != nil {
		titleSchema(name+"Item", s.Items.SchemaOrBool.TypeObject)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.TypeObject != nil {
		titleSchema(name+"Value", s.AdditionalProperties.TypeObject)
	}
}

func titleSchema(name string, s *jsonschema.Schema) {
	if s.Ref != nil {
		return
	}
	if s.Title == nil && (len(s.Enum) > 0 || len(s.Properties) > 0) {
		s.Title = &name
	}
	if s.Title != nil {
		name = *s.Title
	}
	titleNested(name, s)
}

// securityScheme is the AsyncAPI form of s: an API key outside the
// Authorization header is an "httpApiKey", and the subprotocol prefix is
// the extension x-forge-subprotocol-prefix.
func securityScheme(s apidoc.SecurityScheme) *SecurityScheme {
	ss := &SecurityScheme{Type: s.Type, Description: s.Description, Scheme: s.Scheme,
		BearerFormat: s.BearerFormat, Name: s.Name, In: s.In, SubprotocolPrefix: s.Subprotocol}
	if s.Type == "apiKey" {
		ss.Type = "httpApiKey"
	}
	return ss
}

// slug derives a channel id from an address: "/ws/chat/{room}" gives
// "ws-chat-room", "/" gives "root".
func slug(address string) string {
	var parts []string
	for seg := range strings.SplitSeq(strings.Trim(address, "/"), "/") {
		seg = strings.NewReplacer("{", "", "}", "", "*", "all").Replace(seg)
		if s := sanitizeKey(seg); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "root"
	}
	return strings.Join(parts, "-")
}

// sanitizeKey keeps the characters that component and channel keys allow.
func sanitizeKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unique returns key, or key with the first free suffix, and marks it used.
func unique(used map[string]bool, key string) string {
	k := key
	for n := 2; used[k]; n++ {
		k = key + "-" + strconv.Itoa(n)
	}
	used[k] = true
	return k
}

// anys converts a list of strings to a list of values.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func scalarString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
