package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"

	"github.com/ftpharness/ftpharness/ftp"
)

// FTPS failures (RFC 4217) in the error vocabulary. A TLS handshake that
// fails is tls-handshake whatever the cause (an alert such as
// bad_certificate or protocol_version, a certificate that does not verify,
// the server closing the connection): the error text names the cause. A
// peer that answers the ClientHello with something that is not a TLS
// record sends cleartext where TLS was due (tls-cleartext). A server that
// refuses a data connection for not resuming the control session's TLS
// session (vsftpd's require_ssl_reuse, RFC 4217 §10's advice taken as a
// rule) is tls-reuse-required: vsftpd completes the data handshake, then
// closes it and answers "522 SSL connection failed: session reuse
// required".

// tlsError is a failed TLS handshake in its class, with the server's
// reply about it when one came (a data handshake's verdict on the
// control connection). keep says the control connection is in a known
// state (the verdict was read): the session goes on.
type tlsError struct {
	class ErrorClass
	err   error
	reply *ftp.Reply
	keep  bool
}

func (e *tlsError) Error() string {
	if e.reply != nil {
		return e.err.Error() + "; the server then answered " + replyLine(*e.reply)
	}
	return e.err.Error()
}

func (e *tlsError) Unwrap() error { return e.err }

// handshakeClass is the class of a failed TLS handshake. noResume says a
// data handshake deliberately offered no session to resume
// (--tls-resume=false): a server closing it then most likely wants reuse.
func handshakeClass(err error, data, noResume bool) ErrorClass {
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh), cleartextRecord(err):
		return ClassTLSCleartext
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	case ftp.IsTimeout(err):
		return ClassTimeout
	case data && noResume && closedByPeer(err):
		return ClassTLSReuse
	}
	return ClassTLSHandshake
}

// closedByPeer: the peer ended the connection (EOF or reset) rather than
// sending an alert.
func closedByPeer(err error) bool {
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "EOF") || strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe")
}

// reuseRefusal: a reply that refuses a data connection for want of TLS
// session reuse (vsftpd: "522 SSL connection failed: session reuse
// required").
func reuseRefusal(r ftp.Reply) bool {
	if r.Code < 400 {
		return false
	}
	t := strings.ToLower(r.String())
	return strings.Contains(t, "reuse") || strings.Contains(t, "resum")
}

// cleartextRecord: crypto/tls read a record whose version bytes are ASCII
// digits, i.e. an FTP reply written in cleartext into a TLS stream after
// the handshake. vsftpd does that when a session dies: its "500 OOPS:
// vsf_sysutil_bind" (the passive pool exhausted) arrives unencrypted on
// the TLS control connection ("received record with version 3030").
func cleartextRecord(err error) bool {
	const marker = "received record with version "
	s := err.Error()
	i := strings.Index(s, marker)
	if i < 0 || len(s) < i+len(marker)+4 {
		return false
	}
	v := s[i+len(marker):]
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	return v[0] == '3' && digit(v[1]) && v[2] == '3' && digit(v[3])
}
