package events

import (
	"fmt"
	"reflect"
	"strings"
)

// Next runs the rest of a handler chain: the inner middleware, then the
// payload's decoding and validation, then the handler. It returns the
// reply payload (nil for an empty acknowledgement) or an error.
type Next func(ctx *Context) (any, error)

// Middleware wraps the handling of a message: it may look at the context,
// refuse the message by returning an error (an *Error for the client to
// see), or call next and look at the result. Middleware runs before the
// payload is decoded, so a refusal costs no decoding.
type Middleware func(ctx *Context, next Next) (any, error)

// On registers fn as the handler of the client event name. The payload is
// validated against T's JSON schema (from its struct tags: required, enum,
// minLength, maximum, ...) and decoded into a T before fn runs; a payload
// that does not fit is answered with an error event (CodeInvalidPayload)
// and fn is not called. An absent or null payload reads as {} for struct
// and map types. When the message has an id, a successful fn is
// acknowledged with {"event": name + ".ack", "id": ..., "payload": {}}; an
// error is answered with an error event carrying the id.
func On[T any](d *Dispatcher, name string, fn func(ctx *Context, payload T) error, opts ...HandlerOption) {
	if fn == nil {
		panic(fmt.Sprintf("forge: events: On(%q): nil handler", name))
	}
	d.checkName("On", name)
	pt := mustPayloadType[T]("On", name)
	d.register(spec{fn: "On", name: name, in: pt.typ, opts: opts, core: func(c *Context) (any, error) {
		var v T
		if err := pt.decode(c.payload, &v); err != nil {
			return nil, err
		}
		return nil, fn(c, v)
	}})
}

// OnRequest registers fn as the handler of the client event name, like On,
// with a result: when the message has an id, fn's result is the payload of
// the reply {"event": name + ".ack", "id": ..., "payload": result}. The
// reply is declared for the documents.
func OnRequest[T, R any](d *Dispatcher, name string, fn func(ctx *Context, payload T) (R, error), opts ...HandlerOption) {
	if fn == nil {
		panic(fmt.Sprintf("forge: events: OnRequest(%q): nil handler", name))
	}
	d.checkName("OnRequest", name)
	pt := mustPayloadType[T]("OnRequest", name)
	d.register(spec{fn: "OnRequest", name: name, in: pt.typ, out: reflect.TypeFor[R](), opts: opts, core: func(c *Context) (any, error) {
		var v T
		if err := pt.decode(c.payload, &v); err != nil {
			return nil, err
		}
		r, err := fn(c, v)
		if err != nil {
			return nil, err
		}
		return r, nil
	}})
}

// OnAny registers fn for every client event that has no handler of its
// own (for the connection's subprotocol): the shape of a command service,
// where one function switches on the command. fn gets the event name and
// the raw payload (nil when absent); nothing is validated. Unknown events
// are fn's to answer, with an error if it likes (NewError(CodeUnknownEvent,
// ...)). The documents show one generic message.
func OnAny(d *Dispatcher, fn func(ctx *Context, event string, payload []byte) error, opts ...HandlerOption) {
	if fn == nil {
		panic("forge: events: OnAny: nil handler")
	}
	d.register(spec{fn: "OnAny", opts: opts, summary: "Any other event; the server decides what it means.",
		core: func(c *Context) (any, error) { return nil, fn(c, c.event, c.payload) }})
}

// Emits declares that the server sends the event name with payloads of
// type T (Context.Emit, Dispatcher.Broadcast, ...), for the documents.
// Sending an undeclared event, or one with a payload of another type,
// fails with ErrUndeclared. Only WithSummary, WithDescription and
// WithTransient apply.
func Emits[T any](d *Dispatcher, name string, opts ...HandlerOption) {
	d.checkName("Emits", name)
	s := documentation("Emits", name, opts)
	d.declare("Emits", name, reflect.TypeFor[T](), nil, s)
}

// documentation applies opts that may only document an event.
func documentation(fn, name string, opts []HandlerOption) settings {
	var s settings
	s.handlerOptions(opts)
	if s.err == "" && (s.timeout != 0 || len(s.middleware) > 0 || s.subprotocol != "") {
		s.err = "only WithSummary, WithDescription and WithTransient apply"
	}
	if s.err != "" {
		panic(fmt.Sprintf("forge: events: %s(%q): %s", fn, name, s.err))
	}
	return s
}

