package suites

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
	"github.com/ftpharness/ftpharness/target"
)

// Active mode: every PORT/EPRT in this file names a loopback listener the
// harness owns (a Catcher), so a server that connects where it should not
// connects to the harness, which records it. The "bounce" target is the
// harness's listener on Config().ThirdParty; nothing else is ever named.
var _ = Describe("ACTIVE", Label("active"), func() {

	// RFC 959 §4.1.2: "DATA PORT (PORT) The argument is a HOST-PORT
	// specification for the data port to be used in data connection."
	// §5.4: PORT → 200; a transfer command then gives 125/150 ... 226/250.
	Check("ACT-001", func(ctx SpecContext) {
		RequireIPv4("PORT")
		RequireActive()
		s := Login(ctx)
		c := ListenCatcher(s.LocalIP())
		r := s.Do(ctx, "PORT", c.PortArg())
		Expect(r).To(HaveCode(200), "PORT %s names the harness listener %s on the control connection's own client address", c.PortArg(), c)
		res, _ := s.ActiveXfer(ctx, c, "LIST", nil)
		Expect(res).To(Complete(), "LIST after PORT %s: the server must connect to %s and send the listing", c.PortArg(), c)
	})

	// RFC 959 §5.3.2: "<host-port> ::= <host-number>,<port-number>
	// <host-number> ::= <number>,<number>,<number>,<number> <port-number> ::=
	// <number>,<number> <number> ::= any decimal integer 1 through 255";
	// §5.4 lists "PORT 200; 500, 501, 421, 530": a malformed argument is
	// refused with 501 ("Syntax error in parameters or arguments") or 500
	// ("Syntax error, command unrecognized"), never accepted.
	Check("ACT-002", func(ctx SpecContext) {
		RequireIPv4("PORT")
		RequireActive()
		s := Login(ctx)
		// The port is a multiple of 256 so that "p1-1,256" (port byte 256),
		// read leniently as (p1-1)*256+256, still names this listener.
		c := actCatcherLow0(s.LocalIP())
		h := strings.Join(actOctets(s.LocalIP()), ",")
		p1, p2 := c.Port()>>8, c.Port()&0xff
		cases := []struct{ what, arg string }{
			{"5 fields", fmt.Sprintf("%s,%d", h, p1)},
			{"7 fields", fmt.Sprintf("%s,%d,%d,1", h, p1, p2)},
			{"non-digit field", fmt.Sprintf("%s,x%d,%d", h, p1, p2)},
			{"host octet 256", fmt.Sprintf("%s,%d,%d", actReplaceLast(h, "256"), p1, p2)},
			{"port byte 256", fmt.Sprintf("%s,%d,256", h, p1-1)},
			{"negative port byte", fmt.Sprintf("%s,-1,%d", h, p2)},
			{"dot separators", strings.ReplaceAll(fmt.Sprintf("%s,%d,%d", h, p1, p2), ",", ".")},
			{"empty argument", ""},
		}
		bad, alive := actMalformed(ctx, s, "PORT", cases, nil)
		Expect(bad).To(BeEmpty(), "malformed PORT arguments must be refused with 501 or 500 (RFC 959 §5.3.2 syntax, §5.4 PORT row: 200; 500, 501, 421, 530); fix: validate six decimal fields 0-255 before accepting; deviations:\n  %s", strings.Join(bad, "\n  "))
		Expect(alive).To(BeTrue())
		Expect(s.Do(ctx, "NOOP")).To(HaveCode(200), "the session must continue after malformed PORT commands")
	})

	// Security practice, not an RFC requirement (INTEROP): RFC 2577 §2
	// describes the bounce attack, but its §3 only suggests refusing ports
	// below 1024 and adds "Note that this still leaves non-well known
	// servers (those running on ports greater than 1023) vulnerable to
	// bounce attacks"; the base FTP protocol itself allows third-party transfers.
	// Servers that allow no FXP refuse a PORT/EPRT naming another host.
	Check("ACT-003", Slow, func(ctx SpecContext) {
		RequireSecondAddress("a third-party listener (--ftp.third-party)", Config().ThirdParty)
		if Config().Has("fxp") {
			Skip("--ftp.features=fxp declares third-party PORT targets allowed")
		}
		tp := net.ParseIP(Config().ThirdParty)
		Expect(tp).NotTo(BeNil(), "--ftp.third-party %q is not an IP", Config().ThirdParty)
		Expect(tp.IsLoopback() || target.PrivateLoopbackULA(tp)).To(BeTrue(), "--ftp.third-party must be a loopback address the harness can listen on, got %s", tp)
		verbs := []string{"PORT", "EPRT"}
		if tp.To4() == nil {
			verbs = verbs[1:] // PORT cannot name an IPv6 address (RFC 2428 §1)
		}
		for _, verb := range verbs {
			s := Login(ctx)
			c := ListenCatcher(tp)
			arg := c.EprtArg()
			if verb == "PORT" {
				arg = c.PortArg()
			}
			r := s.Do(ctx, verb, arg)
			// Follow with a transfer command whatever the reply, so a server
			// that answers 5xx but keeps the address is caught too.
			lr := s.SendWithin(ctx, 3*time.Second, "LIST")
			if !lr.Closed && !lr.Timeout && lr.Reply.Preliminary() {
				s.ReadWithin(ctx, 3*time.Second)
			}
			got := c.Quiet(ctx, 1500*time.Millisecond)
			Expect(got).To(BeEmpty(), "BOUNCE: after `%s %s` naming the third-party listener %s (the control peer is %s) and LIST, the server connected to it (%s). Expected for a server that does not offer FXP: refusal (5xx) and no connection (bounce attack, RFC 2577 §2); declare --ftp.features=fxp if third-party transfers are intended. PORT reply %q, LIST %s",
				verb, arg, c, s.LocalIP(), DescribeArrivals(got), r.Raw, lr)
			Expect(r).To(HaveClass(5), "BOUNCE: `%s %s` names the third-party address %s, not the control peer %s: a server without FXP should refuse it (5xx; bounce attack, RFC 2577 §2)", verb, arg, tp, s.LocalIP())
			s.Close()
		}
	})

	// RFC 2577 §3: "it is suggested that servers not open data connections
	// to TCP ports less than 1024. If a server receives a PORT command
	// containing a TCP port number less than 1024, the suggested response
	// is 504".
	Check("ACT-004", func(ctx SpecContext) {
		// Hold port 80 on the control peer address ourselves when we can, so
		// a server that connects there at once (some connect on PORT, not on
		// the transfer command) is caught; no transfer command is ever sent.
		// On loopback the control connection comes from a random 127.x
		// address of its own, so concurrent harness runs never share that
		// listener (nor point a server at each other's).
		var s *Session
		var c *Catcher
		if host := net.ParseIP(Config().Host()); host != nil && host.IsLoopback() && host.To4() != nil {
			src := actRandomLoopback()
			if cc, err := TryListenCatcher(src, 80); err == nil {
				c = cc
				s = Login(ctx, ftp.WithLocalIP(src))
			}
		}
		if s == nil {
			s = Login(ctx)
			if cc, err := TryListenCatcher(s.LocalIP(), 80); err == nil {
				c = cc
			} else {
				Observe("could not hold "+s.LocalIP().String()+":80 to detect connections (reply codes only)", err)
			}
		}
		ip := s.LocalIP()
		cases := []struct{ verb, arg string }{{"EPRT", ftp.FormatEPRT(ip, 80)}}
		if !s.IPv6() { // PORT carries IPv4 only (RFC 2428 §1)
			cases = append([]struct{ verb, arg string }{{"PORT", strings.Join(actOctets(ip), ",") + ",0,80"}}, cases...)
		}
		var bad []string
		for _, tc := range cases {
			r := s.Do(ctx, tc.verb, tc.arg)
			if r.Class() != 5 {
				bad = append(bad, fmt.Sprintf("%s %s (privileged port 80 on the control peer %s): got %q", tc.verb, tc.arg, ip, r.Raw))
			}
		}
		if c != nil {
			got := c.Quiet(ctx, 700*time.Millisecond)
			Expect(got).To(BeEmpty(), "the server connected to the privileged port %s:80 named by PORT/EPRT without any transfer command: %s", ip, DescribeArrivals(got))
		}
		Expect(bad).To(BeEmpty(), "PORT/EPRT naming a port below 1024 must be refused (504 recommended, RFC 2577 §3):\n  %s", strings.Join(bad, "\n  "))
	})

	// RFC 959 §5.4: PORT → 200 (the list has no connection errors for it);
	// transfer commands: "425 Can't open data connection", or 125/150 then
	// 425/426. The control connection is not affected.
	Check("ACT-005", func(ctx SpecContext) {
		RequireActive()
		s := Login(ctx)
		port := actClosedPort(s.LocalIP())
		verb, arg := "EPRT", ftp.FormatEPRT(s.LocalIP(), port) // over IPv6, where PORT cannot name the client
		if !s.IPv6() {
			var err error
			verb = "PORT"
			arg, err = ftp.FormatPORT(s.LocalIP(), port)
			Expect(err).NotTo(HaveOccurred())
		}
		r := s.Do(ctx, verb, arg)
		Expect(r).To(HaveCode(200), "%s %s (a closed port on the control peer) is well formed; the connection failure belongs to the transfer command (RFC 959 §5.4 lists 200, 500, 501, 421, 530 for PORT; RFC 2428 §2: a valid EPRT MUST get 200)", verb, arg)
		octx, cancel := Ctx(ctx)
		res := s.TransferWith(octx, "LIST", func(context.Context) (net.Conn, error) {
			return nil, errors.New("the harness has no listener on that port")
		}, nil, nil, nil)
		cancel()
		Expect(res.Replies).NotTo(BeEmpty(), "LIST got no reply: %s", res)
		first, final := res.Replies[0], res.Final()
		if first.Preliminary() {
			Expect(len(res.Replies)).To(BeNumerically(">=", 2), "LIST: %s", res)
			Expect(final).To(HaveCode(425, 426), "LIST to a closed port: 1xx must be followed by 425/426")
		} else {
			Expect(first).To(HaveCode(425), "LIST to a closed active port must fail with 425 (or 150 then 425/426)")
		}
		Expect(s.Do(ctx, "NOOP")).To(HaveCode(200), "the control connection must stay usable after the failed data connection")
	})

	// RFC 2428 §2: "EPRT<space><d><net-prt><d><net-addr><d><tcp-port><d>" ...
	// "The EPRT command ... The following are sample EPRT commands: EPRT
	// |1|132.235.1.2|6275|"; a valid EPRT is answered 200.
	Check("ACT-006", func(ctx SpecContext) {
		RequireActive()
		s := Login(ctx)
		c := ListenCatcher(s.LocalIP())
		r := s.Do(ctx, "EPRT", c.EprtArg())
		SkipUnimplemented(ctx, r, "EPRT")
		Expect(r).To(HaveCode(200), "EPRT %s names the harness listener on the control peer address", c.EprtArg())
		res, _ := s.ActiveXfer(ctx, c, "LIST", nil)
		Expect(res).To(Complete(), "LIST after EPRT %s: the server must connect to %s", c.EprtArg(), c)
	})

	// RFC 2428 §2: "The delimiter character MUST be one of the ASCII
	// characters in range 33-126 inclusive. The character "|" (ASCII 124)
	// is recommended unless it coincides with a character needed to encode
	// the network address."
	Check("ACT-007", func(ctx SpecContext) {
		RequireActive()
		s := Login(ctx)
		c := ListenCatcher(s.LocalIP())
		arg := strings.ReplaceAll(c.EprtArg(), "|", "!")
		r := s.Do(ctx, "EPRT", arg)
		SkipUnimplemented(ctx, r, "EPRT")
		Expect(r).To(HaveCode(200), "EPRT %s uses '!' as the delimiter, which RFC 2428 §2 allows (any of ASCII 33-126)", arg)
		res, _ := s.ActiveXfer(ctx, c, "LIST", nil)
		Expect(res).To(Complete(), "LIST after EPRT %s", arg)
	})

	// RFC 2428 §2: "Upon receipt of a valid EPRT command, the server MUST
	// return a code of 200 (Command OK). The standard negative error code
	// 500 and 501 [PR85] are sufficient to handle most errors (e.g., syntax
	// errors) involving the EPRT command." A malformed EPRT is refused with
	// 500 or 501 (522 where the protocol field is the problem), never 200.
	Check("ACT-008", func(ctx SpecContext) {
		RequireActive()
		s := Login(ctx)
		c := ListenCatcher(s.LocalIP())
		probe := s.Do(ctx, "EPRT", c.EprtArg())
		SkipUnimplemented(ctx, probe, "EPRT")
		ip := s.LocalIP().String()
		p := strconv.Itoa(c.Port())
		af := strconv.Itoa(epsvFamily(s))
		cases := []struct{ what, arg string }{
			{"all fields empty", "||||"},
			{"two delimiters only", "||"},
			{"port 65536", "|" + af + "|" + ip + "|65536|"},
			{"port -1", "|" + af + "|" + ip + "|-1|"},
			{"bad IPv6 text", "|2|::g1::|" + p + "|"},
		}
		if s.IPv6() {
			cases = append(cases, struct{ what, arg string }{"an IPv6 group above ffff", "|2|::1ffff:1|" + p + "|"},
				struct{ what, arg string }{"nine IPv6 groups", "|2|1:2:3:4:5:6:7:8:9|" + p + "|"})
		} else {
			cases = append(cases, struct{ what, arg string }{"address octet 256", "|1|" + actReplaceLastDot(ip, "256") + "|" + p + "|"},
				struct{ what, arg string }{"five address octets", "|1|" + ip + ".5|" + p + "|"})
		}
		// An empty or IPv6 protocol field may also be refused as an
		// unsupported protocol (522, RFC 2428 §2).
		also := map[string][]int{"||||": {522}, "||": {522}, "|2|::g1::|" + p + "|": {522}}
		bad, alive := actMalformed(ctx, s, "EPRT", cases, also)
		Expect(bad).To(BeEmpty(), "malformed EPRT arguments must be refused with 500 or 501 (RFC 2428 §2: \"The standard negative error code 500 and 501 ... are sufficient to handle most errors (e.g., syntax errors)\"); fix: validate the protocol, address and port fields before accepting:\n  %s", strings.Join(bad, "\n  "))
		Expect(alive).To(BeTrue())
		Expect(s.Do(ctx, "NOOP")).To(HaveCode(200), "the session must continue after malformed EPRT commands")
	})

	// RFC 2428 §2: "The response code 522 indicates that the server does
	// not support the requested network protocol. ... The text portion of
	// the response MUST indicate which network protocols the server does
	// support. If the network protocol is unsupported, the format of the
	// response string MUST be: <text stating that the network protocol is
	// unsupported> (prot1,prot2,...,protn)". AF 3 is an IANA address family
	// (802) no FTP server carries data over.
	Check("ACT-009", func(ctx SpecContext) {
		RequireActive()
		s := Login(ctx)
		c := ListenCatcher(s.LocalIP())
		probe := s.Do(ctx, "EPRT", c.EprtArg())
		SkipUnimplemented(ctx, probe, "EPRT")
		r3 := s.Do(ctx, "EPRT", "|3|"+s.LocalIP().String()+"|"+strconv.Itoa(c.Port())+"|")
		Expect(r3).To(HaveCode(522), "EPRT with network protocol 3 (not IPv4/IPv6) must be answered 522")
		list, ok := act522List(r3.Text())
		Expect(ok).To(BeTrue(), "522 must name the supported protocols as (prot1,prot2,...) with no '(' before the list: %q", r3.Raw)
		af := strconv.Itoa(epsvFamily(s))
		Expect(list).To(ContainElement(af), "the 522 list must include %s, the protocol this control connection uses (1 IPv4, 2 IPv6): %q", af, r3.Raw)
		if s.IPv6() {
			return // the other family's loopback names no harness listener the server must reach
		}
		// IPv6: supported (200, aimed at a harness listener on ::1 when
		// possible) or 522 with the list.
		port6 := c.Port()
		if c6, err := TryListenCatcher(net.IPv6loopback, 0); err == nil {
			port6 = c6.Port()
		}
		// A server may also refuse ::1 because it is not the client's
		// address (ACT-003), so only the form of a 522 is checked.
		r2 := s.Do(ctx, "EPRT", "|2|::1|"+strconv.Itoa(port6)+"|")
		Observe("EPRT |2|::1|...| on an IPv4 control connection", r2.String())
		if r2.Is(522) {
			_, ok := act522List(r2.Text())
			Expect(ok).To(BeTrue(), "522 must name the supported protocols as (prot1,prot2,...): %q", r2.Raw)
		}
	})

	// RFC 959 §3.2: "The server MUST close the data connection under the
	// following conditions: ... 3. The port specification is changed by a
	// command from the user." §3.3: the last PORT or PASV decides where the
	// data connection is made. A passive listener nobody connected to is not
	// a data connection: one left open after PORT only warns.
	Check("ACT-010", Alone, func(ctx SpecContext) {
		RequireActive()
		By("PORT then PASV (EPRT then EPSV over IPv6): the transfer uses the passive endpoint")
		s := Login(ctx)
		a := ListenCatcher(s.LocalIP())
		verb, arg := s.ActiveCmd(a)
		Expect(s.Do(ctx, verb, arg)).To(HaveCode(200), "%s %s", verb, arg)
		// Some servers connect as soon as PORT arrives; those connections
		// are legitimate until PASV replaces the port specification.
		early := len(a.Quiet(ctx, 300*time.Millisecond))
		res, _ := s.Xfer(ctx, false, "LIST", nil)
		Expect(res).To(Complete(), "PORT then PASV: LIST must run over the passive endpoint")
		arr := a.Quiet(ctx, time.Second)
		Expect(len(arr)).To(Equal(early), "PORT then PASV: the server connected to the superseded PORT endpoint %s after PASV (%s)", a, DescribeArrivals(arr[early:]))
		for _, x := range arr {
			// A server that connects on PORT itself must drop that
			// connection once PASV changes the port specification.
			xc := s.ProtectedData(x.Conn) // under PROT P data only follows a handshake
			xc.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := io.Copy(io.Discard, xc)
			Expect(n).To(BeZero(), "PORT then PASV: %d bytes arrived over the superseded PORT connection %s", n, x.From)
			Expect(IsTimeout(err)).To(BeFalse(), "PORT then PASV: the server kept the data connection it opened for PORT (%s) after PASV changed the port specification (RFC 959 §3.2 item 3)", x.From)
		}
		s.Close()

		By("PASV then PORT: the transfer uses the PORT endpoint")
		s2 := Login(ctx)
		ep := s2.Pasv(ctx, false)
		b := ListenCatcher(s2.LocalIP())
		verb2, arg2 := s2.ActiveCmd(b)
		pr := s2.SendWithin(ctx, Config().Timeout, verb2+" "+arg2)
		Expect(pr.Closed || pr.Timeout).To(BeFalse(), "%s %s after PASV (port %d) was not answered: %s (does the server stop reading commands until the passive connection arrives?)", verb2, arg2, ep.Port, pr)
		Expect(pr.Reply).To(HaveCode(200), "%s %s after PASV", verb2, arg2)
		dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
		stale, serr := ftp.DialTCP(dctx, s2.DataTarget(ep, ftp.ControlHost), nil)
		dcancel()
		if serr == nil {
			stale = s2.ProtectedData(stale)
			DeferCleanup(stale.Close)
		}
		octx, cancel := Ctx(ctx)
		res2 := s2.TransferWith(octx, "LIST", b.DataFunc(s2), nil, nil, nil)
		cancel()
		Expect(res2).To(Complete(), "PASV (port %d) then PORT %s: LIST must make the data connection to the PORT endpoint", ep.Port, b)
		if serr == nil {
			stale.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, _ := io.Copy(io.Discard, stale)
			Expect(n).To(BeZero(), "PASV then PORT: %d bytes were sent over the superseded passive endpoint port %d", n, ep.Port)
		}
		if serr == nil {
			// RFC 959 §3.2 item 3 closes the data connection, and no data
			// connection was open: a listener left behind is a resource
			// and firewall concern, not a violation (INTEROP).
			Warn("ACT-010 (INTEROP, not an RFC 959 requirement): after PASV (port %d) then PORT %s the superseded passive listener still accepted a TCP connection; the transfer correctly used the PORT endpoint. Fix: close the passive listener when PORT replaces it", ep.Port, b)
		}
	})

	// RFC 1123 §4.1.2.12: "the server-FTP MUST ... [use] the same IP
	// address as the control connection" for data connections on a
	// multihomed host; port 20 (L-1, the control port minus one) is the
	// classic default source port.
	Check("ACT-011", func(ctx SpecContext) {
		RequireActive()
		s := Login(ctx)
		c := ListenCatcher(s.LocalIP())
		verb, arg := s.ActiveCmd(c)
		Expect(s.Do(ctx, verb, arg)).To(HaveCode(200), "%s %s", verb, arg)
		var from *net.TCPAddr
		octx, cancel := Ctx(ctx)
		res := s.TransferWith(octx, "LIST", func(ctx context.Context) (net.Conn, error) {
			nc, f, err := c.Take(ctx)
			from = f
			if err != nil {
				return nil, err
			}
			return s.ProtectedData(nc), nil
		}, nil, nil, nil)
		cancel()
		Expect(from).NotTo(BeNil(), "the server never connected for LIST: %s", res)
		_, cport, _ := net.SplitHostPort(s.NetConn().RemoteAddr().String())
		cp, _ := strconv.Atoi(cport)
		Observe("active data connection source", from.String())
		Observe("source port is 20 or the control port - 1 (L-1, RFC 959 default)", from.Port == 20 || from.Port == cp-1)
		Expect(from.IP.Equal(s.RemoteIP())).To(BeTrue(), "active data connection came from %s; the server's address on the control connection is %s", from.IP, s.RemoteIP())
	})

	// RFC 959 §5.2 Figure 3 describes server-to-server (FXP) transfers via
	// PASV on one session and PORT on another; RFC 2577 §3 suggests servers
	// refuse PORT naming another host. Session B logs in from the foreign
	// source address, so the PORT names an address other than its peer.
	Check("ACT-012", func(ctx SpecContext) {
		RequireSecondAddress("a second client address (--ftp.foreign-source)", Config().ForeignSource)
		a := Login(ctx)
		src := Name(ctx, "act012-src")
		a.Put(ctx, src, []byte("fxp payload\n"))
		b := Login(ctx, ftp.WithLocalIP(net.ParseIP(Config().ForeignSource)))
		ep := a.Pasv(ctx, false)
		verb, arg := "EPRT", ftp.FormatEPRT(ep.IP, ep.Port) // over IPv6 (RFC 2428 §1)
		if !b.IPv6() {
			var err error
			verb = "PORT"
			arg, err = ftp.FormatPORT(ep.IP, ep.Port)
			Expect(err).NotTo(HaveOccurred())
		}
		r := b.Do(ctx, verb, arg)
		Observe(verb+" naming another session's passive endpoint (from a different client address)", r.String())
		if r.Is(200) {
			dst := Name(ctx, "act012-dst")
			ar := a.SendWithin(ctx, 3*time.Second, "STOR "+dst)
			br := b.SendWithin(ctx, 3*time.Second, "RETR "+src)
			var af, bf ReadOutcome
			if ar.Reply.Preliminary() {
				af = a.ReadWithin(ctx, 5*time.Second)
			}
			if br.Reply.Preliminary() {
				bf = b.ReadWithin(ctx, 5*time.Second)
			}
			Observe("FXP transfer", fmt.Sprintf("receiving STOR: %s then %s; sending RETR: %s then %s", ar, af, br, bf))
		}
		if Config().Has("fxp") {
			Expect(r).To(HaveCode(200), "--ftp.features=fxp declares FXP allowed")
		} else {
			Expect(r).To(HaveClass(5), "%s %s names another session's passive endpoint, not this client (%s): refused unless FXP is declared", verb, arg, b.LocalIP())
		}
	})
})

