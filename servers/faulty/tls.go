package faulty

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/ftp/tlscert"
)

// FTPS (RFC 4217) through the proxy: it terminates TLS on both sides. To
// the client it is a TLS server with a certificate from its own test CA
// (CAFile, what the client trusts: --ftp.tls-ca); to the server it is a
// TLS client verifying the server's certificate as told (WithTLS).
//
//   - explicit: AUTH is forwarded; on the server's 234 the proxy
//     handshakes with the server, forwards the 234 and handshakes with the
//     client; PBSZ/PROT are forwarded and the PROT level followed;
//   - implicit: both handshakes before the greeting, PROT P in effect;
//   - data under PROT P: TLS on both legs, the client's first. The client
//     may resume its control session (one server Config, so its tickets
//     hold); the proxy resumes the server's (one session cache per session
//     shared by control and data, as vsftpd's require_ssl_reuse wants).
//
//   - CCC answered 200 under TLS: TLS ends on both sides (close_notify both
//     ways with the server, the 200 forwarded inside TLS, close_notify both
//     ways with the client) and the session goes on in cleartext.
//
// Limit: REIN accepted under TLS keeps TLS on both sides (as pyftpdlib
// does); a server that clears TLS after REIN breaks the session.

// tlsSetup is the proxy's FTPS configuration (nil: cleartext only, the
// proxy relays AUTH and whatever follows as bytes).
type tlsSetup struct {
	mode     ftp.TLSMode
	upstream *tls.Config // towards the server (ServerName, RootCAs or InsecureSkipVerify)
	ca       *tlscert.Authority
	server   *tls.Config // towards the client: the CA's certificate, TLS 1.2+
	dir      string      // where the CA file lives (removed on Close)
	caFile   string
}

// handshakeTimeout bounds every TLS handshake of the proxy.
const handshakeTimeout = 10 * time.Second

// WithTLS makes the proxy speak FTPS in mode (explicit or implicit) on
// both sides; upstream is how it checks the server's certificate (cloned;
// nil: the system pool). StartFor sets it from a TLS target.
func WithTLS(mode ftp.TLSMode, upstream *tls.Config) Option {
	return func(c *config) {
		c.tlsMode = mode
		c.tlsUpstream = upstream
	}
}

// setupTLS makes the proxy's CA and writes its certificate to a fresh
// directory (nothing when TLS is off).
func newTLSSetup(c config) (*tlsSetup, error) {
	if c.tlsMode == ftp.TLSOff {
		return nil, nil
	}
	ca, err := tlscert.New("ftpharness faulty proxy CA")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ftpfaulty-tls-")
	if err != nil {
		return nil, err
	}
	files, err := ca.WriteFiles(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	up := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tlsUpstream != nil {
		up = c.tlsUpstream.Clone()
	}
	srv := ca.ServerConfig().Clone()
	return &tlsSetup{mode: c.tlsMode, upstream: up, ca: ca, server: srv, dir: dir, caFile: files.CA}, nil
}

func (t *tlsSetup) remove() {
	if t != nil {
		os.RemoveAll(t.dir)
	}
}

// serverConfig is the client-facing configuration under the faults b:
// the proxy's one Config (its session tickets are what clients resume
// on data connections), or one with a bad certificate or old versions.
func (t *tlsSetup) serverConfig(b behaviour) (*tls.Config, error) {
	if b.badCert == "" && !b.legacyTLS {
		return t.server, nil
	}
	cfg := t.server.Clone()
	if b.badCert != "" {
		cert, err := t.ca.BadCertificate(b.badCert)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if b.legacyTLS {
		cfg.MinVersion = tls.VersionTLS10
	}
	return cfg, nil
}

// CAFile is the PEM file of the CA the proxy's certificate chains to (what
// the client gives as --ftp.tls-ca); "" without TLS.
func (p *Proxy) CAFile() string {
	if p.tls == nil {
		return ""
	}
	return p.tls.caFile
}

// upstreamConfig is the session's TLS client configuration towards the
// server: its own session cache, shared by the control connection and
// the data connections, so that these resume the control session.
func (s *session) upstreamConfig() *tls.Config {
	cfg := s.p.tls.upstream.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(s.p.upstream)
		cfg.ServerName = host
	}
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	return cfg
}

// handshakeUp runs the proxy's client handshake with the server on nc,
// offering to resume the session's control session or not.
func (s *session) handshakeUp(nc net.Conn, resume bool) (*tls.Conn, error) {
	cfg := s.upCfg
	if !resume {
		cfg = s.upFresh
	}
	tc := tls.Client(nc, cfg)
	return tc, handshake(s.p.ctx, tc, "server")
}

// handshakeClient runs the proxy's server handshake with the client on nc.
func (s *session) handshakeClient(nc net.Conn) (*tls.Conn, error) {
	tc := tls.Server(nc, s.p.srvCfg)
	return tc, handshake(s.p.ctx, tc, "client")
}

func handshake(ctx context.Context, tc *tls.Conn, peer string) error {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("tls handshake with the %s: %w", peer, err)
	}
	tc.SetDeadline(time.Time{})
	return nil
}

