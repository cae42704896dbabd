package snoti

import "sync/atomic"

// Stats are a client's counters since New, for logs and tests.
type Stats struct {
	Pushes        uint64 // pushes delivered to the handler
	Invalid       uint64 // lines delivered to HandleInvalid
	AcksSent      uint64 // ACKs written to a socket
	AcksDropped   uint64 // ACKs dropped with their lost connection
	Logins        uint64 // successful logins
	Reconnects    uint64 // attempts after a failure or a lost connection
	LoginFailures uint64 // logins refused by the server
	Relogins      uint64 // logins again on a live connection after invalid_msg 4001/4003
	Disconnects   uint64 // logged-in connections lost (snoti_disconnects_total has the reasons)
	NoHeartbeats  uint64 // of those, ended by the server's "No Heartbeat!"
}

// counters is the atomic form of Stats, mirrored into Metrics.
type counters struct {
	pushes, invalid, acksSent, acksDropped, logins, reconnects, loginFailures atomic.Uint64
	relogins, disconnects, noHeartbeats                                       atomic.Uint64
	m                                                                         *Metrics
}

func (c *counters) snapshot() Stats {
	return Stats{
		Pushes: c.pushes.Load(), Invalid: c.invalid.Load(), AcksSent: c.acksSent.Load(),
		AcksDropped: c.acksDropped.Load(), Logins: c.logins.Load(), Reconnects: c.reconnects.Load(),
		LoginFailures: c.loginFailures.Load(), Relogins: c.relogins.Load(),
		Disconnects: c.disconnects.Load(), NoHeartbeats: c.noHeartbeats.Load(),
	}
}

// push counts a push under its event type's label (eventTypeLabel: a
// known type, or "other").
func (c *counters) push(label string) {
	c.pushes.Add(1)
	c.m.pushes.WithLabelValues(label).Inc()
}

func (c *counters) invalidLine(kind string) {
	c.invalid.Add(1)
	c.m.invalid.WithLabelValues(kind).Inc()
}

func (c *counters) acked(n int) {
	c.acksSent.Add(uint64(n))
	c.m.acksSent.Add(float64(n))
}

func (c *counters) dropped(n int) {
	if n == 0 {
		return
	}
	c.acksDropped.Add(uint64(n))
	c.m.acksDropped.Add(float64(n))
}

func (c *counters) login() {
	c.logins.Add(1)
	c.m.logins.Inc()
}

func (c *counters) reconnect() {
	c.reconnects.Add(1)
	c.m.reconnects.Inc()
}

func (c *counters) loginFailure() {
	c.loginFailures.Add(1)
	c.m.loginFailures.Inc()
}

func (c *counters) relogin() {
	c.relogins.Add(1)
	c.m.relogins.Inc()
}

func (c *counters) disconnect(reason string) {
	c.disconnects.Add(1)
	if reason == DisconnectNoHeartbeat {
		c.noHeartbeats.Add(1)
	}
	c.m.disconnects.WithLabelValues(reason).Inc()
}
