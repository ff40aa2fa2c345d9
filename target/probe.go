package target

import (
	"context"
	"errors"
	"fmt"

	"github.com/ftpharness/ftpharness/ftp"
)

// Probe connects and logs in once, through the one wire layer (bounded
// reads, the configured deadline), so a wrong address or wrong credentials
// stop the run with one clear message within seconds instead of a failure
// per check blamed on the server. The password never appears in the error.
func Probe(c Config) error {
	// No context deadline: each operation (connect+greeting, USER, PASS)
	// gets the configured timeout of its own.
	ctx := context.Background()
	opts, err := c.DialOptions()
	if err != nil {
		return err
	}
	conn, err := ftp.Dial(ctx, c.Addr, append(opts, ftp.WithStrictReplies(false))...)
	if err != nil {
		return dialProblem(c, err)
	}
	defer conn.Close()
	var refused *ftp.ReplyError
	switch err := conn.Login(ctx, c.User, c.Password); {
	case errors.As(err, &refused):
		return fmt.Errorf("login as %s refused: %s (check --ftp.user/--ftp.password)", c.User, refused.Reply)
	case err != nil:
		return fmt.Errorf("login as %s at %s: no answer within %v: %v", c.User, c.Addr, c.Timeout, err)
	}
	// Say goodbye without waiting for the answer: the probe has what it
	// came for, and a server that is slow to answer QUIT is the suite's
	// business, not a reason to hold the run.
	conn.SendLine(ctx, "QUIT")
	return nil
}

func dialProblem(c Config, err error) error {
	var op *ftp.OpError
	if errors.As(err, &op) && op.Op == "connect" {
		return fmt.Errorf("cannot reach the server at %s (--ftp.addr): %v", c.Addr, op.Err)
	}
	if p := tlsProblem(c, err); p != nil {
		return p
	}
	if op != nil && op.Reply != nil {
		return fmt.Errorf("%s greeted with %s, not 220 (is it an FTP server, and does it accept this client?)", c.Addr, op.Reply)
	}
	var pe *ftp.ProtocolError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s greeted with something that is not an FTP reply (is it an FTP server?): %v", c.Addr, pe)
	}
	return fmt.Errorf("%s accepted the connection but sent no FTP greeting within %v (is it an FTP server?): %v", c.Addr, c.Timeout, err)
}

// tlsProblem explains a failed start of FTPS (nil for another failure).
func tlsProblem(c Config, err error) error {
	var op *ftp.OpError
	var re *ftp.ReplyError
	switch {
	case errors.As(err, &re) && re.Cmd == "AUTH":
		return fmt.Errorf("%s refused AUTH TLS: %s (does it speak explicit FTPS? --ftp.tls=%s)", c.Addr, re.Reply, c.TLS)
	case errors.As(err, &op) && op.Op == "tls handshake":
		return fmt.Errorf("TLS handshake with %s (%s) failed: %v", c.Addr, c.TLSNote(), op.Err)
	}
	return nil
}
