package faulty

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
)

// openTLS logs in to tg (FTPS: PBSZ 0, PROT P) and sets TYPE I.
func openTLS(t *testing.T, tg target.Config) *ftp.Conn {
	t.Helper()
	c, err := tg.Open(tctx(t))
	if err != nil {
		t.Fatalf("open %s (%s): %v", tg.Addr, tg.TLSNote(), err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Expect(tctx(t), []int{200}, "TYPE", "I"); err != nil {
		t.Fatalf("TYPE I: %v", err)
	}
	return c
}

// The clean TLS proxy is transparent, explicit and implicit, in front of
// ftpserverlib v0.32.3 with TLS: its certificate chains to the proxy's CA,
// data connections are TLS and resume the control session on both legs,
// and STOR/RETR/LIST give the bytes the server has (read back directly).
func TestTLSTransparent(t *testing.T) {
	for _, mode := range []string{"explicit", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			var log logBuf
			p, tg := proxiedTLS(t, "ftpserverlib", mode, WithLogf(log.logf))
			if tg.TLS != mode || tg.TLSCA != p.CAFile() || p.CAFile() == "" {
				t.Fatalf("proxied target %+v", tg)
			}
			c := openTLS(t, tg)
			cs, ok := c.TLSState()
			if !ok || cs.PeerCertificates[0].Issuer.CommonName != "ftpharness faulty proxy CA" {
				t.Fatalf("control TLS %v %v", ok, cs.PeerCertificates)
			}
			direct := openTLS(t, upstreamTLS(t, "ftpserverlib", mode))
			for _, epsv := range []bool{false, true} {
				data := payload(1<<20 + 17)
				name := mode + "-" + map[bool]string{false: "pasv", true: "epsv"}[epsv] + "-" + fname(t)
				res, _ := xfer(t, c, epsv, "STOR "+name, data)
				if !res.OK() || res.TLS == nil || !res.TLS.DidResume {
					t.Fatalf("STOR: %s TLS %+v\n%s", res, res.TLS, c.Transcript())
				}
				res, got := xfer(t, c, epsv, "RETR "+name, nil)
				if !res.OK() || !bytes.Equal(got, data) || res.TLS == nil || !res.TLS.DidResume {
					t.Fatalf("RETR: %s (%d bytes, equal %v)\n%s", res, len(got), bytes.Equal(got, data), c.Transcript())
				}
				res, dgot := xfer(t, direct, epsv, "RETR "+name, nil)
				if !res.OK() || !bytes.Equal(dgot, data) {
					t.Fatalf("direct RETR: %s (%d bytes)", res, len(dgot))
				}
				res, list := xfer(t, c, epsv, "LIST", nil)
				if !res.OK() || !strings.Contains(string(list), name) {
					t.Fatalf("LIST: %s\n%q", res, list)
				}
			}
			if r, err := c.Quit(tctx(t)); err != nil || r.Code != 221 {
				t.Errorf("QUIT: %v %v", r, err)
			}
			if n := strings.Count(log.String(), "client leg resumed true, server leg resumed true"); n != 6 {
				t.Errorf("%d data connections resumed on both legs, want 6:\n%s", n, log.String())
			}
		})
	}
}

