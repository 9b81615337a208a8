package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgekit/forge/hub"
)

// hubCollector reads the hubs' Status at each scrape: a hub counts for
// itself, and nothing is added to its paths.
type hubCollector struct {
	mu   sync.Mutex // guards list
	list []*hub.Hub

	published, delivered, dropped, brokerErrors, brokerDropped, conns, rooms *prometheus.Desc
}

func (hc *hubCollector) init() {
	node := []string{"node"}
	hc.published = prometheus.NewDesc("forge_hub_published_total", "Messages handed to a hub's Broadcast, BroadcastAll and Send.", node, nil)
	hc.delivered = prometheus.NewDesc("forge_hub_delivered_total", "Messages a hub queued for a member.", node, nil)
	hc.dropped = prometheus.NewDesc("forge_hub_dropped_total", "Messages a member's connection refused (full queue or closing).", node, nil)
	hc.brokerErrors = prometheus.NewDesc("forge_hub_broker_errors_total", "Broker calls that failed (publish included) and broker messages that could not be read.", node, nil)
	hc.brokerDropped = prometheus.NewDesc("forge_hub_broker_dropped_total", "Messages for other nodes lost because the broker did not take them.", node, nil)
	hc.conns = prometheus.NewDesc("forge_hub_connections", "Connections registered with a hub.", node, nil)
	hc.rooms = prometheus.NewDesc("forge_hub_rooms", "Rooms with members on this node.", node, nil)
}

func (hc *hubCollector) add(h *hub.Hub) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	hc.list = append(hc.list, h)
}

// Describe implements prometheus.Collector.
func (hc *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{hc.published, hc.delivered, hc.dropped, hc.brokerErrors, hc.brokerDropped, hc.conns, hc.rooms} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (hc *hubCollector) Collect(ch chan<- prometheus.Metric) {
	hc.mu.Lock()
	list := append([]*hub.Hub(nil), hc.list...)
	hc.mu.Unlock()
	for _, h := range list {
		st := h.Status()
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), st.Node)
		}
		counter(hc.published, st.Published)
		counter(hc.delivered, st.Delivered)
		counter(hc.dropped, st.Dropped)
		counter(hc.brokerErrors, st.BrokerErrors)
		counter(hc.brokerDropped, st.BrokerDropped)
		ch <- prometheus.MustNewConstMetric(hc.conns, prometheus.GaugeValue, float64(st.Connections), st.Node)
		ch <- prometheus.MustNewConstMetric(hc.rooms, prometheus.GaugeValue, float64(st.Rooms), st.Node)
	}
}
