package suites

import (
	"fmt"
	"net"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

// Masquerade (public address) checks: what a client behind or in front of
// NAT is told to connect to.
var _ = Describe("MASQ", Label("masquerade"), func() {

	// ProFTPD masqaddr_pasv, pyftpdlib test_masquerade_address, Apache
	// FtpServer PasvAddressTest: with a public address X configured, every
	// 227 carries X (RFC 1123 §4.1.2.6: h1..h4 is the address the client
	// must reach).
	Check("MASQ-001", func(ctx SpecContext) {
		RequireIPv4("the address PASV advertises")
		if Config().PasvAddress == "" {
			Skip("needs --ftp.pasv-address (the public address the server is configured to advertise)")
		}
		x := net.ParseIP(Config().PasvAddress)
		var vs []string
		var advice string
		for i := 1; i <= 3; i++ {
			s := Login(ctx)
			for j := 1; j <= 3; j++ {
				pr := MustPassive(ctx, s, false)
				if !pr.EP.IP.Equal(x) {
					vs = append(vs, fmt.Sprintf("session %d PASV %d advertised %s, not the declared %s: %q", i, j, pr.EP.IP, x, pr.Reply.Raw))
					if advice == "" {
						advice = AddressAdvice(ServerSoftware(ctx, s), pr.EP.IP, s.RemoteIP(), x)
					}
				}
				PokePassive(ctx, s, pr.EP)
			}
			s.Quit(ctx)
		}
		if len(vs) > 0 {
			Problem(fmt.Sprintf("%s:\n  %s", advice, strings.Join(vs, "\n  ")))
		}
	})

	// ProFTPD masqaddr_pasv_delayed_resolving_bug4104, fauria/docker-vsftpd#18.
	Check("MASQ-002", func(ctx SpecContext) {
		Skip("needs a hostname as the declared public address; --ftp.pasv-address accepts an IPv4 address only")
	})

	// pyftpdlib test_masquerade_address_map (PR#572): different client
	// networks may be given different addresses. Recorded for the two
	// client addresses the harness can use.
	Check("MASQ-003", func(ctx SpecContext) {
		RequireIPv4("the address PASV advertises")
		RequireSecondAddress("a second client address (--ftp.foreign-source)", Config().ForeignSource)
		want := Config().ExpectedPasvIP()
		for _, src := range []string{"", Config().ForeignSource} {
			var s *Session
			if src == "" {
				s = Login(ctx)
			} else {
				s = Login(ctx, ftp.WithLocalIP(net.ParseIP(src)))
			}
			pr := MustPassive(ctx, s, false)
			Observe("227 address for client "+s.LocalIP().String(), fmt.Sprintf("%s (%q)", pr.EP.IP, pr.Reply.Raw))
			Expect(pr.Err).NotTo(HaveOccurred(), "%s", pr)
			if want != nil {
				Expect(pr.EP.IP.Equal(want)).To(BeTrue(), "client %s was given %s, expected %s", s.LocalIP(), pr.EP.IP, want)
			}
			PokePassive(ctx, s, pr.EP)
		}
	})

	// stilliard/docker-pure-ftpd#93, fauria/docker-vsftpd#1, FluentFTP#270:
	// servers behind NAT or in containers advertise 0.0.0.0, loopback or a
	// bridge address the client cannot reach. The advertised address must
	// be one this client can use: not 0.0.0.0/8, not loopback or
	// link-local for a client that is not on loopback, not private for a
	// client that reached the server over a public address, and, where the
	// harness may dial it (the server's own address, or loopback when the
	// server is on loopback), actually serving the listing.
	Check("MASQ-004", func(ctx SpecContext) {
		RequireIPv4("the address PASV advertises")
		s := Login(ctx)
		dir := Scratch(ctx)
		pr := MustPassive(ctx, s, false)
		ip, ctrl, client := pr.EP.IP, s.RemoteIP(), s.LocalIP()
		var vs []string
		natAddress := false // the address itself is wrong: say how to fix it
		if ip.To4() != nil && ip.To4()[0] == 0 {
			vs = append(vs, fmt.Sprintf("advertises %s (0.0.0.0/8 is not an address a client can connect to)", ip))
			natAddress = true
		}
		if !client.IsLoopback() && ip.IsLoopback() {
			vs = append(vs, fmt.Sprintf("advertises loopback %s to client %s", ip, client))
			natAddress = true
		}
		if !client.IsLoopback() && !client.IsLinkLocalUnicast() && ip.IsLinkLocalUnicast() {
			vs = append(vs, fmt.Sprintf("advertises link-local %s to client %s", ip, client))
			natAddress = true
		}
		if ip.IsPrivate() && !ctrl.IsPrivate() && !ctrl.IsLoopback() {
			vs = append(vs, fmt.Sprintf("advertises private %s to a client that reached the server at public %s", ip, ctrl))
			natAddress = true
		}
		if ip.Equal(ctrl) || (ip.IsLoopback() && ctrl.IsLoopback()) {
			octx, cancel := Ctx(ctx)
			defer cancel()
			nc, err := s.DialData(octx, pr.EP, ftp.DataOptions{Policy: ftp.Strict})
			switch {
			case err != nil && !ip.Equal(ctrl):
				vs = append(vs, fmt.Sprintf("the advertised endpoint %s is not reachable (%s)", pr.EP, DialFailure(err)))
				natAddress = true
			case err != nil && Unreachable(err):
				vs = append(vs, PortAdvice(ServerSoftware(ctx, s), s.DataTarget(pr.EP, ftp.Strict), "227", err))
			case err != nil:
				vs = append(vs, fmt.Sprintf("the advertised endpoint %s is not reachable: %v", pr.EP, err))
			default:
				if res := s.Transfer(octx, nc, "LIST "+dir, nil, nil); !res.OK() {
					vs = append(vs, fmt.Sprintf("LIST over the advertised endpoint %s: %s", pr.EP, res))
				}
			}
		} else {
			GinkgoWriter.Printf("advertised %s differs from the server address %s: not dialled (ftpharness sends traffic only to the server under test)\n", ip, ctrl)
		}
		if len(vs) == 0 {
			return
		}
		what := fmt.Sprintf("227 %q must advertise an address this client can reach", pr.Reply.Raw)
		if natAddress && !ip.Equal(ctrl) {
			what = AddressAdvice(ServerSoftware(ctx, s), ip, ctrl, ctrl) + fmt.Sprintf(" (reply %q)", pr.Reply.Raw)
		}
		Problem(fmt.Sprintf("%s:\n  %s", what, strings.Join(vs, "\n  ")))
	})

	// RFC 2428 §3: the 229 reply carries only the port ("the first two
	// fields MUST be blank"), so behind NAT it must be the externally
	// reachable port (ftpserverlib TestPortMappingRange, proftpd PR#768).
	Check("MASQ-005", func(ctx SpecContext) {
		if Config().PasvAddress == "" {
			Skip("needs --ftp.pasv-address (a masquerade / public address configuration)")
		}
		s := Login(ctx)
		dir := Scratch(ctx)
		r := RequireEPSV(ctx, s)
		Expect(r).To(HaveCode(229))
		port, err := ftp.ParseEPSV(r.Text())
		Expect(err).NotTo(HaveOccurred(), "229 must carry (|||port|) with no address: %q", r.Raw)
		Expect(r.Text()).NotTo(MatchRegexp(`\d+\.\d+\.\d+\.\d+|\d+,\d+,\d+,\d+,\d+,\d+`), "229 must not carry an address: %q", r.Raw)
		if rng, ok := Config().PasvPorts(); ok {
			Expect(port).To(BeInPortRange(rng.Lo, rng.Hi), "229 %q", r.Raw)
		}
		ep := ftp.Endpoint{IP: s.RemoteIP(), Port: port}
		nc := s.DialEndpoint(ctx, ep, ftp.DataOptions{})
		octx, cancel := Ctx(ctx)
		defer cancel()
		Expect(s.Transfer(octx, nc, "LIST "+dir, nil, nil)).To(Complete(), "LIST over the EPSV port %d at the control address", port)
	})

	// ProFTPD tls_config_tlsmasqueradeaddress_bug3862, FluentFTP#270: a NAT
	// helper cannot rewrite an encrypted 227, so the server itself must
	// advertise the public address under TLS (the same rule as MASQ-001,
	// RFC 1123 §4.1.2.6, on a TLS control connection).
	Check("MASQ-006", func(ctx SpecContext) {
		RequireFTPS()
		if Config().PasvAddress == "" {
			Skip("needs --ftp.pasv-address (the public address the server is configured to advertise)")
		}
		x := net.ParseIP(Config().PasvAddress)
		s := Login(ctx)
		_, protected := s.TLSState()
		Expect(protected).To(BeTrue(), "the control connection must be TLS for this check")
		pr := MustPassive(ctx, s, false)
		PokePassive(ctx, s, pr.EP)
		if !pr.EP.IP.Equal(x) {
			// AddressAdvice says, on FTPS, why no NAT helper can fix it
			Problem(fmt.Sprintf("PASV inside TLS got %q, but the 227 must carry the address the client connects to (RFC 959 §4.1.2, RFC 1123 §4.1.2.6): %s",
				pr.Reply.Raw, AddressAdvice(ServerSoftware(ctx, s), pr.EP.IP, s.RemoteIP(), x)))
		}
	})
})
