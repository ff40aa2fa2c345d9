package faulty

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
)

func TestRegistry(t *testing.T) {
	want := []string{
		"pasv-wrong-address", "pasv-port-outside-range", "pasv-low-port", "pasv-five-numbers",
		"pasv-number-over-255", "pasv-no-parens", "epsv-bad-delimiters", "pasv-answers-229",
		"pasv-accept-foreign", "pasv-keep-old-listener", "pasv-shared-port", "pasv-leak-unused",
		"pasv-sequential-ports", "exhaust-outside-range", "exhaust-stall", "seq-pasv-before-login",
		"seq-unknown-200", "seq-rnto-without-rnfr", "seq-pasv-after-epsv-all", "seq-epsv-all-forgotten",
		"reply-multiline-code", "reply-missing-cr", "reply-split-segments", "reply-stall", "reply-double-500", "pasv-port-cooldown",
		"data-truncate", "data-flip-byte", "data-early-226", "data-no-226",
		"pasv-advertise-foreign", "pasv-port-unpublished", "pasv-port-shift",
		"ascii-double-cr", "abor-plain-ignored", "stat-path-211", "epsv-all-refused", "abor-drops-session", "abor-deferred",
		"host-ok-200", "host-after-login-accepted", "host-port-accepted", "host-unknown-accepted", "host-repeat-refused",
		"seq-args-ignored", "seq-rest-garbage-zero", "seq-port-refusal-200", "seq-pass-refusal-230", "seq-user-unknown-530",
		"seq-greeting-repeated", "seq-quit-keeps-open", "seq-type-refusal-200", "seq-rnfr-missing-350", "reply-pwd-250", "reply-257-unquoted",
		"active-port-dropped", "seq-opts-refusal-200", "seq-unimplemented-200", "seq-type-params-504",
		"data-failure-226", "xfer-quit-drops-transfer",
		"tls-data-cleartext", "tls-data-fresh-hang", "tls-auth-no-handshake", "tls-pbsz-order-ignored",
		"tls-legacy-versions", "tls-feat-unadvertised", "tls-login-survives-auth",
		"tls-cert-self-signed", "tls-cert-wrong-name", "tls-cert-expired",
		"tls-reauth-200", "tls-prot-level-200", "tls-ccc-fake-200", "tls-rein-reply-cleartext", "tls-required-user-accepted",
		"pasv-v6-malformed-227",
	}
	if got := len(Names()); got != len(want) {
		t.Errorf("%d faults registered, want %d: %v", got, len(want), Names())
	}
	for _, n := range want {
		f, ok := Lookup(n)
		if !ok {
			t.Errorf("fault %s not registered", n)
			continue
		}
		if f.Doc == "" || strings.Contains(f.Doc, "\n") {
			t.Errorf("%s: want a one-line doc, got %q", n, f.Doc)
		}
	}
	if _, ok := Lookup("no-such-fault"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
}

func mustPassive(t *testing.T, c *ftp.Conn, epsv bool) (ftp.Endpoint, ftp.Reply) {
	t.Helper()
	ep, r, err := c.Passive(tctx(t), epsv)
	if err != nil {
		t.Fatalf("passive: %v (%s)", err, r)
	}
	return ep, r
}

// listOver runs LIST over a connection to ep under policy.
func listOver(t *testing.T, c *ftp.Conn, ep ftp.Endpoint, policy ftp.AddrPolicy) ftp.TransferResult {
	t.Helper()
	nc, err := c.DialData(tctx(t), ep, ftp.DataOptions{Policy: policy})
	if err != nil {
		t.Fatalf("data connection to %s: %v", ep, err)
	}
	return c.Transfer(tctx(t), nc, "LIST", nil, nil)
}

func TestPasvWrongAddress(t *testing.T) {
	_, tg := withFault(t, "pasv-wrong-address")
	c := login(t, tg)
	ep, r := mustPassive(t, c, false)
	if !ep.IP.Equal(net.ParseIP("127.0.0.2")) {
		t.Fatalf("227 advertises %s, want 127.0.0.2: %s", ep.IP, r)
	}
	// Both dialling policies still reach a working listener.
	if res := listOver(t, c, ep, ftp.Strict); !res.OK() {
		t.Errorf("LIST via the advertised address: %s", res)
	}
	ep, _ = mustPassive(t, c, false)
	if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
		t.Errorf("LIST via the control host: %s", res)
	}
}

