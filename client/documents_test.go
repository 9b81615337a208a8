package client_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/client"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/hub"
)

// TestTypesOfForgeDocuments generates types from the AsyncAPI document of
// a forge app with every kind of WebSocket route (the events envelope with
// a hub, presence, history and a server request; the command envelope with
// an OnAny handler; a route of plain messages) and compiles code that
// uses them with tsc: what the document declares type-checks, what it does
// not is an error.
func TestTypesOfForgeDocuments(t *testing.T) {
	client.NodeModules(t)
	type Line struct {
		Text string `json:"text" required:"true" minLength:"1"`
		Mood string `json:"mood,omitempty" enum:"happy,sad"`
	}
	type Vote struct {
		Yes bool `json:"yes" required:"true"`
	}
	type Note struct {
		Text string `json:"text"`
	}
	app := forge.New(forge.WithAppName("every route"), forge.WithVersion("0.1.0"))
	r := app.Router()

	h, err := hub.New(hub.WithPresence("presence"), hub.WithHistory("*", 10, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	d := events.New(events.WithHub(h))
	events.Emits[Line](d, "line")
	events.Requests[Line, Vote](d, "poll")
	events.OnRequest(d, "say", func(*events.Context, Line) (Vote, error) { return Vote{}, nil })
	events.On(d, "shrug", func(*events.Context, struct{}) error { return nil })
	events.Route(r, "/ws/talk/:room", d)

	cd := events.New(events.WithCommandEnvelope())
	events.Emits[Line](cd, "pong")
	events.OnAny(cd, func(*events.Context, string, []byte) error { return nil })
	events.Route(r, "/socket", cd)

	r.WebSocket("/ws/plain", func(forge.Context, forge.Connection) error { return nil },
		forge.WithWebSocketMessages(&Note{}, &Note{}))

	dir := t.TempDir()
	if err := app.WriteDocuments(dir); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "asyncapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var api bytes.Buffer
	if err := client.WriteTypeScript(&api, doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(api.String(), "\n") {
		if n, ok := strings.CutPrefix(l, "export type "); ok && strings.Contains(n, "API = {") {
			names = append(names, strings.Fields(n)[0])
		}
	}
	if !strings.Contains(api.String(), "    [event: string]: {\n      payload: unknown;") {
		t.Errorf("the OnAny route's commands have no index signature:\n%s", api.String())
	}
	if strings.Join(names, " ") != "SocketAPI WsTalkRoomAPI" {
		t.Errorf("API types %v, want SocketAPI and WsTalkRoomAPI (the plain route has no envelope)", names)
	}

	usage := `import { connect } from "./forge.js";
import type { WsTalkRoomAPI, SocketAPI } from "./api.js";

const talk = connect<WsTalkRoomAPI>({ url: "/ws/talk/lobby" });
talk.request("say", { text: "hi", mood: "happy" }).then((v) => v.yes);
talk.request("shrug", {});
talk.on("line", (l) => l.text.length);
talk.on("presence", (p) => p.action === "join");
talk.on("recovery", (r) => r.recovered && r.position.offset);
talk.on("error", (e) => e.code);
talk.handle("poll", (l) => ({ yes: l.text !== "" }));
talk.request("position", { room: "lobby" }).then((p) => p.position.epoch);
talk.subscribe(["line"]);
// @ts-expect-error: not a mood
talk.emit("say", { text: "hi", mood: "angry" });
// @ts-expect-error: poll is answered with a Vote
talk.handle("poll", () => ({ no: true }));
// @ts-expect-error: line is the server's
talk.emit("line", { text: "x" });

const socket = connect<SocketAPI>({ url: "/socket", envelope: "command" });
socket.on("pong", (l) => l.text);
socket.emit("join-room", { room: "lobby" }, { channel: "lobby" }); // OnAny takes any command
// @ts-expect-error: a named command keeps its payload type
socket.request("subscribe", { events: 5 });
// @ts-expect-error: the server sends no ping
socket.on("ping", () => {});
`
	if err := os.WriteFile(filepath.Join(dir, "api.d.ts"), api.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usage.ts"), []byte(usage), 0o644); err != nil {
		t.Fatal(err)
	}
	forgeTypes, err := os.ReadFile(filepath.Join("dist", "forge.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "forge.d.ts"), forgeTypes, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", filepath.Join("node_modules", "typescript", "bin", "tsc"), "--noEmit", "--strict",
		"--target", "es2022", "--module", "es2022", "--moduleResolution", "bundler", "--lib", "es2022,dom",
		filepath.Join(dir, "usage.ts")).CombinedOutput()
	if err != nil {
		t.Fatalf("tsc: %v\n%s\n%s", err, out, api.String())
	}
}
