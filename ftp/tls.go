package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// FTPS (RFC 4217): TLS on the control connection, started by AUTH TLS
// after the greeting (explicit) or before it (implicit, port 990: no RFC,
// described by MS-FTPS §3.1.5.1), and on data connections after PROT P.
// The FTP client is the TLS client on every connection, whichever side
// opened the TCP connection (RFC 4217 §7: also in active mode, where the
// server connects to us).

// TLSMode says when Dial starts TLS on the control connection.
type TLSMode uint8

const (
	// TLSOff starts none (AuthTLS or StartTLS can, when WithTLS gave a
	// configuration).
	TLSOff TLSMode = iota
	// TLSExplicit sends AUTH TLS after the greeting and expects 234.
	TLSExplicit
	// TLSImplicit handshakes before the greeting; data protection starts
	// as PROT P (MS-FTPS §3.1.5.1).
	TLSImplicit
)

func (m TLSMode) String() string {
	switch m {
	case TLSExplicit:
		return "explicit"
	case TLSImplicit:
		return "implicit"
	}
	return "off"
}

// ParseTLSMode reads "off" (or ""), "explicit" or "implicit".
func ParseTLSMode(s string) (TLSMode, bool) {
	switch s {
	case "off", "":
		return TLSOff, true
	case "explicit":
		return TLSExplicit, true
	case "implicit":
		return TLSImplicit, true
	}
	return TLSOff, false
}

// WithTLS makes the Conn speak FTPS. cfg (nil: verify against the system
// pool) is cloned; ServerName defaults to the host dialled, and unless cfg
// has a ClientSessionCache the Conn gets one of its own, shared by the
// control connection and its data connections so that these resume the
// control session (what vsftpd's require_ssl_reuse demands).
func WithTLS(mode TLSMode, cfg *tls.Config) Option {
	return func(o *options) {
		o.tlsMode = mode
		if cfg == nil {
			cfg = &tls.Config{}
		}
		o.tlsCfg = cfg
	}
}

// tlsState is a Conn's FTPS state (nil without WithTLS: a plain Conn pays
// one pointer).
type tlsState struct {
	cfg   *tls.Config // control and resumed data connections
	fresh *tls.Config // data connections that must not resume (no cache)
	raw   net.Conn    // the TCP control connection
	ctl   *tls.Conn   // nil while the control connection is cleartext
	prot  bool        // PROT P in effect: data connections are TLS
}

func newTLSState(o options, raw net.Conn) *tlsState {
	cfg := o.tlsCfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = o.tlsHost
		if cfg.ServerName == "" {
			if a, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
				cfg.ServerName = a.IP.String()
			}
		}
	}
	if cfg.ClientSessionCache == nil {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(2)
	}
	fresh := cfg.Clone()
	fresh.ClientSessionCache = nil
	return &tlsState{cfg: cfg, fresh: fresh, raw: raw}
}

// startTLS runs the TLS steps Dial owes the mode: the handshake before
// the greeting (implicit) or AUTH TLS after it (explicit).
func (c *Conn) startTLS(ctx context.Context, mode TLSMode, greeted bool) error {
	switch {
	case mode == TLSImplicit && !greeted:
		if err := c.StartTLS(ctx); err != nil {
			return err
		}
		c.tls.prot = true
	case mode == TLSExplicit && greeted:
		_, err := c.AuthTLS(ctx)
		return err
	}
	return nil
}

// AuthTLS sends AUTH TLS and, after 234, runs the TLS handshake on the
// control connection. Another reply is returned with a *ReplyError.
func (c *Conn) AuthTLS(ctx context.Context) (Reply, error) {
	r, err := c.Expect(ctx, []int{234}, "AUTH", "TLS")
	if err != nil {
		return r, err
	}
	return r, c.StartTLS(ctx)
}

// StartTLS runs the TLS handshake on the control connection now (after a
// 234 the caller read itself, or at connect for implicit FTPS). Bytes the
// server sent after its last reply, before the handshake, are refused:
// they would be read as if they had come protected (command injection).
func (c *Conn) StartTLS(ctx context.Context) error {
	if c.tls == nil {
		return c.wrap("tls handshake", errors.New("no TLS configuration (ftp.WithTLS)"))
	}
	if c.tls.ctl != nil {
		return c.wrap("tls handshake", errors.New("the control connection is already TLS"))
	}
	if n := c.rr.br.Buffered(); n > 0 {
		c.tr.Notef("tls: %d cleartext bytes arrived before the handshake", n)
		return c.wrap("tls handshake", fmt.Errorf("the server sent %d bytes after its reply, before the TLS handshake (they would be taken as protected)", n))
	}
	tc, err := c.handshake(ctx, &recordConn{Conn: c.nc}, c.tls.cfg)
	if err != nil {
		c.tr.Notef("tls control handshake failed: %v", err)
		return &OpError{Op: "tls handshake", Err: err, Transcript: c.tr}
	}
	c.tls.ctl, c.nc = tc, tc
	c.rr.br.Reset(tc)
	c.tr.Notef("tls control: %s", describeTLS(tc.ConnectionState(), c.tls.cfg))
	return nil
}

// handshake runs a client handshake on nc under ctx (or the default
// timeout) and explains a failure.
func (c *Conn) handshake(ctx context.Context, nc net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	ctx, cancel := withDefaultDeadline(ctx, c.opts.timeout)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, explainTLS(withCancel(ctx, err), cfg)
	}
	return tc, nil
}

// Protect sends PBSZ 0 and PROT level ("P" private, "C" clear), each
// expected to answer 200, and then makes data connections TLS or not.
func (c *Conn) Protect(ctx context.Context, level string) error {
	if _, err := c.Expect(ctx, []int{200}, "PBSZ", "0"); err != nil {
		return err
	}
	if _, err := c.Expect(ctx, []int{200}, "PROT", level); err != nil {
		return err
	}
	c.SetDataProtection(level == "P")
	return nil
}

// SetDataProtection says whether data connections are TLS from now on
// (for a caller that sent PROT itself). Without WithTLS it does nothing.
func (c *Conn) SetDataProtection(private bool) {
	if c.tls != nil {
		c.tls.prot = private
		c.tr.Notef("tls: data connections %s", map[bool]string{true: "protected (PROT P)", false: "clear (PROT C)"}[private])
	}
}

// DataProtected reports whether data connections are TLS (PROT P).
func (c *Conn) DataProtected() bool { return c.tls != nil && c.tls.prot }

// TLSState is the control connection's TLS state; false when it is
// cleartext (no TLS yet, or after CCC).
func (c *Conn) TLSState() (tls.ConnectionState, bool) {
	if c.tls == nil || c.tls.ctl == nil {
		return tls.ConnectionState{}, false
	}
	return c.tls.ctl.ConnectionState(), true
}

// TCPConn is the TCP control connection under any TLS (urgent data,
// half-close, resets). Bytes written to it bypass TLS.
func (c *Conn) TCPConn() net.Conn {
	if c.tls != nil {
		return c.tls.raw
	}
	return c.nc
}