func mustPayloadType[T any](fn, name string) *payloadType {
	pt, err := payloadTypeOf(reflect.TypeFor[T]())
	if err != nil {
		panic(fmt.Sprintf("forge: events: %s(%q): %v", fn, name, err))
	}
	return pt
}

var (
	contextType = reflect.TypeFor[*Context]()
	errorType   = reflect.TypeFor[error]()
)

// Controller registers the methods of ctrl named after events, in capital
// letters (MESSAGE, JOIN, TYPING_START), as the handlers of those events in
// lower case ("message", "join", "typing_start"), after prefix and a dot
// when prefix is not empty ("chat.message"). opts apply to every one.
//
// A method takes the *Context and, optionally, a payload of any type, and
// returns an error, or a reply and an error (as OnRequest):
//
//	func (c *ChatController) MESSAGE(ctx *events.Context, msg ChatMessage) error
//	func (c *ChatController) JOIN(ctx *events.Context, req JoinRequest) (JoinReply, error)
//	func (c *ChatController) LEAVE(ctx *events.Context) error
//
// Capitalized methods whose first parameter is not a *Context are left
// alone; one whose other parameters or results do not fit panics, and so
// does a controller without handlers.
func Controller(d *Dispatcher, prefix string, ctrl any, opts ...HandlerOption) {
	v := reflect.ValueOf(ctrl)
	if !v.IsValid() {
		panic("forge: events: Controller: nil controller")
	}
	t := v.Type()
	n := 0
	for i := range t.NumMethod() {
		m := t.Method(i)
		if !isEventMethod(m.Name) {
			continue
		}
		mt := m.Type // the receiver is In(0)
		if mt.NumIn() < 2 || mt.In(1) != contextType {
			continue
		}
		name := strings.ToLower(m.Name)
		if prefix != "" {
			name = prefix + "." + name
		}
		fnName := fmt.Sprintf("Controller(%s.%s)", t, m.Name)
		d.checkName(fnName, name)
		var in reflect.Type
		switch mt.NumIn() {
		case 2:
		case 3:
			in = mt.In(2)
		default:
			panic(fmt.Sprintf("forge: events: %s: a handler method takes a *Context and at most one payload", fnName))
		}
		var out reflect.Type
		switch {
		case mt.NumOut() == 1 && mt.Out(0) == errorType:
		case mt.NumOut() == 2 && mt.Out(1) == errorType:
			out = mt.Out(0)
		default:
			panic(fmt.Sprintf("forge: events: %s: a handler method returns an error, or a reply and an error", fnName))
		}
		d.register(spec{fn: fnName, name: name, in: in, out: out, opts: opts,
			core: methodCore(fnName, v.Method(i), in, out != nil)})
		n++
	}
	if n == 0 {
		panic(fmt.Sprintf("forge: events: Controller(%s): no handler methods (capitalized, taking a *events.Context)", t))
	}
}

// methodCore calls a controller method through reflection.
func methodCore(fnName string, method reflect.Value, in reflect.Type, reply bool) Next {
	var pt *payloadType
	if in != nil {
		var err error
		if pt, err = payloadTypeOf(in); err != nil {
			panic(fmt.Sprintf("forge: events: %s: %v", fnName, err))
		}
	}
	return func(c *Context) (any, error) {
		args := []reflect.Value{reflect.ValueOf(c)}
		if pt != nil {
			p := reflect.New(in)
			if err := pt.decode(c.payload, p.Interface()); err != nil {
				return nil, err
			}
			args = append(args, p.Elem())
		}
		res := method.Call(args)
		errv := res[len(res)-1]
		if !errv.IsNil() {
			return nil, errv.Interface().(error)
		}
		if reply {
			return res[0].Interface(), nil
		}
		return nil, nil
	}
}

// isEventMethod reports whether a method name is all capitals, digits and
// underscores, with at least one letter.
func isEventMethod(name string) bool {
	letter := false
	for _, c := range name {
		switch {
		case c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9', c == '_':
		default:
			return false
		}
	}
	return letter
}