func TestPortOutsideRange(t *testing.T) {
	for _, name := range []string{"pasv-port-outside-range", "pasv-low-port"} {
		t.Run(name, func(t *testing.T) {
			p, tg := withFault(t, name)
			c := login(t, tg)
			for _, epsv := range []bool{false, true} {
				ep, r := mustPassive(t, c, epsv)
				if inRange(p, ep.Port) {
					t.Errorf("%s: port %d inside %s", r, ep.Port, p.RangeString())
				}
				if name == "pasv-low-port" && ep.Port >= 1024 {
					t.Errorf("%s: port %d not below 1024", r, ep.Port)
				}
				if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
					t.Errorf("LIST: %s", res)
				}
			}
		})
	}
}

func TestMalformed227(t *testing.T) {
	for name, want := range map[string]string{
		"pasv-five-numbers":    "no six comma-separated numbers",
		"pasv-number-over-255": "exceeds 255",
	} {
		t.Run(name, func(t *testing.T) {
			_, tg := withFault(t, name)
			c := login(t, tg)
			_, r, err := c.Passive(tctx(t), false)
			if r.Code != 227 || err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("PASV: %s, %v; want 227 that does not parse (%s)", r, err, want)
			}
			// EPSV is untouched.
			ep, _ := mustPassive(t, c, true)
			if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
				t.Errorf("LIST over EPSV: %s", res)
			}
		})
	}
}

func TestPasvNoParens(t *testing.T) {
	p, tg := withFault(t, "pasv-no-parens")
	c := login(t, tg)
	ep, r := mustPassive(t, c, false)
	if strings.ContainsAny(r.Text(), "()") || !inRange(p, ep.Port) {
		t.Fatalf("227 %q: want no parentheses and an in-range port", r.Text())
	}
	roundTrip(t, p, c, false, payload(5000))
}

func TestEPSVBadDelimiters(t *testing.T) {
	_, tg := withFault(t, "epsv-bad-delimiters")
	c := login(t, tg)
	_, r, err := c.Passive(tctx(t), true)
	if r.Code != 229 || err == nil || !strings.Contains(r.Text(), "(||") {
		t.Fatalf("EPSV: %s, %v; want a 229 that does not parse", r, err)
	}
	if _, err := ftp.ParseEPSV(r.Text()); err == nil {
		t.Fatal("ParseEPSV accepted it")
	}
	ep, _ := mustPassive(t, c, false)
	if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
		t.Errorf("LIST over PASV: %s", res)
	}
}

func TestPasvAnswers229(t *testing.T) {
	_, tg := withFault(t, "pasv-answers-229")
	c := login(t, tg)
	r, err := c.Cmd(tctx(t), "PASV")
	if err != nil || r.Code != 229 {
		t.Fatalf("PASV: %s %v; want 229", r, err)
	}
	port, err := ftp.ParseEPSV(r.Text())
	if err != nil {
		t.Fatal(err)
	}
	if res := listOver(t, c, ftp.Endpoint{Port: port}, ftp.ControlHost); !res.OK() {
		t.Errorf("LIST: %s", res)
	}
}

// foreignRetr stores a file, then fetches it over a data connection made
// from 127.0.0.2 and returns what arrived.
func foreignRetr(t *testing.T, tg target.Config) ftp.TransferResult {
	c := login(t, tg)
	name := fname(t)
	if res, _ := xfer(t, c, false, "STOR "+name, []byte("secret\n")); !res.OK() {
		t.Fatalf("STOR: %s", res)
	}
	ep, _ := mustPassive(t, c, false)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	nc, err := c.DialData(ctx, ep, ftp.DataOptions{LocalIP: net.ParseIP("127.0.0.2")})
	if err != nil {
		return ftp.TransferResult{Err: err}
	}
	return c.Transfer(ctx, nc, "RETR "+name, nil, nil)
}

