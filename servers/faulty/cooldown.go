package faulty

import (
	"errors"
	"time"
)

// pasv-port-cooldown emulates a server whose passive ports stay unusable
// while the data connections made on them sit in TIME_WAIT: its listening
// socket cannot be bound again (no SO_REUSEADDR) until the kernel lets the
// old connection go, about a minute on Linux. A range of N ports then runs
// dry after N quick transfers; such a server was seen answering PASV with
// "500 ... bind: Address already in use" until its ports recovered.

func init() {
	// One defect, one failure: RANGE-007 judges a range that runs dry under
	// rapid transfers; every other check that meets the 500 is blocked by it
	// (matrix: a change to "blocked by RANGE-007" is not a kill).
	register(Fault{Name: "pasv-port-cooldown",
		Doc:   "each passive port stays unusable for 60s after its data connection closed (TIME_WAIT without SO_REUSEADDR): other ports are handed out, and with every port cooling PASV/EPSV get '500 ... bind: Address already in use'",
		Kills: []string{"RANGE-007"},
		b:     behaviour{cooldown: true}})
}

// coolPort is a passive port's data connections: how many are open, and
// when the last one closed.
type coolPort struct {
	open   int
	closed time.Time
}

// errCooling is what binding a cooling port gives.
var errCooling = errors.New("faulty: bind: address already in use (pasv-port-cooldown)")

// replyAddrInUse is the proxy's answer to PASV/EPSV when every port of the
// range is cooling down or taken (the words of the server this fault
// emulates).
const replyAddrInUse = "500 Can't open passive connection: bind: Address already in use.\r\n"

// coolingLocked reports whether port is still cooling down. Called with
// p.mu held.
func (p *Proxy) coolingLocked(port int) bool {
	if !p.b.cooldown {
		return false
	}
	c, ok := p.cooling[port]
	if !ok {
		return false
	}
	if c.open > 0 || time.Since(c.closed) < p.cfg.cooldown {
		return true
	}
	delete(p.cooling, port)
	return false
}

// dataOpened records a data connection accepted on port; the returned
// function records its close (the cooldown starts then).
func (p *Proxy) dataOpened(port int) func() {
	if !p.b.cooldown {
		return func() {}
	}
	p.mu.Lock()
	c := p.cooling[port]
	if c == nil {
		c = &coolPort{}
		p.cooling[port] = c
	}
	c.open++
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		c.open--
		c.closed = time.Now()
		p.cooling[port] = c
		p.mu.Unlock()
	}
}
