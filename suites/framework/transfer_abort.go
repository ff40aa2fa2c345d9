package framework

// Transfers the client holds open for the XFER-* checks of ABOR, STAT and
// QUIT: a large file uploaded once per process, transfers held open on a
// full socket buffer so ABOR/STAT/QUIT arrive while the server is still
// sending, and Telnet IP + Synch with real TCP urgent data.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"

	"github.com/ftpharness/ftpharness/fixtures"
	"github.com/ftpharness/ftpharness/ftp"
)

// The large file: bigger than the server's socket send buffer (Linux
// tcp_wmem max is 4 MiB) plus the small receive window HeldRetr uses, so
// a RETR of it cannot complete until the client reads; and bigger than
// what a userland relay on the path holds (docker-proxy's receive buffer
// autotunes up to tcp_rmem's maximum, 32 MiB on some hosts: 16 MiB was
// swallowed whole in CI). A path that holds more still: HeldRetr skips.
const BigFileSeed = 0xB16F11E

// BigFileEnv sets the large file's size in MiB (8 to 1024; default 64).
// Where nothing but the kernel's sockets sits between client and server
// (a loopback server, this project's fault proxy) 16 is as good and
// uploads a quarter of the bytes per worker process: make test's lanes
// that run no container set it, the containers lane does not.
const BigFileEnv = "FTPH_BIG_FILE_MIB"

// BigFileSize is the large file's size in bytes.
var BigFileSize = bigFileSize(os.Getenv(BigFileEnv))

func bigFileSize(mib string) int64 {
	n, err := strconv.Atoi(mib)
	if err != nil || n < 8 || n > 1024 {
		n = 64
	}
	return int64(n) << 20
}

// Telnet bytes (RFC 854).
const (
	TelnetIAC = 0xFF
	TelnetIP  = 0xF4
	TelnetDM  = 0xF2
)

var (
	bigMu   sync.Mutex
	bigPath string
	bigSHA  string
)

// BigFile uploads BigFileSize bytes of fixtures.Reader(BigFileSeed) into
// the scratch directory once per process and returns the path (streamed,
// never held in memory).
func BigFile(ctx context.Context) string {
	GinkgoHelper()
	bigMu.Lock()
	defer bigMu.Unlock()
	if bigPath != "" {
		return bigPath
	}
	p := Name(ctx, "big")
	s := Login(ctx)
	s.PutStream(ctx, p, BigFileSeed, BigFileSize)
	s.Quit(ctx)
	bigPath = p
	return p
}

// BigFileSHA256 is the hex digest of the big file's content.
func BigFileSHA256() string {
	bigMu.Lock()
	defer bigMu.Unlock()
	if bigSHA == "" {
		bigSHA = fixtures.SHA256(BigFileSeed, BigFileSize)
	}
	return bigSHA
}

// DialSmallWindow connects to the passive endpoint ep with SO_RCVBUF set
// to rcvbuf before the handshake, so the advertised window stays small and
// a server sending a large file blocks on a full socket once the client
// stops reading.
func (s *Session) DialSmallWindow(ctx context.Context, ep ftp.Endpoint, rcvbuf int) net.Conn {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	addr := s.DataTarget(ep, ftp.ControlHost)
	d := net.Dialer{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
		})
		return serr
	}}
	nc, err := d.DialContext(octx, "tcp", addr)
	if Unreachable(err) {
		blockOrFail(s.dataOwner(), fmt.Sprintf("data connection to %s: %s", addr, s.portAdvice(ctx, addr, err)))
	}
	Expect(err).NotTo(HaveOccurred(), "data connection to %s", addr)
	s.Transcript().Notef("data connected %s -> %s (SO_RCVBUF %d)", nc.LocalAddr(), addr, rcvbuf)
	nc = s.ProtectedData(nc)
	DeferCleanup(func() { nc.Close() })
	return nc
}

// Held is a download the client keeps stalled: the command got its
// preliminary reply and only a little data has been read.
type Held struct {
	Cmd    string
	Prelim ftp.Reply
	Data   net.Conn
	Read   int64 // bytes read so far
	h      hash.Hash
}

