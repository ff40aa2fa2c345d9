package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// wrapData makes nc a TLS client connection when PROT P is in effect and
// opts do not ask for cleartext. The handshake is left for the first use
// (HandshakeData, or the transfer): servers start TLS on a data
// connection only once the transfer command arrived.
func (c *Conn) wrapData(nc net.Conn, opts DataOptions) net.Conn {
	if !c.DataProtected() || opts.Clear {
		return nc
	}
	return c.WrapData(nc, opts)
}

// WrapData makes nc (a data connection, dialled or accepted) the TLS
// client side of a data connection, whatever the protection in effect:
// it resumes the control session unless opts.NoResume. The handshake runs
// on first use or in HandshakeData. Without WithTLS nc is returned as is.
func (c *Conn) WrapData(nc net.Conn, opts DataOptions) net.Conn {
	if c.tls == nil {
		return nc
	}
	cfg := c.tls.cfg
	if opts.NoResume {
		cfg = c.tls.fresh
	}
	return tls.Client(nc, cfg)
}

// HandshakeData runs the TLS handshake of a data connection WrapData (or
// DialData/AcceptData under PROT P) returned, under ctx or the default
// timeout, and records version, cipher and resumption in the transcript.
// It returns nil state and no error for a cleartext connection.
func (c *Conn) HandshakeData(ctx context.Context, nc net.Conn) (*tls.ConnectionState, error) {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil, nil
	}
	ctx, cancel := withDefaultDeadline(ctx, c.opts.timeout)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		tc.SetDeadline(dl)
	}
	cfg := &tls.Config{} // a connection the caller wrapped without WithTLS
	if c.tls != nil {
		cfg = c.tls.cfg
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		err = explainTLS(withCancel(ctx, err), cfg)
		c.tr.Notef("tls data handshake failed: %v", err)
		return nil, &OpError{Op: "data tls handshake", Err: err, Transcript: c.tr}
	}
	tc.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	c.tr.Notef("tls data: %s", describeDataTLS(cs, cfg))
	return &cs, nil
}

// closeUpload ends an upload's data connection. A TLS one first sends
// close_notify and reads what the server still sends (its TLS 1.3 session
// tickets, its own close_notify) until it closes, DataGrace at most:
// closing a socket with unread data in its receive buffer sends a TCP
// reset, and a reset makes the server drop upload data it has not read
// yet (vsftpd then answers "426 Failure reading network stream").
func (c *Conn) closeUpload(data net.Conn) {
	tc, ok := data.(*tls.Conn)
	if !ok {
		data.Close()
		return
	}
	if err := tc.CloseWrite(); err == nil {
		tc.SetReadDeadline(time.Now().Add(DataGrace))
		io.Copy(io.Discard, io.LimitReader(tc, 64<<10))
	}
	tc.Close()
}

// AcceptData accepts the server's data connection on ln (active mode:
// PORT/EPRT) under ctx or the default timeout; under PROT P it is wrapped
// as the TLS client side, as RFC 4217 §7 has it whichever side connected.
func (c *Conn) AcceptData(ctx context.Context, ln net.Listener, opts DataOptions) (net.Conn, error) {
	ctx, cancel := withDefaultDeadline(ctx, c.opts.timeout)
	defer cancel()
	type deadliner interface{ SetDeadline(time.Time) error }
	d, ok := ln.(deadliner)
	if !ok {
		return nil, &OpError{Op: "data accept", Err: errors.New("listener has no deadline"), Transcript: c.tr}
	}
	dl, _ := ctx.Deadline()
	d.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { d.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	nc, err := ln.Accept()
	d.SetDeadline(time.Time{})
	if err != nil {
		c.tr.Notef("data accept on %s failed: %v", ln.Addr(), err)
		return nil, &OpError{Op: "data accept " + ln.Addr().String(), Err: withCancel(ctx, err), Transcript: c.tr}
	}
	c.tr.Notef("data accepted %s <- %s", ln.Addr(), nc.RemoteAddr())
	return c.wrapData(nc, opts), nil
}

// CCC asks for the control connection to go back to cleartext (RFC 4217
// §5). After 200 both sides end TLS with close_notify and the session goes
// on in cleartext over the same TCP connection; the data protection level
// stays. Another reply is returned with a *ReplyError.
func (c *Conn) CCC(ctx context.Context) (Reply, error) {
	if c.tls == nil || c.tls.ctl == nil {
		return c.Expect(ctx, []int{200}, "CCC") // the check wants 533 here
	}
	r, err := c.Expect(ctx, []int{200}, "CCC")
	if err != nil {
		return r, err
	}
	return r, c.endControlTLS(ctx)
}

// cccGrace bounds the wait for the server's close_notify after CCC.
var cccGrace = 5 * time.Second

// endControlTLS sends close_notify, waits (bounded) for the server's and
// carries on over the TCP connection. A server that sends no close_notify
// is noted, not failed: the TCP stream is all that is left either way.
func (c *Conn) endControlTLS(ctx context.Context) error {
	tc := c.tls.ctl
	dl := time.Now().Add(min(cccGrace, c.opts.timeout))
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	tc.SetDeadline(dl)
	werr := tc.CloseWrite()
	n, rerr := io.Copy(io.Discard, io.LimitReader(c.rr.br, 64<<10))
	c.tls.ctl, c.nc = nil, c.tls.raw
	c.tls.raw.SetDeadline(time.Time{})
	c.rr.br.Reset(c.tls.raw)
	switch {
	case werr != nil:
		c.tr.Notef("tls control: close_notify not sent: %v", werr)
		return c.wrap("ccc", fmt.Errorf("sending close_notify: %w", werr))
	case rerr != nil:
		c.tr.Notef("tls control: no close_notify from the server (%v); going on in cleartext", rerr)
	default:
		c.tr.Notef("tls control: closed (close_notify both ways, %d bytes before it); cleartext from now on", n)
	}
	return nil
}
