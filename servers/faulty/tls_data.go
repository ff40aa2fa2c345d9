package faulty

import (
	"crypto/tls"
	"io"
	"net"
	"time"
)

// startRelay registers r with its session (the dial that made it is over)
// and, under PROT P, runs the TLS handshakes first: a relay waiting for a
// client that never starts TLS (a catcher that only counts arrivals) is
// not one whose data the session's replies wait for (waitData). It reports
// whether r is to run (registered).
func (s *session) startRelay(r *relay) bool {
	if s.p.tls == nil || !s.dataProtected() {
		s.addRelay(r)
		s.relaysDialing.Add(-1)
		return true
	}
	s.relaysDialing.Add(-1)
	if !s.protectData(r) {
		return false
	}
	s.addRelay(r)
	return true
}

// protectData makes r's legs TLS when the session's data connections are
// protected (PROT P): the client's first (the proxy is its TLS server and
// lets it resume its control session), then the server's (the proxy
// resumes its own control session with the server when the client resumed
// its own, and offers a fresh session when the client did). It reports whether
// the relay is to run; when not, both connections are dealt with.
func (s *session) protectData(r *relay) bool {
	if s.p.tls == nil || !s.dataProtected() {
		return true
	}
	b := s.p.b
	if !b.tlsDataClear {
		cl, err := s.handshakeClient(r.dc)
		if err != nil {
			s.logf("data: %v", err)
			r.kill()
			return false
		}
		if b.tlsFreshHang && !cl.ConnectionState().DidResume {
			s.holdFresh(r)
			return false
		}
		r.dcs = cl
	} else {
		s.logf("tls-data-cleartext: the client's data leg stays cleartext")
	}
	// mirror the client's choice: a fresh client session gets a fresh one
	// at the server (which may refuse it, as it would the client's)
	up, err := s.handshakeUp(r.uc, r.dcs == r.dc || resumed(r.dcs))
	if err != nil {
		s.logf("data: %v", err)
		r.kill()
		return false
	}
	r.ucs = up
	s.logf("data TLS: client leg resumed %v, server leg resumed %v", resumed(r.dcs), up.ConnectionState().DidResume)
	return true
}

// freshHold bounds how long tls-data-fresh-hang keeps a refused data
// connection open.
const freshHold = time.Minute

// holdFresh (tls-data-fresh-hang) keeps the client's data connection open
// with nothing on it until the client gives up, and makes the transfer's
// reply disappear: a silent refusal of a session that is not resumed.
func (s *session) holdFresh(r *relay) {
	s.logf("tls-data-fresh-hang: the client's data TLS session is not resumed: holding it, no reply")
	s.mu.Lock()
	s.dropXfer = true
	s.mu.Unlock()
	r.dc.SetReadDeadline(time.Now().Add(freshHold))
	stop := make(chan struct{})
	go func() {
		select {
		case <-s.done:
			r.dc.Close()
		case <-stop:
		}
	}()
	io.Copy(io.Discard, r.dc)
	close(stop)
	r.dc.Close()
	r.uc.Close()
}

// resumed reports whether c is a TLS connection that resumed a session.
func resumed(c net.Conn) bool {
	tc, ok := c.(*tls.Conn)
	return ok && tc.ConnectionState().DidResume
}
