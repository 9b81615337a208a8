package hub_test

import (
	"testing"
	"time"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/brokertest"
	"github.com/forgekit/forge/hub/historytest"
)

func TestMemoryBrokerConformance(t *testing.T) {
	bus := hub.NewMemoryBroker(hub.MemoryPresenceTTL(500 * time.Millisecond))
	defer bus.Close()
	brokertest.Run(t, func(*testing.T) hub.Broker { return bus.Connect() })
}

func TestMemoryHistoryConformance(t *testing.T) {
	store := hub.NewMemoryHistory()
	historytest.Run(t, func(*testing.T) hub.HistoryStore { return store })
}

func TestMemoryBrokerHistoryConformance(t *testing.T) {
	bus := hub.NewMemoryBroker()
	defer bus.Close()
	historytest.Run(t, func(*testing.T) hub.HistoryStore { return bus.Connect() })
}

func TestRecoveryOneNode(t *testing.T) {
	historytest.RunRecovery(t, nil)
}

func TestRecoveryMemoryBroker(t *testing.T) {
	bus := hub.NewMemoryBroker()
	defer bus.Close()
	historytest.RunRecovery(t, func(*testing.T) hub.Broker { return bus.Connect() })
}