func TestAcceptForeign(t *testing.T) {
	for _, server := range []string{"pyftpdlib", "vsftpd"} {
		t.Run(server, func(t *testing.T) {
			_, clean := proxied(t, server)
			if res := foreignRetr(t, clean); res.Bytes > 0 || res.OK() {
				t.Fatalf("without the fault the foreign peer got data: %s", res)
			}
			_, faulty := proxied(t, server, WithFaults(MustLookup("pasv-accept-foreign")))
			if res := foreignRetr(t, faulty); res.Bytes != 7 || !res.OK() {
				t.Fatalf("with the fault the foreign peer should get the file: %s", res)
			}
		})
	}
}

// staleConnects reports whether the first of two passive listeners still
// accepts connections.
func staleConnects(t *testing.T, tg target.Config) bool {
	c := login(t, tg)
	a, _ := mustPassive(t, c, false)
	mustPassive(t, c, true)
	nc, err := net.DialTimeout("tcp", c.DataTarget(a, ftp.ControlHost), time.Second)
	if err != nil {
		return false
	}
	nc.Close()
	return true
}

func TestKeepOldListener(t *testing.T) {
	// pyftpdlib closes the first listener (ftpserverlib does not: the
	// proxy mirrors that, so it cannot show the fault).
	_, clean := proxied(t, "pyftpdlib")
	if staleConnects(t, clean) {
		t.Fatal("without the fault the first listener accepted a connection")
	}
	_, faulty := proxied(t, "pyftpdlib", WithFaults(MustLookup("pasv-keep-old-listener")))
	if !staleConnects(t, faulty) {
		t.Fatal("with the fault the first listener refused")
	}
}

func TestSharedPort(t *testing.T) {
	p, tg := withFault(t, "pasv-shared-port")
	a, b := login(t, tg), login(t, tg)
	epA, _ := mustPassive(t, a, false)
	epB, _ := mustPassive(t, b, false)
	lo, _ := p.Range()
	if epA.Port != epB.Port || epA.Port != lo {
		t.Fatalf("ports %d and %d, want both %d", epA.Port, epB.Port, lo)
	}
	for _, c := range []*ftp.Conn{b, a} {
		if res := listOver(t, c, epA, ftp.ControlHost); !res.OK() {
			t.Errorf("LIST: %s", res)
		}
	}
}

func TestLeakUnused(t *testing.T) {
	accepts := func(t *testing.T, tg target.Config) bool {
		c := login(t, tg)
		ep, _ := mustPassive(t, c, false)
		c.Quit(tctx(t))
		c.Close()
		time.Sleep(300 * time.Millisecond)
		nc, err := net.DialTimeout("tcp", c.DataTarget(ep, ftp.ControlHost), time.Second)
		if err != nil {
			t.Logf("%s: %v", ep, err)
			return false
		}
		nc.Close()
		return true
	}
	_, clean := proxied(t, "ftpserverlib")
	if accepts(t, clean) {
		t.Fatal("without the fault the listener outlived its session")
	}
	_, tg := withFault(t, "pasv-leak-unused")
	if !accepts(t, tg) {
		t.Fatal("with the fault the unused listener was closed")
	}
}

func TestSequentialPorts(t *testing.T) {
	p, tg := withFault(t, "pasv-sequential-ports")
	lo, _ := p.Range()
	var got []int
	for i := 0; i < 3; i++ {
		c := login(t, tg)
		ep, _ := mustPassive(t, c, i%2 == 1)
		got = append(got, ep.Port)
	}
	if got[0] != lo || got[1] != lo+1 || got[2] != lo+2 {
		t.Fatalf("ports %v, want %d, %d, %d", got, lo, lo+1, lo+2)
	}
}

