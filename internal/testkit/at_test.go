package testkit

import (
	"encoding/json"
	"testing"
)

func TestAt(t *testing.T) {
	t.Parallel()
	var doc any
	if err := json.Unmarshal([]byte(`{"paths":{"/users/{id}":{"get":{"tags":["users","admin"]}}},"n":1}`), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"", `{"n":1,"paths":{"/users/{id}":{"get":{"tags":["users","admin"]}}}}`},
		{"n", `1`},
		{"paths/~1users~1{id}/get/tags/1", `"admin"`},
		{"paths/~1users~1{id}/get/tags/2", `null`},
		{"paths/missing/get", `null`},
		{"n/deeper", `null`},
	}
	for _, tt := range tests {
		if got := At(doc, tt.path); got != tt.want {
			t.Errorf("At(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
}