// logBuf collects the proxy's log (WithLogf).
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", args...)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// CCC through the proxy (RFC 4217 §5), against proftpd, which accepts it
// under TLS: 200 inside TLS, TLS ends on both sides, the session goes on in
// cleartext with data still protected (PROT P stays), and a STOR/RETR
// round trip works. Skipped where proftpd has no FTPS variant.
func TestTLSCCC(t *testing.T) {
	for _, mode := range []string{"explicit", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			var log logBuf
			_, tg := proxiedTLS(t, "proftpd", mode, WithLogf(log.logf))
			tg.Timeout = 5 * time.Second // how long the client waits for close_notify
			c := openTLS(t, tg)
			r, err := c.CCC(tctx(t))
			if err != nil || r.Code != 200 {
				t.Fatalf("CCC: %v %v\n%s", r, err, c.Transcript())
			}
			if _, ok := c.TLSState(); ok {
				t.Fatal("control connection still TLS after CCC")
			}
			if _, err := c.Expect(tctx(t), []int{200}, "NOOP"); err != nil {
				t.Fatalf("NOOP after CCC: %v\n%s\nproxy:\n%s", err, c.Transcript(), log.String())
			}
			data := payload(300000)
			if res, _ := xfer(t, c, false, "STOR "+fname(t), data); !res.OK() || res.TLS == nil {
				t.Fatalf("STOR after CCC: %s\n%s", res, c.Transcript())
			}
			if res, got := xfer(t, c, true, "RETR "+fname(t), nil); !res.OK() || res.TLS == nil || !bytes.Equal(got, data) {
				t.Fatalf("RETR after CCC: %s\n%s", res, c.Transcript())
			}
			if !strings.Contains(log.String(), "CCC: control connections in cleartext") {
				t.Fatalf("log:\n%s", log.String())
			}
		})
	}
}

// Active mode through the TLS proxy: a PORT/EPRT naming the client is
// pointed at a proxy listener, the server's connection relayed to the
// client with TLS on both legs (the client is the TLS client, RFC 4217
// §7); a STOR/RETR round trip gives the same bytes.
func TestTLSActive(t *testing.T) {
	var log logBuf
	_, tg := proxiedTLS(t, "ftpserverlib", "explicit", WithLogf(log.logf))
	c := openTLS(t, tg)
	data := payload(200000)
	for i, verb := range []string{"PORT", "EPRT", "EPRT"} {
		var sink bytes.Buffer
		cmd := "STOR " + fname(t)
		var up *bytes.Reader
		if i == 0 {
			up = bytes.NewReader(data)
		} else {
			cmd = "RETR " + fname(t)
		}
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		arg := ftp.FormatEPRT(net.IPv4(127, 0, 0, 1), port)
		if verb == "PORT" {
			arg, _ = ftp.FormatPORT(net.IPv4(127, 0, 0, 1), port)
		}
		if _, err := c.Expect(tctx(t), []int{200}, verb, arg); err != nil {
			t.Fatalf("%s: %v", verb, err)
		}
		get := func(ctx context.Context) (net.Conn, error) { return c.AcceptData(ctx, ln, ftp.DataOptions{}) }
		var res ftp.TransferResult
		if up != nil {
			res = c.TransferWith(tctx(t), cmd, get, up, nil, func() { ln.Close() })
		} else {
			res = c.TransferWith(tctx(t), cmd, get, nil, &sink, func() { ln.Close() })
		}
		if !res.OK() || res.TLS == nil || (up == nil && !bytes.Equal(sink.Bytes(), data)) {
			t.Fatalf("%s %s: %s (%d bytes)\n%s", verb, cmd, res, sink.Len(), c.Transcript())
		}
	}
	if n := strings.Count(log.String(), "relayed through"); n != 3 {
		t.Fatalf("%d active connections relayed, want 3:\n%s", n, log.String())
	}
}

// Only well-formed PORT/EPRT arguments are taken over by the proxy; the
// server judges the rest as sent.
func TestParseActive(t *testing.T) {
	for arg, want := range map[string]int{
		"127,0,0,1,4,1": 1025, "127,0,0,1,227,0,1": 0, "127,0,0,1,300,1": 0, "127,0,0,1,4": 0, "127, 0,0,1,4,1": 0,
	} {
		if ep, ok := parseActive("PORT", arg); (ep.Port != want) || ok != (want != 0) {
			t.Errorf("PORT %s: %v %v, want port %d", arg, ep, ok, want)
		}
	}
	for arg, want := range map[string]int{
		"|1|127.0.0.1|1025|": 1025, "!1!127.0.0.1!1026!": 1026, "|2|::1|1025|": 0, "|1|127.0.0.1|1025": 0, "|1|127.0.0.1|+1025|": 0,
	} {
		if ep, ok := parseActive("EPRT", arg); (ep.Port != want) || ok != (want != 0) {
			t.Errorf("EPRT %s: %v %v, want port %d", arg, ep, ok, want)
		}
	}
}
