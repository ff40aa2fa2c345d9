package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/ftpharness/ftpharness/ftp"
)

// ErrorClass names what went wrong, in a fixed vocabulary.
type ErrorClass string

// Error classes. The client-side classes are limits of the machine running
// the generator, not failures of the server.
const (
	ClassReply4xx        ErrorClass = "reply-4xx"
	ClassReply5xx        ErrorClass = "reply-5xx"
	ClassUnexpected      ErrorClass = "reply-unexpected" // a 1xx-3xx where another was due
	ClassTimeout         ErrorClass = "timeout"
	ClassRefused         ErrorClass = "refused"
	ClassReset           ErrorClass = "reset"
	ClassDropped         ErrorClass = "session-dropped" // EOF on the control connection
	ClassProtocol        ErrorClass = "protocol-violation"
	ClassOutOfRange      ErrorClass = "out-of-range"
	ClassAddrMismatch    ErrorClass = "address-mismatch"
	ClassTLSHandshake    ErrorClass = "tls-handshake"      // a TLS handshake failed: alert, certificate, protocol version, closed
	ClassTLSReuse        ErrorClass = "tls-reuse-required" // the server refused a data connection that did not resume the control session
	ClassTLSCleartext    ErrorClass = "tls-cleartext"      // cleartext where TLS was due (the answer to our ClientHello is not TLS)
	ClassClientAddrLimit ErrorClass = "client-addr-limit"  // EADDRNOTAVAIL: no local port/address left
	ClassClientFDLimit   ErrorClass = "client-fd-limit"    // EMFILE/ENFILE
	ClassCanceled        ErrorClass = "canceled"           // stopped by the generator itself
	ClassOther           ErrorClass = "other"
)

// ClientSide reports a limit of the generator's machine, not the server's.
func (c ErrorClass) ClientSide() bool {
	return c == ClassClientAddrLimit || c == ClassClientFDLimit || c == ClassCanceled
}

// Classified is an error put in its class, with the reply when there is one.
type Classified struct {
	Class ErrorClass
	Code  int
	Reply string // one line
}

// Classify puts err in its class. It understands this package's errors, the
// ftp package's errors and the network errors of the standard library.
func Classify(err error) Classified {
	if err == nil {
		return Classified{}
	}
	var te *tlsError
	if errors.As(err, &te) {
		c := Classified{Class: te.class}
		if te.reply != nil {
			c.Code, c.Reply = te.reply.Code, replyLine(*te.reply)
		}
		return c
	}
	var fre *ftp.ReplyError
	if errors.As(err, &fre) {
		cls := replyClass(fre.Reply.Code)
		if reuseRefusal(fre.Reply) {
			cls = ClassTLSReuse
		}
		return Classified{Class: cls, Code: fre.Reply.Code, Reply: replyLine(fre.Reply)}
	}
	var foe *ftp.OpError
	if errors.As(err, &foe) && foe.Reply != nil && foe.Reply.Code >= 400 {
		return Classified{Class: replyClass(foe.Reply.Code), Code: foe.Reply.Code, Reply: foe.Reply.String()}
	}
	var fpe *ftp.ProtocolError
	if errors.As(err, &fpe) {
		return Classified{Class: ClassProtocol, Reply: truncate(string(fpe.Raw), 200)}
	}
	var ce classError
	if errors.As(err, &ce) {
		return Classified{Class: ce.class}
	}
	if cleartextRecord(err) {
		return Classified{Class: ClassTLSCleartext}
	}
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return Classified{Class: ClassClientFDLimit}
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return Classified{Class: ClassClientAddrLimit}
	case errors.Is(err, syscall.ECONNREFUSED):
		return Classified{Class: ClassRefused}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return Classified{Class: ClassReset}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return Classified{Class: ClassDropped}
	case errors.Is(err, context.Canceled):
		return Classified{Class: ClassCanceled}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), ftp.IsTimeout(err):
		return Classified{Class: ClassTimeout}
	}
	return Classified{Class: ClassOther}
}

func replyClass(code int) ErrorClass {
	switch code / 100 {
	case 4:
		return ClassReply4xx
	case 5:
		return ClassReply5xx
	}
	return ClassUnexpected
}

// classError is an error that carries its class (out-of-range port,
// address mismatch: the reply was fine, its content was not).
type classError struct {
	class ErrorClass
	msg   string
}

func (e classError) Error() string { return e.msg }
