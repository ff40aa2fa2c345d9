package faulty

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// Active mode under TLS. In cleartext the proxy leaves PORT and EPRT alone:
// the server connects to the client itself. Under TLS that connection
// would meet the server's certificate and session, not the proxy's, so a
// PORT/EPRT naming the client's own address (and an unprivileged port) is
// pointed at a proxy listener instead; when the server connects there, the
// proxy connects to the client's endpoint and relays, TLS on both legs
// under PROT P (the client is the TLS client, RFC 4217 §7). Any other
// PORT/EPRT (a foreign or privileged endpoint the checks probe, or one
// where nothing listens) reaches the server as sent.

// activeAcceptFor bounds how long a proxy listener for PORT/EPRT waits for
// the server's connection.
const activeAcceptFor = time.Minute

// activeCommand rewrites a PORT/EPRT under TLS to a proxy listener (ok
// false: forward the command as sent).
func (s *session) activeCommand(verb, arg string) ([]byte, bool) {
	if s.p.tls == nil || (verb != "PORT" && verb != "EPRT") {
		return nil, false
	}
	ep, ok := parseActive(verb, arg)
	if !ok || !ep.IP.Equal(s.clientIP) || ep.Port < 1024 {
		return nil, false
	}
	if ls, err := listening(); err == nil && !ls.has(ep.IP, ep.Port) {
		return nil, false // nothing listens there: the server finds it so itself
	}
	local := s.uc.LocalAddr().(*net.TCPAddr).IP
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: local})
	if err != nil {
		s.logf("active: %v", err)
		return nil, false
	}
	port := ln.Addr().(*net.TCPAddr).Port
	d := strings.TrimSpace(arg)[:1] // the client's delimiter, kept
	line := "EPRT " + d + "1" + d + local.String() + d + strconv.Itoa(port) + d + "\r\n"
	if verb == "PORT" {
		a, _ := ftp.FormatPORT(local, port)
		line = "PORT " + a + "\r\n"
	}
	s.logf("active: %s to %s relayed through %s", verb, ep, ln.Addr())
	s.p.wg.Add(1)
	go s.activeRelay(ln, ep)
	return []byte(line), true
}

// parseActive reads a well-formed PORT (exactly six decimal fields 0-255)
// or EPRT (RFC 2428: any delimiter, protocol 1) argument; anything else is
// left for the server to judge.
func parseActive(verb, arg string) (ftp.Endpoint, bool) {
	arg = strings.TrimSpace(arg)
	if verb == "PORT" {
		f := strings.Split(arg, ",")
		if len(f) != 6 {
			return ftp.Endpoint{}, false
		}
		var n [6]int
		for i, x := range f {
			v, err := strconv.Atoi(x)
			if err != nil || !allDigits(x) || v > 255 {
				return ftp.Endpoint{}, false
			}
			n[i] = v
		}
		port := n[4]<<8 | n[5]
		return ftp.Endpoint{IP: net.IPv4(byte(n[0]), byte(n[1]), byte(n[2]), byte(n[3])), Port: port}, port > 0
	}
	if len(arg) < 2 {
		return ftp.Endpoint{}, false
	}
	f := strings.Split(arg, arg[:1])
	if len(f) != 5 || f[0] != "" || f[4] != "" || f[1] != "1" || !allDigits(f[3]) {
		return ftp.Endpoint{}, false
	}
	ip := net.ParseIP(f[2]).To4()
	port, err := strconv.Atoi(f[3])
	return ftp.Endpoint{IP: ip, Port: port}, ip != nil && err == nil && port > 0 && port < 65536
}

// activeRelay accepts the server's data connection on ln (once), connects
// to the client's endpoint and relays.
func (s *session) activeRelay(ln *net.TCPListener, ep ftp.Endpoint) {
	defer s.p.wg.Done()
	defer ln.Close()
	ln.SetDeadline(time.Now().Add(activeAcceptFor))
	accepted := make(chan struct{})
	go func() {
		select {
		case <-s.done:
		case <-s.p.ctx.Done():
		case <-accepted:
		}
		ln.Close()
	}()
	uc, err := ln.AcceptTCP()
	close(accepted)
	if err != nil {
		return
	}
	s.relaysDialing.Add(1)
	ctx, cancel := context.WithTimeout(s.p.ctx, s.p.cfg.dialTO)
	dc, err := ftp.DialTCP(ctx, net.JoinHostPort(ep.IP.String(), strconv.Itoa(ep.Port)), s.localIP)
	cancel()
	if err != nil {
		s.relaysDialing.Add(-1)
		s.logf("active: %s: %v", ep, err)
		reset(uc)
		return
	}
	r := newRelay(s, dc.(*net.TCPConn), uc)
	if s.startRelay(r) {
		r.run()
		s.removeRelay(r)
	}
}
