package hub_test

import (
	"testing"
	"time"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/brokertest"
)

func TestMemoryBrokerConformance(t *testing.T) {
	bus := hub.NewMemoryBroker(hub.MemoryPresenceTTL(500 * time.Millisecond))
	defer bus.Close()
	brokertest.Run(t, func(*testing.T) hub.Broker { return bus.Connect() })
}
