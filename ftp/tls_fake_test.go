package ftp

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA and a server certificate for 127.0.0.1 made for one
// test (ftp imports nothing of the project, so not servers/tlscert).
type testPKI struct {
	pool   *x509.CertPool // trusts the CA
	server *tls.Config    // the server side, one Config: tickets work across connections
}

func newTestPKI(t testing.TB, caName string) testPKI {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, leafKey := key(), key()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: caName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "fake ftps", Organization: []string{"ftpharness test"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return testPKI{pool: pool, server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}}
}

// tlsServer is a scripted FTPS server: AUTH TLS, PBSZ, PROT, CCC, login,
// PASV/EPSV and PORT/EPRT (TLS server side on data connections under PROT
// P, as RFC 4217 §7 has it), RETR, STOR, NOOP, QUIT.
type tlsServer struct {
	cfg          *tls.Config
	implicit     bool
	requireReuse bool // refuse a data connection that did not resume (vsftpd)
	noHandshake  bool // answer 234 and never handshake
	after234     string
	slowStore    time.Duration // STOR reads the data connection only after this
	// lateRecord is written on each TLS data connection after the
	// handshake (a stand-in for the session tickets OpenSSL sends then)
	lateRecord []byte
	files      map[string][]byte

	resumed chan bool   // DidResume of each TLS data connection
	stored  chan []byte // STOR payloads
	plain   chan string // commands received in cleartext after AUTH/CCC
}

func newTLSServer(cfg *tls.Config, files map[string][]byte) *tlsServer {
	return &tlsServer{cfg: cfg, files: files, resumed: make(chan bool, 16), stored: make(chan []byte, 16), plain: make(chan string, 16)}
}

// tlsSession is one control connection of a tlsServer.
type tlsSession struct {
	s     *tlsServer
	nc    net.Conn // current control stream (TLS or TCP)
	raw   net.Conn
	br    *bufio.Reader
	prot  bool
	data  func() (net.Conn, error) // opens the data connection (after PASV/PORT)
	close func()
}

func (s *tlsServer) start(t testing.TB) string {
	t.Helper()
	return fakeServer(t, func(c net.Conn) {
		x := &tlsSession{s: s, nc: c, raw: c, br: bufio.NewReader(c)}
		defer func() {
			if x.close != nil {
				x.close()
			}
		}()
		if s.implicit {
			x.secure()
			x.prot = true
		}
		x.say("220 fake ftps ready")
		for x.step() {
		}
	})
}

func (x *tlsSession) say(format string, args ...any) { fmt.Fprintf(x.nc, format+"\r\n", args...) }

func (x *tlsSession) secure() {
	tc := tls.Server(&recordConn{Conn: x.raw}, x.s.cfg)
	x.nc, x.br = tc, bufio.NewReader(tc)
}

// step serves one command; false ends the session.
func (x *tlsSession) step() bool {
	line, err := readCmd(x.br)
	if err != nil {
		return false
	}
	if _, ok := x.nc.(*tls.Conn); !ok {
		select {
		case x.s.plain <- line:
		default:
		}
	}
	verb, arg, _ := strings.Cut(line, " ")
	switch strings.ToUpper(verb) {
	case "AUTH":
		return x.auth()
	case "PBSZ", "NOOP":
		x.say("200 ok")
	case "PROT":
		x.prot = arg == "P"
		x.say("200 PROT %s", arg)
	case "CCC":
		x.say("200 clearing")
		tc := x.nc.(*tls.Conn)
		tc.CloseWrite()
		io.Copy(io.Discard, tc)
		x.raw.SetDeadline(time.Time{}) // CloseWrite left a past write deadline
		x.nc, x.br = x.raw, bufio.NewReader(x.raw)
	case "USER":
		x.say("331 password please")
	case "PASS":
		x.say("230 logged in")
	case "PASV", "EPSV":
		x.passive(verb)
	case "PORT", "EPRT":
		x.active(verb, arg)
	case "RETR":
		x.transfer(func(dc net.Conn) string { dc.Write(x.s.files[arg]); return "226 sent" })
	case "STOR":
		x.transfer(func(dc net.Conn) string {
			time.Sleep(x.s.slowStore)
			b, _ := io.ReadAll(dc)
			x.s.stored <- b
			return fmt.Sprintf("226 stored %d bytes", len(b))
		})
	case "QUIT":
		x.say("221 bye")
		return false
	default:
		x.say("502 %s not implemented", verb)
	}
	return true
}

func (x *tlsSession) auth() bool {
	x.say("234 go ahead%s", x.s.after234)
	if x.s.noHandshake {
		hold(x.raw)
		return false
	}
	x.secure()
	return true
}

func (x *tlsSession) passive(verb string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		x.say("425 %v", err)
		return
	}
	x.close = func() { ln.Close() }
	x.data = func() (net.Conn, error) {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		defer ln.Close()
		return ln.Accept()
	}
	a := ln.Addr().(*net.TCPAddr)
	if verb == "EPSV" {
		x.say("229 %s", FormatEPSV(a.Port))
		return
	}
	x.say("227 %s", FormatPASV(Endpoint{IP: a.IP, Port: a.Port}))
}

func (x *tlsSession) active(verb, arg string) {
	var addr string
	if verb == "EPRT" {
		f := strings.Split(arg, "|")
		addr = net.JoinHostPort(f[2], f[3])
	} else {
		var h [6]int
		fmt.Sscanf(arg, "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &h[4], &h[5])
		addr = fmt.Sprintf("%d.%d.%d.%d:%d", h[0], h[1], h[2], h[3], h[4]*256+h[5])
	}
	x.data = func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }
	x.say("200 %s ok", verb)
}

// transfer opens the data connection (TLS server side under PROT P) and
// runs move on it.
func (x *tlsSession) transfer(move func(net.Conn) string) {
	if x.data == nil {
		x.say("425 use PASV or PORT first")
		return
	}
	x.say("150 opening data connection")
	dc, err := x.data()
	x.data = nil
	if err != nil {
		x.say("425 no data connection: %v", err)
		return
	}
	defer dc.Close()
	if x.prot {
		tc := tls.Server(dc, x.s.cfg)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			x.say("522 data TLS handshake failed: %v", err)
			return
		}
		tc.SetDeadline(time.Time{})
		if x.s.lateRecord != nil {
			tc.Write(x.s.lateRecord)
		}
		x.s.resumed <- tc.ConnectionState().DidResume
		if x.s.requireReuse && !tc.ConnectionState().DidResume {
			x.say("522 SSL connection failed: session reuse required")
			return
		}
		dc = tc
	}
	reply := move(dc)
	dc.Close()
	x.say("%s", reply)
}
