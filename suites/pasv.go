package suites

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/fixtures"
	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

var _ = Describe("PASV", Label("pasv"), func() {

	// RFC 959 §4.1.2: "PASSIVE (PASV) This command requests the server-DTP
	// to "listen" on a data port ... and to wait for a connection rather
	// than initiate one upon receipt of a transfer command. The response to
	// this command includes the host and port address this server is
	// listening on."  RFC 1123 §4.1.2.6: "A server-FTP MUST implement PASV."
	Check("PASV-001", func(ctx SpecContext) {
		s := Login(ctx)
		r := s.Do(ctx, "PASV")
		Expect(r).To(HaveCode(227))
		ep, err := ftp.ParsePASV(r.Text())
		Expect(err).NotTo(HaveOccurred(), "227 must carry h1,h2,h3,h4,p1,p2 (each 0-255, port non-zero): %q", r.Raw)
		Expect(ep.Port).To(BeNumerically(">", 0))
	})

	// RFC 959 §4.2.1: "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)."
	// RFC 1123 §4.1.2.6 warns clients not to rely on the parentheses, so
	// servers that omit them are an interoperability risk, not a violation.
	Check("PASV-002", func(ctx SpecContext) {
		s := Login(ctx)
		r := s.Do(ctx, "PASV")
		Expect(r).To(HaveCode(227))
		Expect(r.Multiline()).To(BeFalse(), "227 should be a single line: %q", r.Raw)
		Expect(r.Text()).To(MatchRegexp(`\(\d{1,3},\d{1,3},\d{1,3},\d{1,3},\d{1,3},\d{1,3}\)`), "227 numbers should be parenthesised: %q", r.Raw)
	})

	// RFC 1123 §4.1.2.6: "h1 ... h4 is the IP address of the server host
	// sending the reply" — the address the client can reach, i.e. the
	// server's side of this control connection (or the declared public one).
	Check("PASV-003", func(ctx SpecContext) {
		if Config().PasvAddress != "" {
			Skip("--ftp.pasv-address is declared: MASQ-001 checks the advertised address instead")
		}
		s := Login(ctx)
		ep := s.Pasv(ctx, false)
		Expect(ep.IP.IsUnspecified()).To(BeFalse(), "227 advertises 0.0.0.0")
		Expect(ep.IP.Equal(s.RemoteIP())).To(BeTrue(), "227 advertises %s but the control connection's server address is %s", ep.IP, s.RemoteIP())
	})

	// RFC 959 §3.2: the server-DTP "listens" on the passive port and the
	// user-DTP connects to it; transfers then carry 125/150 ... 226/250
	// (§5.4). Checked for LIST, STOR and RETR with a payload that must
	// arrive intact.
	Check("PASV-004", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "pasv004")
		payload := fixtures.Bytes(4242, 64<<10)
		s.Do(ctx, "TYPE", "I")
		st, _ := s.Xfer(ctx, false, "STOR "+name, payload)
		Expect(st).To(Complete())
		rt, got := s.Xfer(ctx, false, "RETR "+name, nil)
		Expect(rt).To(Complete())
		Expect(bytes.Equal(got, payload)).To(BeTrue(), "RETR returned %d bytes (sha %s), stored %d", len(got), rt.SHA256, len(payload))
		lt, listing := s.Xfer(ctx, false, "LIST "+Scratch(ctx), nil)
		Expect(lt).To(Complete())
		Expect(string(listing)).To(ContainSubstring(lastPart(name)))
	})

	// RFC 1123 §4.1.2.6: "a new PASV command MUST be issued before each
	// transfer" in third-party use; servers stop listening after the first
	// connection, so a second transfer without PASV cannot reuse it.
	Check("PASV-005", func(ctx SpecContext) {
		s := Login(ctx)
		ep := s.Pasv(ctx, false)
		nc := s.DialEndpoint(ctx, ep, ftp.DataOptions{})
		octx, cancel := Ctx(ctx)
		defer cancel()
		res := s.Transfer(octx, nc, "LIST", nil, nil)
		Expect(res).To(Complete())
		// The listener should be gone: a new connection is refused or
		// never served.
		second, err := ftp.DialTCP(octx, s.DataTarget(ep, ftp.ControlHost), nil)
		if err == nil {
			defer second.Close()
			// Connected: the next transfer must not be served over it.
			r := s.Do(ctx, "LIST")
			if r.Preliminary() {
				second.SetReadDeadline(time.Now().Add(2 * time.Second))
				buf := make([]byte, 1)
				n, _ := second.Read(buf)
				final := s.Next(ctx)
				Expect(n).To(BeZero(), "a second LIST without PASV was served over a stale data connection (final %s)", final)
			} else {
				Expect(r).To(HaveCode(425, 503), "LIST without a new PASV")
			}
		}
	})

	// RFC 959 §3.2: "The server MUST close the data connection ... when the
	// port specification is changed by a command from the user." A second
	// PASV/EPSV replaces the first listener.
	Check("PASV-006", func(ctx SpecContext) {
		for _, pair := range [][2]bool{{false, false}, {true, true}, {false, true}, {true, false}} {
			s := Login(ctx)
			a := s.Pasv(ctx, pair[0])
			b := s.Pasv(ctx, pair[1])
			if a.Port != b.Port {
				octx, cancel := Ctx(ctx)
				stale, err := ftp.DialTCP(octx, s.DataTarget(a, ftp.ControlHost), nil)
				cancel()
				if err == nil {
					stale.Close()
					Fail(describePair(pair) + ": the first listener (port " + itoa(a.Port) + ") still accepts connections after the second passive command")
				}
			}
			nc := s.DialEndpoint(ctx, b, ftp.DataOptions{})
			octx, cancel := Ctx(ctx)
			res := s.Transfer(octx, nc, "LIST", nil, nil)
			cancel()
			Expect(res).To(Complete(), "%s: transfer over the newest listener", describePair(pair))
			s.Quit(ctx)
		}
	})

	// RFC 2577 §4: servers "should verify the remote address of both the
	// control connection and the data connection"; a passive port must not
	// hand data to whoever connects first from another address.
	Check("PASV-010", func(ctx SpecContext) {
		if Config().Has("fxp") {
			Skip("--ftp.features=fxp declares foreign data peers allowed")
		}
		s := Login(ctx)
		name := Name(ctx, "pasv010")
		s.Put(ctx, name, []byte("secret data for the right peer only\n"))
		ep := s.Pasv(ctx, false)
		foreign := net.ParseIP(Config().ForeignSource)
		octx, cancel := Ctx(ctx)
		defer cancel()
		nc, err := s.DialData(octx, ep, ftp.DataOptions{LocalIP: foreign})
		if err != nil {
			return // refused at connect: the rule holds
		}
		DeferCleanup(nc.Close)
		res := s.TransferWith(octx, "RETR "+name, ftp.Ready(nc), nil, nil, nil)
		Expect(res.Bytes).To(BeZero(), "%d bytes of the file were delivered to the foreign peer %s: %s", res.Bytes, foreign, res)
		Expect(res.OK()).To(BeFalse(), "the transfer to a foreign peer completed: %s", res)
	})
})

func lastPart(p string) string { return p[strings.LastIndex(p, "/")+1:] }

func describePair(p [2]bool) string {
	n := func(e bool) string {
		if e {
			return "EPSV"
		}
		return "PASV"
	}
	return n(p[0]) + " then " + n(p[1])
}

func itoa(i int) string { return strconv.Itoa(i) }
