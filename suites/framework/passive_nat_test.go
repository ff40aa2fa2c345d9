package framework

import (
	"fmt"
	"github.com/ftpharness/ftpharness/suites/report"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/ftpharness/ftpharness/target"
)

// The greetings, SYST and FEAT replies of the local servers (servers/),
// recorded from their default configuration.
func TestIdentifySoftware(t *testing.T) {
	cases := []struct {
		name                 string
		greeting, syst, feat string
		want                 Software
	}{
		{"vsftpd greeting", "220 (vsFTPd 3.0.3)\r\n", "215 UNIX Type: L8\r\n", "", Vsftpd},
		{"proftpd greeting", "220 ProFTPD Server (ftpharness proftpd) [127.0.0.1]\r\n", "", "", ProFTPD},
		{"pure-ftpd greeting", "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n220-You are user number 2 of 10 allowed.\r\n220 You will be disconnected after 15 minutes of inactivity.\r\n", "", "", PureFTPd},
		{"pyftpdlib greeting", "220 pyftpdlib ready.\r\n", "", "", Pyftpdlib},
		{"pyftpdlib versioned greeting", "220 pyftpdlib 1.5.7 ready.\r\n", "", "", Pyftpdlib},
		{"twisted greeting", "220 Twisted 22.4.0 FTP Server\r\n", "", "", Twisted},
		{"inetutils greeting", "220 localhost FTP server (GNU inetutils 2.4) ready.\r\n", "", "", Inetutils},
		{"goftp default greeting", "220 Welcome to the Go FTP Server\r\n", "", "", Goftp},
		{"goftp named greeting", "220 ftpharness goftp ready\r\n", "", "", Goftp},
		{"ftpserverlib named greeting", "220 ftpharness ftpserverlib ready\r\n", "", "", Ftpserverlib},
		// custom banners: FEAT decides
		{"ftpserverlib FEAT", "220 hello\r\n", "215 UNIX Type: L8\r\n", "211- These are my features\r\n CLNT\r\n UTF8\r\n SIZE\r\n211 end\r\n", Ftpserverlib},
		{"goftp FEAT", "220 hello\r\n", "", "211-Extensions supported:\n UTF8\n EPSV\n LPRT\n MLST Type*;Modify*;Size*;\n CLNT\n EPRT\n\r\n211 End\r\n", Goftp},
		{"pure-ftpd FEAT", "220 hello\r\n", "", "211-Extensions supported:\r\n UTF8\r\n EPRT\r\n IDLE\r\n MDTM\r\n PRET\r\n ESTA\r\n PASV\r\n EPSV\r\n211 End.\r\n", PureFTPd},
		{"pyftpdlib FEAT", "220 hello\r\n", "", "211-Features supported:\r\n EPRT\r\n EPSV\r\n MDTM\r\n211 End FEAT.\r\n", Pyftpdlib},
		{"proftpd FEAT", "220 hello\r\n", "", "211-Features:\r\n CLNT\r\n CSID\r\n EPRT\r\n EPSV\r\n RANG STREAM\r\n REST STREAM\r\n211 End\r\n", ProFTPD},
		{"twisted FEAT", "220 hello\r\n", "", "211-Features:\r\n FEAT\r\n MDTM\r\n PASV\r\n SIZE\r\n TYPE A;I\r\n211 End\r\n", Twisted},
		{"inetutils FEAT", "220 hello\r\n", "", "211- Supported extensions:\r\n MDTM\r\n SIZE\r\n REST STREAM\r\n EPRT\r\n EPSV\r\n LPRT\r\n LPSV\r\n211 End\r\n", Inetutils},
		{"vsftpd FEAT", "220 hello\r\n", "", "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n", Vsftpd},
		{"unknown", "220 hello\r\n", "215 UNIX Type: L8\r\n", "211-Features:\r\n SIZE\r\n211 End\r\n", UnknownSoftware},
		{"nothing", "", "", "", UnknownSoftware},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := IdentifySoftware(c.greeting, c.syst, c.feat); got != c.want {
				t.Errorf("IdentifySoftware = %q, want %q", got, c.want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	cases := []struct {
		sw           Software
		address, rng string
	}{
		{Vsftpd, "vsftpd: pasv_address=127.0.0.1", "vsftpd: pasv_min_port=30000, pasv_max_port=30009"},
		{ProFTPD, "proftpd: MasqueradeAddress 127.0.0.1", "proftpd: PassivePorts 30000 30009"},
		{PureFTPd, "pure-ftpd: -P 127.0.0.1 (ForcePassiveIP)", "pure-ftpd: -p 30000:30009 (PassivePortRange)"},
		{Pyftpdlib, `pyftpdlib: handler.masquerade_address = "127.0.0.1"`, "pyftpdlib: handler.passive_ports = range(30000, 30009+1)"},
		{Ftpserverlib, `ftpserverlib: Settings.PublicHost = "127.0.0.1"`, "ftpserverlib: Settings.PassiveTransferPortRange = {Start: 30000, End: 30009}"},
		{Goftp, `goftp: Options.PublicIP = "127.0.0.1"`, `goftp: Options.PassivePorts = "30000-30009"`},
		{Twisted, "twisted has no setting for the address", "twisted: FTPFactory.passivePortRange = range(30000, 30009+1)"},
		{Inetutils, "inetutils ftpd has no setting", "inetutils ftpd has no setting"},
	}
	for _, c := range cases {
		t.Run(string(c.sw), func(t *testing.T) {
			if got := AddressSetting(c.sw, "127.0.0.1"); !strings.HasPrefix(got, c.address) {
				t.Errorf("AddressSetting = %q, want prefix %q", got, c.address)
			}
			if got := RangeSetting(c.sw, 30000, 30009); !strings.HasPrefix(got, c.rng) {
				t.Errorf("RangeSetting = %q, want prefix %q", got, c.rng)
			}
		})
	}
	// Unknown: every server that has a setting is listed, briefly.
	all := AddressSetting(UnknownSoftware, "127.0.0.1")
	for _, want := range []string{"vsftpd pasv_address", "proftpd MasqueradeAddress", "pure-ftpd -P", "pyftpdlib masquerade_address", "ftpserverlib PublicHost", "goftp PublicIP"} {
		if !strings.Contains(all, want) {
			t.Errorf("AddressSetting(unknown) = %q, missing %q", all, want)
		}
	}
	rng := RangeSetting(UnknownSoftware, 30000, 30009)
	for _, want := range []string{"vsftpd pasv_min_port/pasv_max_port", "proftpd PassivePorts", "pure-ftpd -p lo:hi", "pyftpdlib passive_ports", "ftpserverlib PassiveTransferPortRange", "goftp PassivePorts"} {
		if !strings.Contains(rng, want) {
			t.Errorf("RangeSetting(unknown) = %q, missing %q", rng, want)
		}
	}
}

func TestAddressAdvice(t *testing.T) {
	ip := net.ParseIP
	cases := []struct {
		name              string
		sw                Software
		adv, dialed, want string
		msg               string
	}{
		{"container address", Vsftpd, "172.17.0.2", "127.0.0.1", "127.0.0.1",
			"server advertised 172.17.0.2 in 227 but the control connection goes to 127.0.0.1: the server is behind NAT or in a container and advertises its own address; set the address it advertises to 127.0.0.1 — vsftpd: pasv_address=127.0.0.1"},
		{"declared public address", ProFTPD, "172.17.0.2", "127.0.0.1", "203.0.113.7",
			"server advertised 172.17.0.2 in 227 but the control connection goes to 127.0.0.1: the server is behind NAT or in a container and advertises its own address; set the address it advertises to 203.0.113.7 (the declared --ftp.pasv-address) — proftpd: MasqueradeAddress 203.0.113.7"},
		{"wildcard", Pyftpdlib, "0.0.0.0", "192.0.2.10", "192.0.2.10",
			`server advertised 0.0.0.0 in 227 (its wildcard listening address, which no client can connect to) but the control connection goes to 192.0.2.10: set the address it advertises to 192.0.2.10 — pyftpdlib: handler.masquerade_address = "192.0.2.10"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AddressAdvice(c.sw, ip(c.adv), ip(c.dialed), ip(c.want)); got != c.msg {
				t.Errorf("got  %s\nwant %s", got, c.msg)
			}
		})
	}
}

func TestPortAdvice(t *testing.T) {
	refused := fmt.Errorf("dial tcp 127.0.0.1:30007: connect: %w", syscall.ECONNREFUSED)
	cases := []struct {
		name     string
		rng      string
		sw       Software
		target   string
		contains []string
		absent   []string
	}{
		{"no declared range", "", Goftp, "127.0.0.1:30007", []string{
			"nothing accepted a connection at 127.0.0.1:30007, the port the 227 advertised (connection refused); if the server runs in a container or behind NAT/a firewall, port 30007 is not published/forwarded: publish the whole passive range one-to-one (e.g. docker run -p 30000-30009:30000-30009) and set the same range in the server (goftp: Options.PassivePorts = \"30000-30009\")",
		}, []string{"outside"}},
		{"declared range", "31000-31019", PureFTPd, "127.0.0.1:31007", []string{
			"port 31007 is not published/forwarded", "docker run -p 31000-31019:31000-31019", "pure-ftpd: -p 31000:31019 (PassivePortRange)",
		}, []string{"outside"}},
		{"shifted ports", "31000-31009", Vsftpd, "127.0.0.1:30007", []string{
			"nothing accepted a connection at 127.0.0.1:30007, the port the 227 advertised (connection refused); port 30007 is outside the declared range 31000-31009: the server advertises its own (container-side) ports, so the mapping must be one-to-one (e.g. docker run -p 31000-31009:31000-31009, the same range set in the server: vsftpd: pasv_min_port=31000, pasv_max_port=31009) or the server must be told the external ports",
		}, []string{"not published"}},
	}
	defer SetConfig(Config())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := target.Defaults()
			cfg.PasvRange = c.rng
			SetConfig(cfg)
			got := PortAdvice(c.sw, c.target, "227", refused)
			for _, w := range c.contains {
				if !strings.Contains(got, w) {
					t.Errorf("%s\nmissing %q", got, w)
				}
			}
			for _, w := range c.absent {
				if strings.Contains(got, w) {
					t.Errorf("%s\nshould not contain %q", got, w)
				}
			}
		})
	}
	want := "ports 30007,30002 are outside the declared range 31000-31009: if the server runs in a container or behind NAT that maps ports, the server advertises its own (container-side) ports, so the mapping must be one-to-one (docker run -p 31000-31009:31000-31009, the same range set in the server: proftpd: PassivePorts 31000 31009) or the server must be told the external ports"
	if got := RangeAdvice(ProFTPD, 31000, 31009, []int{30007, 30002}); got != want {
		t.Errorf("RangeAdvice:\ngot  %s\nwant %s", got, want)
	}
	if got := ShortPortList([]int{1, 2, 3, 4}, 3); got != "1,2,3,…" {
		t.Errorf("ShortPortList = %q", got)
	}
}

// On an FTPS target every advice adds why no NAT/firewall helper can fix
// the reply, and the port advice the firewall rule for the passive range;
// in plaintext neither appears (the texts above are unchanged).
func TestAdviceTLS(t *testing.T) {
	const tlsSentence = "; under TLS no NAT or firewall helper (nf_conntrack_ftp, router FTP ALGs) can read the encrypted 227/229 (RFC 4217), so only the server setting fixes it"
	rules := func(lo, hi int) []string {
		return []string{
			fmt.Sprintf("nft add rule inet filter input tcp dport %d-%d accept", lo, hi),
			fmt.Sprintf("iptables -A INPUT -p tcp --dport %d:%d -j ACCEPT", lo, hi),
		}
	}
	refused := fmt.Errorf("dial tcp 127.0.0.1:30007: connect: %w", syscall.ECONNREFUSED)
	ip := net.ParseIP
	advice := func() map[string]string {
		return map[string]string{
			"AddressAdvice": AddressAdvice(Vsftpd, ip("172.17.0.2"), ip("127.0.0.1"), ip("127.0.0.1")),
			"PortAdvice":    PortAdvice(ProFTPD, "127.0.0.1:30007", "229", refused),
			"RangeAdvice":   RangeAdvice(PureFTPd, 31000, 31009, []int{30007}),
		}
	}
	defer SetConfig(Config())
	for _, mode := range []string{"off", "explicit", "implicit"} {
		for _, rng := range []string{"", "31000-31009"} {
			cfg := target.Defaults()
			cfg.TLS, cfg.PasvRange = mode, rng
			SetConfig(cfg)
			lo, hi := 30000, 30009 // rangeExample
			if rng != "" {
				lo, hi = 31000, 31009
			}
			for name, got := range advice() {
				want := map[string]bool{tlsSentence: mode != "off"}
				flo, fhi := lo, hi
				if name == "RangeAdvice" { // its range is its arguments
					flo, fhi = 31000, 31009
				}
				for _, r := range rules(flo, fhi) {
					want[r] = mode != "off" && name != "AddressAdvice"
				}
				for text, present := range want {
					if strings.Contains(got, text) != present {
						t.Errorf("tls=%s range=%q %s: contains %q = %v, want %v\n%s", mode, rng, name, text, !present, present, got)
					}
				}
				if mode == "off" && (strings.Contains(got, "TLS") || strings.Contains(got, "nft ")) {
					t.Errorf("tls=off %s mentions TLS or a firewall rule: %s", name, got)
				}
			}
		}
	}
	// the sentence comes once, after the server's own setting it refers to
	cfg := target.Defaults()
	cfg.TLS = "explicit"
	SetConfig(cfg)
	got := AddressAdvice(ProFTPD, ip("172.17.0.2"), ip("127.0.0.1"), ip("203.0.113.7"))
	want := "server advertised 172.17.0.2 in 227 but the control connection goes to 127.0.0.1: the server is behind NAT or in a container and advertises its own address; set the address it advertises to 203.0.113.7 (the declared --ftp.pasv-address) — proftpd: MasqueradeAddress 203.0.113.7" + tlsSentence
	if got != want {
		t.Errorf("AddressAdvice under TLS:\ngot  %s\nwant %s", got, want)
	}
}

// Under FTPS the port advice, the longest advice there is, leaves room in
// a verdict's one-line reason (report.MaxReason) for the probe's findings
// that callers append (~200 characters: which ports of more PASVs
// accepted), for every server's range setting.
func TestPortAdviceTLSLeavesRoom(t *testing.T) {
	defer SetConfig(Config())
	cfg := target.Defaults()
	cfg.TLS, cfg.PasvRange = "explicit", "31000-31009"
	SetConfig(cfg)
	refused := fmt.Errorf("dial tcp 127.0.0.1:30007: connect: %w", syscall.ECONNREFUSED)
	for _, sw := range []Software{Vsftpd, ProFTPD, PureFTPd, Pyftpdlib, Ftpserverlib, Goftp, Twisted, Inetutils, UnknownSoftware} {
		got := PortAdvice(sw, "127.0.0.1:30007", "229", refused)
		if len(got)+200 > report.MaxReason {
			t.Errorf("%q: PortAdvice under TLS is %d characters, leaving under 200 of a verdict reason's %d for the probe's findings:\n%s", sw, len(got), report.MaxReason, got)
		}
	}
}
