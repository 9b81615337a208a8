package hub_test

import (
	"testing"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/brokertest"
)

func TestMemoryBrokerConformance(t *testing.T) {
	bus := hub.NewMemoryBroker()
	defer bus.Close()
	brokertest.Run(t, func(*testing.T) hub.Broker { return bus.Connect() })
}