// exhaust holds the proxy's only passive port with one session and asks
// for another with a second.
func exhaust(t *testing.T, fault string) (*Proxy, ftp.Reply, error) {
	lo, hi, l, err := allocRange(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.release)
	opts := []Option{ProxyRange(lo, hi)}
	if fault != "" {
		opts = append(opts, WithFaults(MustLookup(fault)))
	}
	p, tg := proxied(t, "ftpserverlib", opts...)
	a, b := login(t, tg), login(t, tg)
	mustPassive(t, a, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, r, err := b.Passive(ctx, false)
	return p, r, err
}

func TestExhaustion(t *testing.T) {
	t.Run("clean", func(t *testing.T) {
		_, r, _ := exhaust(t, "")
		if r.Code != 425 {
			t.Fatalf("PASV with the pool full: %s, want 425", r)
		}
	})
	t.Run("exhaust-outside-range", func(t *testing.T) {
		p, r, err := exhaust(t, "exhaust-outside-range")
		if err != nil {
			t.Fatalf("PASV: %s %v", r, err)
		}
		ep, _ := ftp.ParsePASV(r.Text())
		if inRange(p, ep.Port) {
			t.Fatalf("port %d is inside %s", ep.Port, p.RangeString())
		}
	})
	t.Run("exhaust-stall", func(t *testing.T) {
		_, r, err := exhaust(t, "exhaust-stall")
		if !ftp.IsTimeout(err) {
			t.Fatalf("PASV: %s %v, want no reply", r, err)
		}
	})
}

func TestPasvBeforeLogin(t *testing.T) {
	_, tg := withFault(t, "seq-pasv-before-login")
	c := dial(t, tg)
	if _, _, err := c.Passive(tctx(t), false); err != nil {
		t.Fatalf("PASV before login: %v", err)
	}
	if _, _, err := c.Passive(tctx(t), true); err != nil {
		t.Fatalf("EPSV before login: %v", err)
	}
	// after login the server answers again, and the session is in sync
	if err := c.Login(tctx(t), tg.User, tg.Password); err != nil {
		t.Fatal(err)
	}
	ep, _ := mustPassive(t, c, false)
	if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
		t.Errorf("LIST: %s", res)
	}
}

func TestLocalAnswers(t *testing.T) {
	for fault, cmds := range map[string][][2]string{
		"seq-unknown-200":       {{"XYZZ", "200"}, {"NOOP", "200"}, {"XYZZ", "200"}},
		"seq-rnto-without-rnfr": {{"RNTO nothing", "250"}, {"RNFR nosuchfile", "550"}, {"RNTO x", "503"}, {"NOOP", "200"}, {"RNTO y", "250"}},
	} {
		t.Run(fault, func(t *testing.T) {
			_, tg := withFault(t, fault)
			c := login(t, tg)
			for _, x := range cmds {
				r, err := c.Cmd(tctx(t), x[0])
				if err != nil || !strings.HasPrefix(r.String(), x[1]) {
					t.Errorf("%s: %s %v, want %s", x[0], r, err, x[1])
				}
			}
		})
	}
	// pipelined: the local answer keeps its place among the server's
	_, tg := withFault(t, "seq-unknown-200")
	c := login(t, tg)
	if err := c.WriteRaw(tctx(t), []byte("PWD\r\nXYZZ\r\nSYST\r\n")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{257, 200, 215} {
		if r, err := c.ReadReply(tctx(t)); err != nil || r.Code != want {
			t.Errorf("pipelined: %s %v, want %d", r, err, want)
		}
	}
}

func TestEPSVAll(t *testing.T) {
	pasvAfter := func(t *testing.T, tg target.Config, abor bool) ftp.Reply {
		c := login(t, tg)
		if r, err := c.Cmd(tctx(t), "EPSV", "ALL"); err != nil || r.Class() != 2 {
			t.Fatalf("EPSV ALL: %s %v", r, err)
		}
		if abor {
			if r, err := c.Cmd(tctx(t), "PASV"); err != nil || r.Class() != 5 {
				t.Fatalf("PASV before ABOR: %s %v, want 5xx", r, err)
			}
			c.Cmd(tctx(t), "ABOR")
		}
		ep, r, err := c.Passive(tctx(t), false)
		if err == nil {
			if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
				t.Errorf("LIST over the PASV accepted after EPSV ALL: %s", res)
			}
		}
		return r
	}
	_, clean := proxied(t, "pyftpdlib")
	if r := pasvAfter(t, clean, true); r.Class() != 5 {
		t.Fatalf("without faults: PASV after EPSV ALL and ABOR: %s", r)
	}
	_, tg := proxied(t, "pyftpdlib", WithFaults(MustLookup("seq-pasv-after-epsv-all")))
	if r := pasvAfter(t, tg, false); r.Code != 227 {
		t.Errorf("seq-pasv-after-epsv-all: PASV got %s", r)
	}
	_, tg = proxied(t, "pyftpdlib", WithFaults(MustLookup("seq-epsv-all-forgotten")))
	if r := pasvAfter(t, tg, true); r.Code != 227 {
		t.Errorf("seq-epsv-all-forgotten: PASV after ABOR got %s", r)
	}
}