// actOctets renders an IPv4 address as its four decimal octets.
func actOctets(ip net.IP) []string {
	v4 := ip.To4()
	Expect(v4).NotTo(BeNil(), "active-mode checks need an IPv4 control connection, got %s", ip)
	return []string{strconv.Itoa(int(v4[0])), strconv.Itoa(int(v4[1])), strconv.Itoa(int(v4[2])), strconv.Itoa(int(v4[3]))}
}

// actReplaceLast replaces the last comma-separated field of s.
func actReplaceLast(s, with string) string { return s[:strings.LastIndex(s, ",")+1] + with }

// actReplaceLastDot replaces the last octet of a dotted IPv4 address.
func actReplaceLastDot(s, with string) string { return s[:strings.LastIndex(s, ".")+1] + with }

// actRandomLoopback picks an address in 127.100.0.0-127.199.255.255 (never
// the configured foreign or third-party ones).
func actRandomLoopback() net.IP {
	for {
		ip := net.IPv4(127, byte(100+rand.IntN(100)), byte(rand.IntN(256)), byte(1+rand.IntN(254)))
		if ip.String() != Config().ThirdParty && ip.String() != Config().ForeignSource {
			return ip
		}
	}
}

// actCatcherLow0 listens on ip at a free port whose low byte is 0.
func actCatcherLow0(ip net.IP) *Catcher {
	GinkgoHelper()
	for i := 0; i < 50; i++ {
		port := (128 + rand.IntN(120)) << 8
		if c, err := TryListenCatcher(ip, port); err == nil {
			return c
		}
	}
	Fail("no free port of the form n*256 on " + ip.String())
	return nil
}

