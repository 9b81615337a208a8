package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/forgekit/forge/admin"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

// TestMetricsAndInspector checks the chat's /metrics and /admin: a
// message said in the lobby is counted under the route's pattern and the
// declared event, and the inspector lists the connection with its room
// and user.
func TestMetricsAndInspector(t *testing.T) {
	srv := forgetest.Start(t, newApp())
	ann := srv.Dial(t, "/ws/chat/lobby?user=ann", nil)
	waitMembers(t, srv, "lobby", 1)
	ann.SendEvent("message", "1", SendMessage{Text: "hello"})
	ann.ExpectEvent("message.ack", "1", nil)

	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(testkit.Get(t, srv.URL+"/metrics")))
	if err != nil {
		t.Fatal(err)
	}
	var said float64
	for _, m := range fams["forge_ws_messages_received_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["route"] == "/ws/chat/{room}" && labels["event"] == "message" {
			said = m.GetCounter().GetValue()
		}
	}
	if said != 1 {
		t.Fatalf("forge_ws_messages_received_total{route=\"/ws/chat/{room}\",event=\"message\"} = %v, want 1", said)
	}

	var conns []admin.Connection
	testkit.GetJSON(t, srv.URL+"/admin/api/connections", &conns)
	if len(conns) != 1 || conns[0].Meta["user"] != "ann" || strings.Join(conns[0].Rooms, ",") != "lobby" || conns[0].MessagesIn != 1 {
		t.Fatalf("inspector lists %+v", conns)
	}
}