func hasProblem(c *ftp.Conn, s string) bool {
	for _, r := range c.Problems() {
		for _, p := range r.Problems {
			if strings.Contains(p, s) {
				return true
			}
		}
	}
	return false
}

func TestReplyFaults(t *testing.T) {
	t.Run("reply-multiline-code", func(t *testing.T) {
		_, tg := withFault(t, "reply-multiline-code")
		c := login(t, tg, ftp.WithStrictReplies(false))
		r, err := c.Cmd(tctx(t), "FEAT")
		if err != nil || r.Code != 211 || !hasProblem(c, "ended with code") {
			t.Fatalf("FEAT: %s %v; problems %v", r, err, c.Problems())
		}
		last := r.Lines[len(r.Lines)-1]
		if strings.HasPrefix(last, "211") {
			t.Errorf("last line %q still has the code", last)
		}
	})
	t.Run("reply-missing-cr", func(t *testing.T) {
		_, tg := withFault(t, "reply-missing-cr")
		c := login(t, tg, ftp.WithStrictReplies(false))
		if !hasProblem(c, "without CR") {
			t.Fatalf("no bare LF seen: %v", c.Problems())
		}
	})
	t.Run("reply-split-segments", func(t *testing.T) {
		p, tg := withFault(t, "reply-split-segments")
		c := login(t, tg, ftp.WithStrictReplies(true))
		roundTrip(t, p, c, false, payload(3000))
		if len(c.Problems()) > 0 {
			t.Errorf("problems: %v", c.Problems())
		}
	})
	t.Run("reply-double-500", func(t *testing.T) {
		_, tg := withFault(t, "reply-double-500")
		c := login(t, tg, ftp.WithReplyPairing(100*time.Millisecond))
		r, err := c.Cmd(tctx(t), "XYZZ")
		if err != nil || (r.Code != 500 && r.Code != 501) {
			t.Fatalf("XYZZ: %s %v, want 500/501", r, err)
		}
		if r, err := c.Cmd(tctx(t), "NOOP"); err != nil || r.Code != 200 {
			t.Fatalf("NOOP: %s %v", r, err)
		}
		if u := c.Unsolicited(); len(u) != 1 || u[0].After != "XYZZ" || u[0].Reply.Code != r.Code {
			t.Fatalf("unsolicited %v, want the 500 of XYZZ once more", u)
		}
	})
	t.Run("reply-stall", func(t *testing.T) {
		_, tg := withFault(t, "reply-stall", StallFor(1500*time.Millisecond))
		c := login(t, tg)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if r, err := c.Cmd(ctx, "NOOP"); !ftp.IsTimeout(err) {
			t.Fatalf("NOOP: %s %v, want a timeout", r, err)
		}
	})
}

