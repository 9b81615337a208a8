package docs_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/docs"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/integration/browsertest"
)

// chatEnvelope is the test chat route's frame.
type chatEnvelope struct {
	Event   string          `json:"event"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload"`
}

// newDocsApp serves the docs UI at /docs for the fixtures in testdata and
// the chat route they describe: every chat.send is answered with a
// chat.message naming the room and user, and a frame that is not JSON
// closes the connection with 1007.
func newDocsApp(t *testing.T) *forgetest.Server {
	t.Helper()
	asyncDoc, err := os.ReadFile(filepath.Join("testdata", "asyncapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	openDoc, err := os.ReadFile(filepath.Join("testdata", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The app's own documents and docs UI are off: this test serves the
	// fixtures, so that it checks the UI alone.
	app := forge.New(forge.WithAppName("docs-test"), forge.WithoutDocs(),
		forge.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	r := app.Router()
	serveJSON := func(doc []byte) forge.Handler {
		return func(ctx forge.Context) error {
			w := ctx.ResponseWriter()
			w.Header().Set("Content-Type", "application/json")
			_, err := w.Write(doc)
			return err
		}
	}
	r.GET("/asyncapi.json", serveJSON(asyncDoc))
	r.GET("/openapi.json", serveJSON(openDoc))
	r.WebSocket("/ws/chat/:room", func(ctx forge.Context, conn forge.Connection) error {
		room, user := ctx.Param("room"), ctx.Query("user")
		for {
			var in chatEnvelope
			if err := conn.ReadJSON(&in); err != nil {
				return err
			}
			if in.Event != "chat.send" {
				if err := conn.WriteJSON(map[string]any{"event": "error", "payload": map[string]string{
					"code": "unknown_event", "message": "unknown event " + in.Event}}); err != nil {
					return err
				}
				continue
			}
			var p struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(in.Payload, &p); err != nil {
				return err
			}
			out := map[string]any{"event": "chat.message", "payload": map[string]string{
				"room": room, "user": user, "text": p.Text, "sentAt": time.Now().UTC().Format(time.RFC3339)}}
			if in.ID != "" {
				out["id"] = in.ID
			}
			if err := conn.WriteJSON(out); err != nil {
				return err
			}
		}
	}, forge.WithSummary("Chat room"))
	r.Mount("/docs", docs.Handler(docs.Config{
		Title:       "Chat docs",
		BasePath:    "/docs",
		OpenAPIURL:  "/openapi.json",
		AsyncAPIURL: "/asyncapi.json",
	}))

	// The same document with the channel moved to an address no route
	// serves, and a docs UI whose document is missing: the error paths.
	noRoute := strings.ReplaceAll(string(asyncDoc), "/ws/chat/{room}", "/ws/nowhere/{room}")
	r.GET("/asyncapi-noroute.json", serveJSON([]byte(noRoute)))
	r.Mount("/docs-noroute", docs.Handler(docs.Config{BasePath: "/docs-noroute", AsyncAPIURL: "/asyncapi-noroute.json"}))
	r.Mount("/docs-missing", docs.Handler(docs.Config{BasePath: "/docs-missing", AsyncAPIURL: "/missing.json"}))
	return forgetest.Start(t, app)
}

// TestBrowser drives both references in a real headless chromium against a
// real forge app: the WebSocket page lists the fixture's channel and
// messages, its console connects to the chat route, sends the generated
// example and shows the answer and the close code; Swagger UI renders the
// OpenAPI fixture's operations; and no request leaves the app's host.
func TestBrowser(t *testing.T) {
	b := browsertest.New(t)
	srv := newDocsApp(t)
	host := strings.TrimPrefix(srv.URL, "http://")

	t.Run("index links to the WebSocket page", func(t *testing.T) {
		b.Do(t, "open the index",
			chromedp.Navigate(srv.URL+"/docs/"),
			chromedp.WaitVisible(browsertest.CSS(`#card-websocket a`)),
			chromedp.Click(browsertest.CSS(`#card-websocket a`)),
			chromedp.WaitVisible(browsertest.CSS(`section[data-channel="chatRoom"]`)),
		)
	})

	t.Run("reference", func(t *testing.T) {
		address := browsertest.Value(t, b, "channel address", chromedp.Text(browsertest.CSS(`section[data-channel="chatRoom"] .address`)))
		messages := browsertest.Value(t, b, "messages", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('section[data-channel="chatRoom"] article.message')].map(a => a.dataset.message)`))
		operations := browsertest.Value(t, b, "operations", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('section[data-channel="chatRoom"] li.operation')].map(li => li.dataset.action + " " + li.dataset.operation)`))
		sendSchema := browsertest.Value(t, b, "chat.send schema", chromedp.TextContent(browsertest.CSS(`article[data-message="chatSend"] .schema`)))
		sendExample := browsertest.Value(t, b, "chat.send example", chromedp.Text(browsertest.CSS(`article[data-message="chatSend"] pre.example`)))
		msgSchema := browsertest.Value(t, b, "chat.message schema", chromedp.TextContent(browsertest.CSS(`article[data-message="chatMessage"] .schema`)))
		security := browsertest.Value(t, b, "security schemes", chromedp.TextContent(browsertest.CSS(`#security`)))
		if !strings.Contains(security, "userQuery") || !strings.Contains(security, "user in query") {
			t.Errorf("security schemes %q", security)
		}

		if address != "/ws/chat/{room}" {
			t.Errorf("channel address %q", address)
		}
		if want := []string{"chatSend", "chatMessage", "chatError"}; !slices.Equal(messages, want) {
			t.Errorf("messages %v, want %v", messages, want)
		}
		if want := []string{"receive receiveChatSend", "send sendChatMessage", "send sendChatError"}; !slices.Equal(operations, want) {
			t.Errorf("operations %v, want %v", operations, want)
		}
		for _, want := range []string{"event", "chat.send", "payload", "ChatSendPayload", "text", "max length 2000", "required", "mentions"} {
			if !strings.Contains(sendSchema, want) {
				t.Errorf("chat.send schema lacks %q:\n%s", want, sendSchema)
			}
		}
		if !strings.Contains(msgSchema, "recursive") || !strings.Contains(msgSchema, "date-time") {
			t.Errorf("chat.message schema does not mark the recursive replyTo or the date-time format:\n%s", msgSchema)
		}
		var ex struct {
			Event   string `json:"event"`
			Payload struct {
				Text string `json:"text"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(sendExample), &ex); err != nil || ex.Event != "chat.send" || ex.Payload.Text != "Hello, room!" {
			t.Errorf("chat.send example %s (%v): want the envelope's const event and the text's example", sendExample, err)
		}
	})

	t.Run("console", func(t *testing.T) {
		b.Do(t, "connect without parameters",
			chromedp.Click(browsertest.CSS(`#console-connect`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-log li.entry.error`)))
		missing := browsertest.Value(t, b, "read the error", chromedp.Text(browsertest.CSS(`#console-log li.entry.error`)))
		if !strings.Contains(missing, "{room}") || !strings.Contains(missing, "?user") {
			t.Errorf("connecting without parameters logged %q, want it to name {room} and ?user", missing)
		}

		b.Do(t, "fill the parameters",
			chromedp.SendKeys(browsertest.CSS(`#console-param-room`), "lobby"),
			chromedp.SendKeys(browsertest.CSS(`#console-query-user`), "ann"))
		wsURL := browsertest.Value(t, b, "read the URL", chromedp.Value(browsertest.CSS(`#console-url`)))
		if want := "ws://" + host + "/ws/chat/lobby?user=ann"; wsURL != want {
			t.Errorf("console URL %q, want %q", wsURL, want)
		}
		b.Do(t, "connect",
			chromedp.Click(browsertest.CSS(`#console-connect`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-state[data-state="connected"]`)))

		editor := browsertest.Value(t, b, "read the editor", chromedp.Value(browsertest.CSS(`#console-editor`)))
		if !strings.Contains(editor, `"chat.send"`) {
			t.Errorf("the editor's example is %q, want the chat.send envelope", editor)
		}
		b.Do(t, "send the example",
			chromedp.Click(browsertest.CSS(`#console-send`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-log li.entry.in`)))
		received := browsertest.Value(t, b, "read the answer", chromedp.Text(browsertest.CSS(`#console-log li.entry.in`)))
		for _, want := range []string{"received", "chat.message", `"room": "lobby"`, `"user": "ann"`, `"text": "Hello, room!"`} {
			if !strings.Contains(received, want) {
				t.Errorf("received entry lacks %q:\n%s", want, received)
			}
		}

		b.Do(t, "refuse bad JSON",
			chromedp.SetValue(browsertest.CSS(`#console-editor`), `{"event": "chat.send",`),
			chromedp.Click(browsertest.CSS(`#console-send`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-editor-error`)))
		editorErr := browsertest.Value(t, b, "read the editor error", chromedp.Text(browsertest.CSS(`#console-editor-error`)))
		if !strings.Contains(editorErr, "Not valid JSON") {
			t.Errorf("editor error %q", editorErr)
		}
		if sent := browsertest.Value(t, b, "count sent", chromedp.Evaluate[int](`document.querySelectorAll('#console-log li.entry.out').length`)); sent != 1 {
			t.Errorf("%d messages sent, want only the example (bad JSON must not be sent)", sent)
		}

		b.Do(t, "send raw text the server cannot decode",
			chromedp.Click(browsertest.CSS(`#console-raw`)),
			chromedp.Click(browsertest.CSS(`#console-send`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-log li.entry[data-code]`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-state[data-state="disconnected"]`)))
		closed := browsertest.Value(t, b, "read the close", chromedp.Text(browsertest.CSS(`#console-log li.entry[data-code]`)))
		if !strings.Contains(closed, "code 1007") || !strings.Contains(closed, "invalid payload") {
			t.Errorf("close entry %q, want code 1007 explained", closed)
		}

		shot := browsertest.Value(t, b, "screenshot", chromedp.CaptureScreenshot())
		dir := os.Getenv("FORGE_DOCS_SCREENSHOTS")
		if dir == "" {
			dir = t.TempDir()
		}
		if err := os.WriteFile(filepath.Join(dir, "websocket-page.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("swagger ui", func(t *testing.T) {
		b.Do(t, "open Swagger UI",
			chromedp.Navigate(srv.URL+"/docs/rest/"),
			chromedp.WaitVisible(browsertest.CSS(`#operations-rooms-getRoom`)))
		ops := browsertest.Value(t, b, "list operations", chromedp.Evaluate[[]string](`[...document.querySelectorAll('.opblock')].map(e => e.id)`))
		slices.Sort(ops)
		if want := []string{"operations-rooms-getRoom", "operations-rooms-listRooms"}; !slices.Equal(ops, want) {
			t.Errorf("Swagger UI operations %v, want %v", ops, want)
		}
	})

	t.Run("example generator", func(t *testing.T) {
		// The page's own module, run on schemas the fixture does not cover.
		b.Do(t, "open the WebSocket page",
			chromedp.Navigate(srv.URL+"/docs/websocket/"),
			chromedp.WaitVisible(browsertest.CSS(`section[data-channel="chatRoom"]`)))
		got := browsertest.Value(t, b, "run exampleFor", chromedp.Evaluate[string](`(async () => {
			const base = document.querySelector('script[type=module]').src.replace(/websocket\.js$/, '');
			const {exampleFor} = await import(base + 'schema.js');
			const doc = {components: {schemas: {Node: {type: 'object', required: ['name'], properties: {
				name: {type: 'string'}, children: {type: 'array', items: {$ref: '#/components/schemas/Node'}}}}}}};
			return JSON.stringify([
				exampleFor(doc, {$ref: '#/components/schemas/Node'}),
				exampleFor(doc, {type: 'integer', minimum: 3}),
				exampleFor(doc, {type: 'string', enum: ['b', 'c']}),
				exampleFor(doc, {oneOf: [{type: 'null'}, {type: 'boolean'}]}),
				exampleFor(doc, {allOf: [{type: 'object', properties: {a: {const: 1}}}, {properties: {b: {type: 'string', format: 'date'}}}]}),
				exampleFor(doc, {type: 'array', minItems: 2, items: {type: 'number', exclusiveMinimum: 1}}),
				exampleFor(doc, {type: 'object', additionalProperties: {type: 'integer'}}),
				exampleFor(doc, {type: ['string', 'null'], format: 'uuid'}),
				exampleFor(doc, {type: 'string', examples: ['first', 'second'], default: 'd'}),
				exampleFor(doc, {type: 'string', pattern: '^[a-z]{3}-[0-9]{2,4}$'}),
				exampleFor(doc, {type: 'string', pattern: '^[A-Za-z0-9_-]+$', minLength: 1, maxLength: 64}),
				exampleFor(doc, {type: 'string', minLength: 10}),
				exampleFor(doc, {type: 'string', maxLength: 3}),
				exampleFor(doc, {type: 'string', pattern: '^(?:\\+|00)[1-9][0-9]{7,14}$'}),
				exampleFor(doc, {type: 'string', pattern: '^[^a-z]+$', minLength: 4}),
				exampleFor(doc, {type: 'object', required: ['a'], properties: {
					a: {type: 'string'}, b: {type: 'string'}, c: {type: 'integer', default: 2}}}, {minimal: true}),
			]);
		})()`, chromedp.EvalAwaitPromise))
		want := `[{"name":"example","children":[]},3,"b",true,{"a":1,"b":"2024-01-02"},[1.5,1.5],{"key":0},` +
			`"3fa85f64-5717-4562-b3fc-2c963f66afa6","first","aaa-00","example","examplexxx","exa","+10000000","AAAA",{"a":"example","c":2}]`
		if got != want {
			t.Errorf("examples\n got %s\nwant %s", got, want)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		b.Expect("/ws/nowhere/") // chromium logs the failed handshake
		b.Do(t, "connect to an address no route serves",
			chromedp.Navigate(srv.URL+"/docs-noroute/websocket/"),
			chromedp.WaitVisible(browsertest.CSS(`#console-param-room`)),
			chromedp.SendKeys(browsertest.CSS(`#console-param-room`), "lobby"),
			chromedp.SendKeys(browsertest.CSS(`#console-query-user`), "ann"),
			chromedp.Click(browsertest.CSS(`details.advanced summary`)),
			chromedp.SendKeys(browsertest.CSS(`#console-extra-query`), "trace=1"))
		wsURL := browsertest.Value(t, b, "read the URL", chromedp.Value(browsertest.CSS(`#console-url`)))
		if want := "ws://" + host + "/ws/nowhere/lobby?user=ann&trace=1"; wsURL != want {
			t.Errorf("console URL %q, want %q", wsURL, want)
		}
		b.Do(t, "connect",
			chromedp.Click(browsertest.CSS(`#console-connect`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-log li.entry[data-code]`)),
			chromedp.WaitVisible(browsertest.CSS(`#console-state[data-state="disconnected"]`)))
		log := browsertest.Value(t, b, "read the log", chromedp.TextContent(browsertest.CSS(`#console-log`)))
		for _, want := range []string{"The connection failed", "code 1006", "refused"} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
	})

	t.Run("missing document", func(t *testing.T) {
		b.Expect("/missing.json") // chromium logs the 404
		b.Do(t, "open a page whose document is missing",
			chromedp.Navigate(srv.URL+"/docs-missing/websocket/"),
			chromedp.WaitVisible(browsertest.CSS(`#load-error`)))
		msg := browsertest.Value(t, b, "read the error", chromedp.TextContent(browsertest.CSS(`#load-error`)))
		if !strings.Contains(msg, "Could not load the AsyncAPI document") || !strings.Contains(msg, "HTTP 404") {
			t.Errorf("load error %q", msg)
		}
	})

	b.CheckHosts(t, host)
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("the pages reported problems:\n%s", strings.Join(p, "\n"))
	}
}
