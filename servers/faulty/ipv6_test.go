package faulty

import (
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/target"
)

// proxiedV6 is proxied in front of server listening on ::1.
func proxiedV6(t *testing.T, server string, opts ...Option) (*Proxy, target.Config) {
	t.Helper()
	return proxiedSpec(t, server, servers.Spec{ListenAddress: "::1"}, opts...)
}

// In front of a server on ::1 the proxy listens on [::1] and relays EPSV
// data connections over IPv6; PASV's refusal (ftpserverlib v0.32.3 cannot
// listen for PASV over IPv6) stays a refusal.
func TestTransparentIPv6(t *testing.T) {
	p, tg := proxiedV6(t, "ftpserverlib")
	if host, _, _ := net.SplitHostPort(p.Addr()); host != "::1" {
		t.Fatalf("proxy in front of an IPv6 server listens on %s, want [::1]", p.Addr())
	}
	c := login(t, tg)
	for _, n := range []int{0, 4242, 1 << 20} {
		roundTrip(t, p, c, true, payload(n))
	}
	r, err := c.Cmd(tctx(t), "PASV")
	if err != nil || (r.Class() != 4 && r.Class() != 5) {
		t.Errorf("PASV over IPv6 through the clean proxy: %q %v, want the server's refusal", r.Raw, err)
	}
}

// ListenOn puts the proxy on the named address whatever the upstream.
func TestListenOn(t *testing.T) {
	p, tg := proxied(t, "ftpserverlib", ListenOn("::1"))
	if host, _, _ := net.SplitHostPort(p.Addr()); host != "::1" {
		t.Fatalf("ListenOn(::1): proxy listens on %s", p.Addr())
	}
	c := login(t, tg)
	roundTrip(t, p, c, true, payload(4242))
}

var v6PASV = regexp.MustCompile(`^227 Entering passive mode \(::1,(\d+),(\d+)\)\.`)

// pasv-v6-malformed-227: over IPv6, PASV gets pyftpdlib's 227 with the
// IPv6 address, which ftp.ParsePASV rejects, and its port works; over
// IPv4 the fault does nothing.
func TestPasvV6Malformed227(t *testing.T) {
	_, tg := proxiedV6(t, "ftpserverlib", WithFaults(MustLookup("pasv-v6-malformed-227")))
	c := login(t, tg)
	r, err := c.Cmd(tctx(t), "PASV")
	if err != nil {
		t.Fatal(err)
	}
	m := v6PASV.FindStringSubmatch(string(r.Raw))
	if m == nil {
		t.Fatalf("PASV over IPv6: %q, want 227 Entering passive mode (::1,p1,p2).", r.Raw)
	}
	if ep, err := ftp.ParsePASV(r.Text()); err == nil {
		t.Errorf("ftp.ParsePASV accepted %q as %v", r.Raw, ep)
	}
	p1, _ := strconv.Atoi(m[1])
	p2, _ := strconv.Atoi(m[2])
	dc, err := ftp.DialTCP(tctx(t), net.JoinHostPort("::1", strconv.Itoa(p1*256+p2)), nil)
	if err != nil {
		t.Fatalf("the advertised port does not accept: %v", err)
	}
	res := c.Transfer(tctx(t), dc, "LIST", nil, io.Discard)
	if !res.OK() {
		t.Errorf("LIST at the advertised port: %s", res)
	}

	_, tg4 := withFault(t, "pasv-v6-malformed-227")
	c4 := login(t, tg4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ep, r, err := c4.Passive(ctx, false); err != nil || ep.Port == 0 {
		t.Errorf("PASV over IPv4 with the fault: %q %v, want an ordinary 227", r.Raw, err)
	}
}