func TestDataFaults(t *testing.T) {
	data := payload(100000)
	get := func(t *testing.T, tg target.Config) (ftp.TransferResult, []byte) {
		c := login(t, tg)
		if res, _ := xfer(t, c, false, "STOR "+fname(t), data); !res.OK() {
			t.Fatalf("STOR: %s", res)
		}
		return xfer(t, c, true, "RETR "+fname(t), nil)
	}
	t.Run("data-truncate", func(t *testing.T) {
		_, tg := withFault(t, "data-truncate")
		res, got := get(t, tg)
		if !res.OK() || !bytes.Equal(got, data[:len(data)-1]) {
			t.Fatalf("%s: got %d bytes, want %d and 226", res, len(got), len(data)-1)
		}
	})
	t.Run("data-flip-byte", func(t *testing.T) {
		_, tg := withFault(t, "data-flip-byte")
		res, got := get(t, tg)
		n := len(data)
		if !res.OK() || len(got) != n || !bytes.Equal(got[:n-1], data[:n-1]) || got[n-1] != data[n-1]^1 {
			t.Fatalf("%s: want the same bytes but the last flipped", res)
		}
	})
	t.Run("data-early-226", func(t *testing.T) {
		_, clean := proxied(t, "ftpserverlib")
		c := login(t, clean)
		xfer(t, c, false, "STOR "+fname(t), data[:5000])
		if closed, _ := closedBeforeReply(t, c, fname(t)); !closed {
			t.Fatal("without the fault the data connection was still open at 226")
		}
		_, tg := withFault(t, "data-early-226")
		c = login(t, tg)
		xfer(t, c, false, "STOR "+fname(t), data[:5000])
		if closed, r := closedBeforeReply(t, c, fname(t)); closed || r.Code != 226 {
			t.Fatalf("with the fault: closed=%v before %s", closed, r)
		}
	})
	t.Run("data-no-226", func(t *testing.T) {
		_, tg := withFault(t, "data-no-226")
		c := login(t, tg)
		nc, _, err := c.OpenPassive(tctx(t), false, ftp.DataOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		res := c.Transfer(ctx, nc, "STOR "+fname(t), bytes.NewReader(data), nil)
		if !ftp.IsTimeout(res.Err) || len(res.Replies) != 1 {
			t.Fatalf("STOR: %s; want 150 and then nothing", res)
		}
	})
}

// refused reports whether a plain TCP connection to addr is refused.
func refused(t *testing.T, addr string) bool {
	t.Helper()
	nc, err := ftp.DialTCP(tctx(t), addr, nil)
	if err == nil {
		nc.Close()
		return false
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect %s: %v (want accepted or refused)", addr, err)
	}
	return true
}

func TestAdvertiseForeign(t *testing.T) {
	p, tg := withFault(t, "pasv-advertise-foreign")
	c := login(t, tg)
	ep, r := mustPassive(t, c, false)
	if !ep.IP.Equal(net.ParseIP("127.77.88.99")) || !inRange(p, ep.Port) {
		t.Fatalf("227 %q: want 127.77.88.99 and a port in %s", r.Raw, p.RangeString())
	}
	if !refused(t, c.DataTarget(ep, ftp.Strict)) {
		t.Errorf("something accepts at the advertised %s", ep)
	}
	// the port works at the control address, as a published port does
	ep, _ = mustPassive(t, c, false)
	if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
		t.Errorf("LIST via the control host: %s", res)
	}
}

func TestPortUnpublished(t *testing.T) {
	p, tg := withFault(t, "pasv-port-unpublished")
	lo, _ := p.Range()
	c := login(t, tg)
	for i := 1; i <= 6; i++ {
		epsv := i%3 == 0
		ep, r := mustPassive(t, c, epsv)
		if !inRange(p, ep.Port) {
			t.Fatalf("passive #%d %q: port outside %s", i, r.Raw, p.RangeString())
		}
		wantRefused := i%2 == 0
		if got := (ep.Port-lo)%2 == 1; got != wantRefused {
			t.Errorf("passive #%d: port %d at offset %d, want an %s offset", i, ep.Port, ep.Port-lo, map[bool]string{true: "odd", false: "even"}[wantRefused])
		}
		if wantRefused {
			if !refused(t, c.DataTarget(ep, ftp.ControlHost)) {
				t.Errorf("passive #%d: unpublished port %d accepts", i, ep.Port)
			}
			continue
		}
		if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
			t.Errorf("passive #%d: LIST over published port %d: %s", i, ep.Port, res)
		}
	}
}

func TestPortShift(t *testing.T) {
	p, tg := withFault(t, "pasv-port-shift")
	lo, hi := p.Range()
	c := login(t, tg)
	offset := 0
	for i, epsv := range []bool{false, true, false} {
		ep, r := mustPassive(t, c, epsv)
		if inRange(p, ep.Port) {
			t.Fatalf("%q: port %d inside the proxy range %s", r.Raw, ep.Port, p.RangeString())
		}
		// the advertised port is the listening one plus a constant offset
		off := ep.Port - p.shadowLo
		if off < 0 || off > hi-lo {
			t.Fatalf("%q: port %d not in the shadow range", r.Raw, ep.Port)
		}
		if i == 0 {
			offset = p.shadowLo - lo
		}
		if p.shadowLo-lo != offset {
			t.Errorf("offset changed")
		}
		if !refused(t, c.DataTarget(ep, ftp.ControlHost)) {
			t.Errorf("%q: something accepts at the advertised port", r.Raw)
		}
		// what the host publishes: the same offset in the proxy's range
		if res := listOver(t, c, ftp.Endpoint{IP: ep.IP, Port: ep.Port - offset}, ftp.ControlHost); !res.OK() {
			t.Errorf("LIST over the published port %d: %s", ep.Port-offset, res)
		}
	}
}
