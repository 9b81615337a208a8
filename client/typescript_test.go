package client

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgekit/forge/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/api.d.ts")

// TestWriteTypeScriptGolden generates the declarations of
// testdata/api.json, a document with every shape the generator knows
// (both envelopes, replies, server requests, a channel of neither
// envelope, references, enums, unions, intersections, nullable types,
// maps, titled inline schemas, a name that would shadow a global), and
// compares them with testdata/api.d.ts (-update rewrites it).
func TestWriteTypeScriptGolden(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("testdata/api.json")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteTypeScript(&got, doc); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, filepath.Join("testdata", "api.d.ts"), got.Bytes(), *update)
	for _, want := range []string{
		"export type ErrorPayload = {",                           // not Error, which would shadow the global
		`piece: "king" | "queen" | "pawn";`,                      // enum
		`"promote-to"?: string | null;`,                          // quoted name, type list
		"tags?: (string | number)[];",                            // oneOf items
		"export type State = Square & {",                         // allOf
		"export type Scores = { [key: string]: number } | null;", // map, nullable
		"level?: Level;",                                         // titled inline schema
		"export type Level = \"low\" | \"high\";",
		"*\\/ early", // a description cannot end the comment
	} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("no %q in:\n%s", want, got.String())
		}
	}
	if strings.Contains(got.String(), "PlainAPI") {
		t.Error("the channel of neither envelope got an API type")
	}
}

func TestWriteTypeScriptYAML(t *testing.T) {
	t.Parallel()
	doc := "asyncapi: 3.0.0\ninfo: {title: y, version: '1'}\ncomponents:\n  schemas:\n    Note:\n      type: object\n      required: [text]\n      properties:\n        text: {type: string}\n"
	var out bytes.Buffer
	if err := WriteTypeScript(&out, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "export type Note = {\n  text: string;\n};") {
		t.Errorf("got:\n%s", out.String())
	}
}

func TestWriteTypeScriptRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc, want string }{
		{"not a document", `[1]`, "not an object"},
		{"not YAML or JSON", "{", "read the document"},
		{"AsyncAPI 2", `{"asyncapi": "2.6.0"}`, "not AsyncAPI 3"},
		{"no version", `{"info": {}}`, "not AsyncAPI 3"},
		{"dangling reference", `{"asyncapi": "3.0.0", "components": {"schemas": {"A": {"$ref": "#/components/schemas/B/x"}}}}`, `"#/components/schemas/B/x" does not resolve`},
		{"external reference", `{"asyncapi": "3.0.0", "components": {"schemas": {"A": {"$ref": "other.json#/A"}}}}`, "not within the document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := WriteTypeScript(&bytes.Buffer{}, []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestGeneratedTypesCheckCalls compiles, with tsc --noEmit, code that uses
// the client with the generated API types: the right calls compile, and
// each wrong one, marked @ts-expect-error, must be an error (tsc fails
// on an expected error that does not happen).
func TestGeneratedTypesCheckCalls(t *testing.T) {
	nodeModules(t)
	dir := t.TempDir()
	doc, err := os.ReadFile("testdata/api.json")
	if err != nil {
		t.Fatal(err)
	}
	var api bytes.Buffer
	if err := WriteTypeScript(&api, doc); err != nil {
		t.Fatal(err)
	}
	forge, err := os.ReadFile("dist/forge.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	usage := `import { connect } from "./forge.js";
import type { WsGameAPI, SocketAPI, Scores, State, Answer } from "./api.js";

const game = connect<WsGameAPI>({ url: "ws://localhost/ws/game/1" });
game.emit("move", { piece: "king", to: { file: "e", rank: 2 } });
const scores: Promise<Scores> = game.request("move", { piece: "pawn", to: { file: "a", rank: 3 }, "promote-to": null });
game.on("state", (s: State) => s.check === true);
game.on("error", (e) => e.code.toUpperCase());
game.handle("confirm", (c): Answer => ({ yes: c.level === "high" }));
game.handle("confirm", async () => ({ yes: false }));
void scores;

// @ts-expect-error: an event the client does not send
game.emit("teleport", {});
// @ts-expect-error: a value outside the enum
game.emit("move", { piece: "bishop", to: { file: "e", rank: 2 } });
// @ts-expect-error: a required field is missing
game.emit("move", { piece: "king" });
// @ts-expect-error: rank is a number
game.emit("move", { piece: "king", to: { file: "e", rank: "2" } });
// @ts-expect-error: an event the server does not send
game.on("teleport", () => {});
// @ts-expect-error: the reply must be an Answer
game.handle("confirm", () => ({ yes: "maybe" }));
// @ts-expect-error: state is not a server request
game.handle("state", () => ({}));

const socket = connect<SocketAPI>({ url: "/socket", envelope: "command", channel: "lobby" });
socket.emit("chat", { text: "hi" }, { channel: "garden" });
socket.on("pong", (p) => p.timestamp);
// @ts-expect-error: text is required
socket.emit("chat", {});

// Without an API type, anything goes.
const any = connect({ url: "/x" });
any.emit("whatever", 1);
any.on("else", (p) => p.anything);
`
	files := map[string][]byte{"api.d.ts": api.Bytes(), "forge.d.ts": forge, "usage.ts": []byte(usage)}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := tsc(t, "--noEmit", "--strict", "--target", "es2022", "--module", "es2022", "--moduleResolution", "bundler",
		"--lib", "es2022,dom", filepath.Join(dir, "usage.ts"))
	if err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}
}