// actMalformed sends verb with each malformed argument and lists every
// reply other than the syntax refusals 500 and 501 (or the codes in
// also[arg]); RFC 959 §5.4 lists both for PORT, RFC 2428 §2 both for EPRT. A missing reply ends
// the run: the session is no longer usable (alive false).
func actMalformed(ctx context.Context, s *Session, verb string, cases []struct{ what, arg string }, also map[string][]int) (bad []string, alive bool) {
	for _, tc := range cases {
		line := verb
		if tc.arg != "" {
			line += " " + tc.arg
		}
		o := s.SendWithin(ctx, 3*time.Second, line)
		if o.Closed || o.Timeout || o.Err != nil {
			return append(bad, fmt.Sprintf("%s (%s): %s; the session is unusable", line, tc.what, o)), false
		}
		if !o.Reply.Is(append([]int{500, 501}, also[tc.arg]...)...) {
			bad = append(bad, fmt.Sprintf("%s (%s): got %q", line, tc.what, o.Reply.Raw))
		}
	}
	return bad, true
}

var act522Re = regexp.MustCompile(`^\d+(,\d+)*$`)

// act522List extracts the "(1,2)" protocol list of a 522 reply (RFC 2428
// §2): the first parenthesis in the text must open it.
func act522List(text string) ([]string, bool) {
	i := strings.Index(text, "(")
	if i < 0 {
		return nil, false
	}
	j := strings.Index(text[i:], ")")
	if j < 0 {
		return nil, false
	}
	inside := text[i+1 : i+j]
	if !act522Re.MatchString(inside) {
		return nil, false
	}
	return strings.Split(inside, ","), true
}

// actClosedPort binds a port on ip, closes it and returns it: a port where
// (barring a race with another process) nothing listens.
func actClosedPort(ip net.IP) int {
	GinkgoHelper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	Expect(err).NotTo(HaveOccurred())
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}
