package connection

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(idleChildEnv) != "" {
		os.Exit(runIdleChild())
	}
	goleak.VerifyTestMain(m)
}
