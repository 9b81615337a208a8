package apidoc_test

import (
	"reflect"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/apidoc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type byValue struct{ N int }

func (byValue) Examples() []any { return []any{byValue{N: 1}} }

type byPointer struct{ N int }

func (*byPointer) Examples() []any { return []any{byPointer{N: 2}} }

func TestExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want []any
	}{
		{"value method, value", byValue{}, []any{byValue{N: 1}}},
		{"value method, pointer", &byValue{}, []any{byValue{N: 1}}},
		{"pointer method, value", byPointer{}, []any{byPointer{N: 2}}},
		{"pointer method, pointer", &byPointer{}, []any{byPointer{N: 2}}},
		{"no method", struct{}{}, nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := apidoc.Examples(tt.v); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Examples(%T) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
	// The caller may change what it gets, even when the type hands out
	// one slice.
	got := apidoc.Examples(shared{})
	got[0] = "changed"
	if sharedExamples[0] != "kept" {
		t.Fatalf("Examples hands out the type's own slice: %v", sharedExamples)
	}
}

var sharedExamples = []any{"kept"}

type shared struct{}

func (shared) Examples() []any { return sharedExamples }
