package faulty

import (
	"errors"
	"time"
)

// pasv-port-cooldown emulates a server whose passive ports stay unusable
// while the data connections made on them sit in TIME_WAIT: its listening
// socket cannot be bound again (no SO_REUSEADDR) until the kernel lets the
// old connection go, about a minute on Linux. TIME_WAIT stays with the side
// that closed first: the server's after a download or listing, the
// client's after an upload or a connection the client hung up. A range of N
// ports then runs dry after N quick downloads; such a server was seen answering PASV with
// "500 ... bind: Address already in use" until its ports recovered.

func init() {
	register(Fault{Name: "pasv-port-cooldown",
		Doc: "each passive port stays unusable for 60s after the server's side closed a data connection on it first (TIME_WAIT, no SO_REUSEADDR): other ports are handed out, and with every port cooling PASV/EPSV get '500 ... bind: Address already in use'",
		b:   behaviour{cooldown: true}})
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
	since, ok := p.cooling[port]
	if !ok {
		return false
	}
	if time.Since(since) < p.cfg.cooldown {
		return true
	}
	delete(p.cooling, port)
	return false
}

// timeWait records that the proxy closed a data connection on port first:
// its side sits in TIME_WAIT, and the port cools down from now. A
// connection the client closed first (an upload, a probe that connects and
// hangs up) or that was reset leaves no TIME_WAIT on the server's side.
func (p *Proxy) timeWait(port int) {
	if !p.b.cooldown {
		return
	}
	p.mu.Lock()
	p.cooling[port] = time.Now()
	p.mu.Unlock()
}