// HeldRetr starts "RETR path" in TYPE I over PASV with a small receive
// window, reads the preliminary reply and first bytes of data, then
// pauses so the server is blocked writing when the caller sends the next
// command. On a direct path the transfer cannot have finished: path is
// larger than the socket buffers (BigFile). When the server answers during
// the pause, no transfer is in progress for the check to test: it skips,
// saying why (heldEnded).
func (s *Session) HeldRetr(ctx context.Context, path string, first int) *Held {
	GinkgoHelper()
	x, ended := s.TryHeldRetr(ctx, path, first)
	if ended != "" {
		Skip(ended)
	}
	return x
}

// TryHeldRetr is HeldRetr for a check that goes on when the transfer
// cannot be held: ended is then why (and x is done with).
func (s *Session) TryHeldRetr(ctx context.Context, path string, first int) (x *Held, ended string) {
	GinkgoHelper()
	s.Do(ctx, "TYPE", "I")
	ep := s.Pasv(ctx, false)
	nc := s.DialSmallWindow(ctx, ep, 32<<10)
	x = &Held{Cmd: "RETR " + path, Data: nc, h: sha256.New()}
	octx, cancel := Ctx(ctx)
	defer cancel()
	Expect(s.SendLine(octx, x.Cmd)).To(Succeed())
	r, err := s.ReadReply(octx)
	Expect(err).NotTo(HaveOccurred(), "%s: no reply", x.Cmd)
	Expect(r.Preliminary()).To(BeTrue(), "%s: expected 125/150 to start the transfer, got %s (raw %q)", x.Cmd, r, r.Raw)
	x.Prelim = r
	buf := make([]byte, 4096)
	nc.SetReadDeadline(time.Now().Add(Config().Timeout))
	for x.Read < int64(first) {
		n, err := nc.Read(buf)
		x.h.Write(buf[:n])
		x.Read += int64(n)
		Expect(err).NotTo(HaveOccurred(), "%s: reading the first %d bytes of data (got %d)", x.Cmd, first, x.Read)
	}
	nc.SetReadDeadline(time.Time{})
	s.Transcript().Notef("data: read %d bytes, now stalling", x.Read)
	// Let the server fill its send buffer and block, watching whether it
	// answers meanwhile.
	if !s.ReplyWaiting(300 * time.Millisecond) {
		return x, ""
	}
	r, err = s.ReadReply(octx)
	Expect(err).NotTo(HaveOccurred(), "%s: reading the reply that came while the client held the transfer", x.Cmd)
	return x, heldEnded(x, r)
}

// heldEnded says why a held RETR the server answered during the pause
// leaves nothing to test. A completion while the client, its window full,
// had read only the first bytes means the server had already handed all of
// the file to the network: a direct path cannot hold it (it is larger than
// the server's send buffer plus the client's small window), a relay with
// deep buffers can (docker-proxy, where Linux autotunes its receive buffer
// up to tens of MiB). A server that sends 226 before its data is delivered
// looks the same; XFER-018 judges that.
func heldEnded(x *Held, r ftp.Reply) string {
	if r.Class() == 2 {
		return fmt.Sprintf("no transfer in progress to test: %q arrived while the client had read %d of %d bytes and was reading nothing, "+
			"so the server had already sent the whole file into the network and something between client and server holds it "+
			"(a userland proxy such as docker-proxy, or a NAT relay); run from a host with a direct path to the server "+
			"(a server that sends 226 before its data is delivered looks the same: XFER-018 judges that)", r.Raw, x.Read, BigFileSize)
	}
	return fmt.Sprintf("no transfer in progress to test: the server answered %q to %s while the client held it (%d of %d bytes read, then 300 ms without reading)",
		r.Raw, x.Cmd, x.Read, BigFileSize)
}

