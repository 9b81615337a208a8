package main

import (
	"strings"
	"testing"

	"github.com/forgekit/forge/forgetest"
)

func TestInfo(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ws := srv.Dial(t, "/ws/info", nil, "info.v1")
	var info map[string]string
	ws.ReadJSON(&info)
	if !strings.HasPrefix(info["connectionId"], "ws_") {
		t.Errorf("connectionId %q", info["connectionId"])
	}
	if info["remoteAddr"] != ws.LocalAddr().String() {
		t.Errorf("remoteAddr %q, want the client's %q", info["remoteAddr"], ws.LocalAddr())
	}
	if info["localAddr"] != ws.RemoteAddr().String() {
		t.Errorf("localAddr %q, want the server's %q", info["localAddr"], ws.RemoteAddr())
	}
	if info["subprotocol"] != "info.v1" {
		t.Errorf("subprotocol %q", info["subprotocol"])
	}
	ws.ExpectClose(1000)
}
