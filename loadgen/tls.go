package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// FTPS load (RFC 4217): the target's URL scheme (ftpes://, ftps://) and
// trust (target.Config.TLSConfig) decide; every session runs the control
// handshake (explicit: AUTH TLS after the greeting; implicit: before it),
// then PBSZ 0 and PROT P after the login, and every data connection is the
// TLS client side, resuming the control session unless WithTLSResume(false).
// The handshakes are phases of their own (tls-handshake,
// data-tls-handshake) and each data handshake records whether it resumed.

// setupTLS reads the target's TLS configuration once for the run (the CA
// file is read here, not per session).
func (a *Attacker) setupTLS() {
	cfg, err := a.target.TLSConfig()
	if err != nil {
		a.err = err
		return
	}
	if cfg == nil {
		return
	}
	if cfg.ServerName == "" {
		// the name the user gave (ftp.Conn would use the peer's address)
		if host, _, err := net.SplitHostPort(a.target.Addr); err == nil {
			cfg.ServerName = host
		}
	}
	a.tls = cfg
}

// FTPS reports whether the attacker speaks FTPS.
func (a *Attacker) FTPS() bool { return a.tls != nil }

// tlsSettings describes the run's TLS for a report (nil: plain FTP).
func (a *Attacker) tlsSettings() *TLSSettings {
	if a.tls == nil {
		return nil
	}
	return &TLSSettings{Mode: a.target.TLS, Resume: !a.tlsNoResume, Verification: ftp.Verification(a.tls)}
}

// TLSSettings is a run's FTPS configuration (v1.3).
type TLSSettings struct {
	Mode         string `json:"mode"`   // explicit (AUTH TLS) or implicit
	Resume       bool   `json:"resume"` // data connections offer the control session for resumption
	Verification string `json:"verification"`
}

func (s *TLSSettings) String() string {
	how := map[string]string{"explicit": "explicit FTPS (AUTH TLS)", "implicit": "implicit FTPS (TLS before the greeting)"}[s.Mode]
	if how == "" {
		how = "FTPS " + s.Mode
	}
	res := "data connections resume the control session"
	if !s.Resume {
		res = "data connections do full handshakes (--tls-resume=false)"
	}
	return fmt.Sprintf("%s, PROT P, %s; server certificate %s", how, res, s.Verification)
}

// tlsOpts are the ftp.Conn options of an FTPS control connection: TLS
// started by the session itself (so that its handshake is timed apart).
func (a *Attacker) tlsOpts() []ftp.Option {
	if a.tls == nil {
		return nil
	}
	return []ftp.Option{ftp.WithTLS(ftp.TLSOff, a.tls)}
}

// startTLS runs the control handshake the mode owes at this point
// (greeted: after the greeting), timing it into r.
func (d *ftpDriver) startTLS(c *ctrl, greeted bool, r *Result) error {
	a := d.a
	mode := a.target.TLSMode()
	if a.tls == nil || (mode == ftp.TLSImplicit) == greeted {
		return nil
	}
	t0 := d.now()
	var err error
	if mode == ftp.TLSExplicit {
		if _, err = c.expect("AUTH TLS", 234); err != nil {
			r.SetPhase(PhaseTLSHandshake, d.now().Sub(t0))
			return err
		}
	}
	if err = c.c.StartTLS(bg); err != nil {
		err = &tlsError{class: handshakeClass(err, false, false), err: err}
	}
	r.SetPhase(PhaseTLSHandshake, d.now().Sub(t0))
	return err
}

// protect sends PBSZ 0 and PROT P after the login (implicit mode too, as
// curl, lftp and FileZilla do).
func (d *ftpDriver) protect(c *ctrl) error {
	if d.a.tls == nil {
		return nil
	}
	if _, err := c.expect("PBSZ 0", 200); err != nil {
		return err
	}
	if _, err := c.expect("PROT P", 200); err != nil {
		return err
	}
	c.c.SetDataProtection(true)
	return nil
}

// wrapData makes a dialled data connection the TLS client side under
// PROT P (the handshake runs in dataHandshake, after the 150); noResume
// offers no session to resume.
func (d *ftpDriver) wrapData(c *ctrl, nc net.Conn, noResume bool) net.Conn {
	if !c.c.DataProtected() {
		return nc
	}
	if d.rbuf == nil {
		d.rbuf = bufio.NewReaderSize(nc, dataReadBuffer)
	}
	d.rbuf.Reset(nc)
	return c.c.WrapData(&bufferedConn{Conn: nc, r: d.rbuf}, ftp.DataOptions{NoResume: noResume})
}

// dataReadBuffer is the read buffer under a TLS data connection. crypto/tls
// reads one record (at most 16 KiB) at a time, each a read system call;
// through this buffer one call brings many records (a profile of a 1 GiB
// RETR had 43% of the generator's CPU in read calls without it).
const dataReadBuffer = 256 << 10

// bufferedConn is a data connection read through a buffer (one per
// session, reused by its data connections).
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// CloseWrite half-closes the TCP connection (ftp.EndUpload).
func (b *bufferedConn) CloseWrite() error {
	if hc, ok := b.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return nil
}

// verdictWait bounds the wait for the server's reply after a failed data
// handshake: it has the word on why (vsftpd's 522), but a server that
// says nothing must not hold the session for a whole timeout.
const verdictWait = 2 * time.Second

// dataHandshake runs the TLS handshake of a protected data connection
// (nothing for a cleartext one), timing it into r and recording whether
// it resumed. On failure it reads the server's verdict, which says
// whether the control connection is still usable and may name the cause.
func (d *ftpDriver) dataHandshake(c *ctrl, dc net.Conn, noResume bool, r *Result) error {
	if _, ok := dc.(*tls.Conn); !ok {
		return nil
	}
	t0 := d.now()
	ctx, cancel := context.WithTimeout(bg, d.a.timeout)
	cs, err := c.c.HandshakeData(ctx, dc)
	cancel()
	r.SetPhase(PhaseDataTLSHandshake, d.now().Sub(t0))
	if err == nil {
		r.DataTLS, r.Resumed = true, cs.DidResume
		r.TLSVersion, r.TLSSuite = cs.Version, cs.CipherSuite
		return nil
	}
	dc.Close()
	te := &tlsError{class: handshakeClass(err, true, noResume), err: err}
	vctx, cancel := context.WithTimeout(bg, min(d.a.timeout, verdictWait))
	v, rerr := c.c.ReadReply(vctx)
	cancel()
	if rerr == nil {
		te.reply, te.keep = &v, true
		if reuseRefusal(v) {
			te.class = ClassTLSReuse
		}
	}
	return te
}

// endUpload ends an upload's data connection through the wire layer's
// one way of doing it (ftp.EndUpload: a TLS one is half-closed and read
// to the server's end, or unread session tickets turn close into a reset
// that loses the file's end), bounded by timeout.
func endUpload(dc net.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(bg, timeout)
	defer cancel()
	_, err := ftp.EndUpload(ctx, dc)
	return err
}