// Drain reads the rest of the data until EOF, an error, or d elapses,
// then closes the data connection (RFC 959 §5.2: read what is queued and
// "issue the close on its own side" — servers with a lingering close, e.g.
// ProFTPD, wait for it before the 226). It returns what it read and how
// reading ended (nil = EOF).
func (x *Held) Drain(ctx context.Context, d time.Duration) (int64, error) {
	defer x.Data.Close()
	x.Data.SetReadDeadline(time.Now().Add(d))
	stop := context.AfterFunc(ctx, func() { x.Data.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	n, err := io.CopyBuffer(x.h, x.Data, make([]byte, 256<<10))
	x.Read += n
	return n, err
}

// DrainSlowly keeps the transfer trickling: it reads up to chunk bytes
// every pause until EOF (nil), a read error, d elapsed
// (context.DeadlineExceeded) or stop is closed (ErrStopped). A pause with
// no data is not an error: the server may have stopped sending.
func (x *Held) DrainSlowly(ctx context.Context, d time.Duration, chunk int, pause time.Duration, stop <-chan struct{}) (int64, error) {
	dl := time.Now().Add(d)
	var total int64
	buf := make([]byte, chunk)
	for {
		select {
		case <-stop:
			return total, ErrStopped
		case <-ctx.Done():
			return total, ctx.Err()
		default:
		}
		if time.Now().After(dl) {
			return total, context.DeadlineExceeded
		}
		x.Data.SetReadDeadline(time.Now().Add(pause))
		n, err := io.ReadFull(x.Data, buf)
		x.h.Write(buf[:n])
		x.Read += int64(n)
		total += int64(n)
		var ne net.Error
		switch {
		case err == nil:
			time.Sleep(pause)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return total, nil
		case errors.As(err, &ne) && ne.Timeout():
			// nothing (more) within pause: keep polling
		default:
			return total, err
		}
	}
}

// ErrStopped is returned by DrainSlowly when told to stop.
var ErrStopped = errors.New("stopped")

// SHA256 is the digest of every byte read so far.
func (x *Held) SHA256() string { return hex.EncodeToString(x.h.Sum(nil)) }

// SendUrgent sends b on the TCP control connection with MSG_OOB: the last
// byte is TCP urgent data (the urgent pointer points at it). Under TLS the
// bytes would bypass the record stream: TelnetSynch does not send them
// then (see urgentUnderTLS).
func (s *Session) SendUrgent(b []byte) error {
	tc, ok := s.TCPConn().(*net.TCPConn)
	if !ok {
		return errors.New("control connection is not TCP: no urgent data")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	werr := rc.Write(func(fd uintptr) bool {
		serr = unix.Send(int(fd), b, unix.MSG_OOB)
		return !errors.Is(serr, unix.EAGAIN)
	})
	if werr != nil {
		return werr
	}
	s.Transcript().Notef("sent urgent (MSG_OOB) %q", b)
	return serr
}

// TelnetSynch sends Telnet IP in band, then Telnet Synch: IAC DM with the
// DM byte as TCP urgent data (RFC 959 §4.1 p.34, RFC 854 "Synch").
func (s *Session) TelnetSynch(ctx context.Context) {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	Expect(s.WriteRaw(octx, []byte{TelnetIAC, TelnetIP})).To(Succeed())
	if s.urgentUnderTLS(octx, []byte{TelnetIAC, TelnetDM}) {
		return
	}
	Expect(s.SendUrgent([]byte{TelnetIAC, TelnetDM})).To(Succeed())
}

// urgentUnderTLS sends b in band through TLS, without TCP urgent data,
// when the control connection is TLS, and reports whether it did. TCP
// urgent data cannot travel inside TLS, and bytes written beside it land
// in the server's record stream (in band, and the urgent byte too where
// the server reads urgent data inline, as vsftpd does with SO_OOBINLINE):
// they would break the session, not test ABOR. RFC 4217 says nothing of
// the Synch; FTPS clients (lftp) send the sequence in band, as here.
func (s *Session) urgentUnderTLS(ctx context.Context, b []byte) bool {
	GinkgoHelper()
	if _, tls := s.TLSState(); !tls {
		return false
	}
	s.Transcript().Notef("tls: no TCP urgent data under TLS; the Telnet bytes go in band")
	Expect(s.WriteRaw(ctx, b)).To(Succeed())
	return true
}

// TelnetSynchBSD sends the sequence BSD ftp(1) and Perl Net::FTP send
// before ABOR: "IAC IP IAC" with the last IAC urgent, then DM in band
// (followed by the command). 4.3BSD places the urgent mark after the
// urgent byte, so this puts the mark right before DM.
func (s *Session) TelnetSynchBSD(ctx context.Context) {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	if !s.urgentUnderTLS(octx, []byte{TelnetIAC, TelnetIP, TelnetIAC}) {
		Expect(s.SendUrgent([]byte{TelnetIAC, TelnetIP, TelnetIAC})).To(Succeed())
	}
	Expect(s.WriteRaw(octx, []byte{TelnetDM})).To(Succeed())
}