// closeWrite ends the writing side of c: close_notify for TLS, then the
// TCP FIN.
func closeWrite(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		tc.CloseWrite()
		c = tc.NetConn()
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// bufConn is a connection whose first bytes come from a reader that
// already buffered some (a client's ClientHello read along with AUTH).
type bufConn struct {
	net.Conn
	r interface{ Read([]byte) (int, error) }
}

func (c bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// startImplicit runs both handshakes before the greeting (the server's
// first): implicit FTPS, with PROT P in effect from the start.
func (s *session) startImplicit() error {
	up, err := s.handshakeUp(s.uc, true)
	if err != nil {
		return err
	}
	cl, err := s.handshakeClient(s.cc)
	if err != nil {
		return err
	}
	s.setStreams(cl, up)
	s.mu.Lock()
	s.authed, s.protP = true, true
	s.mu.Unlock()
	return nil
}

// errNoUpgrade: the server's 234 could not be turned into TLS on both
// sides; the session ends.
var errNoUpgrade = errors.New("AUTH: no TLS on both sides")

// upgrade turns the control connection into TLS after the server's 234 to
// AUTH (explicit): the server's side first, then the 234 is forwarded and
// the client's side handshaken. readUpstream and readClient wait for it.
func (s *session) upgrade(h *entry, out []byte) error {
	up, err := s.handshakeUp(s.uc, true)
	if err != nil {
		s.logf("AUTH: %v", err)
		s.send([]byte("431 The proxy could not secure its connection to the server.\r\n"), h)
		return errNoUpgrade
	}
	s.upSwitch <- up
	s.send(out, h)
	cl, err := s.handshakeClient(bufConn{Conn: s.cc, r: s.cbr})
	if err != nil {
		s.logf("AUTH: %v", err)
		return errNoUpgrade
	}
	s.setStreams(cl, up)
	s.mu.Lock()
	s.authed, s.pbsz, s.protP = true, false, false
	s.mu.Unlock()
	s.clientSwitch <- cl
	return nil
}

// cccGrace bounds the wait for a peer's close_notify after CCC.
const cccGrace = 5 * time.Second

// clearControl takes TLS down on both control connections after the
// server's 200 to CCC (RFC 4217 §5): close_notify both ways with the
// server, the 200 forwarded inside TLS, close_notify both ways with the
// client (the client's first); the session goes on in cleartext over the same TCP connections
// (the PROT level stays). readUpstream and readClient wait for it.
func (s *session) clearControl(h *entry, out []byte) error {
	up, ok := s.server().(*tls.Conn)
	if !ok {
		return errors.New("the server's control connection is not TLS")
	}
	if err := closeNotify(up, false); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.logf("CCC: TLS with the server ended")
	s.upSwitch <- s.uc
	s.send(out, h)
	cl, ok := s.client().(*tls.Conn)
	if !ok {
		return errors.New("the client's control connection is not TLS")
	}
	if err := closeNotify(cl, true); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	s.setStreams(s.cc, s.uc)
	s.logf("CCC: control connections in cleartext from now on")
	s.clientSwitch <- s.cc
	return nil
}

// closeNotify ends TLS on tc: close_notify both ways (the peer's is
// awaited, what it sent before it discarded, bounded by cccGrace; a peer
// that sends none is not an error). The TCP connection stays open. With
// peerFirst the peer's close_notify is read before ours is sent: a client
// sends its next command as soon as it has ours, and bytes arriving with
// its close_notify would be read into the TLS buffers and lost.
func closeNotify(tc *tls.Conn, peerFirst bool) error {
	tc.SetDeadline(time.Now().Add(cccGrace))
	defer tc.NetConn().SetDeadline(time.Time{})
	if !peerFirst {
		if err := tc.CloseWrite(); err != nil {
			return fmt.Errorf("sending close_notify: %w", err)
		}
	}
	// a peer that sends no close_notify (or closes without) leaves the TCP
	// stream all there is either way: go on in cleartext
	io.Copy(io.Discard, io.LimitReader(tc, 64<<10))
	if peerFirst {
		if err := tc.CloseWrite(); err != nil {
			return fmt.Errorf("sending close_notify: %w", err)
		}
	}
	return nil
}
