package faulty

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ftpharness/ftpharness/ftp"
)

// peerClosed reports whether the peer's FIN has arrived on c (even with
// unread data before it).
func peerClosed(c net.Conn) bool {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return false
	}
	var st uint8
	rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			st = info.State
		}
	})
	return st == 8 || st == 9 || st == 7 || st == 11 || st == 6
}

// closedBeforeReply retrieves name without reading the data until the
// completion reply is in, and reports whether the data connection's FIN
// had arrived by then (RFC 959 §5.2 / XFER-018 ordering, measured without
// the reading speed of the client getting in the way).
func closedBeforeReply(t *testing.T, c *ftp.Conn, name string) (bool, ftp.Reply) {
	t.Helper()
	ctx := tctx(t)
	nc, _, err := c.OpenPassive(ctx, false, ftp.DataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r, err := c.Cmd(ctx, "RETR", name)
	if err != nil || !r.Preliminary() {
		t.Fatalf("RETR: %v %v", r, err)
	}
	final, err := c.ReadReply(ctx)
	if err != nil {
		t.Fatalf("RETR final: %v", err)
	}
	time.Sleep(time.Millisecond)
	return peerClosed(nc), final
}

func TestCloseOrderMirrored(t *testing.T) {
	for _, server := range []string{"ftpserverlib", "vsftpd", "pyftpdlib"} {
		t.Run(server, func(t *testing.T) {
			tg := upstream(t, server)
			_, ptg := proxied(t, server)
			d := login(t, tg)
			res, _ := xfer(t, d, false, "STOR "+fname(t), payload(5000))
			if !res.OK() {
				t.Fatal(res)
			}
			pc := login(t, ptg)
			for i := 0; i < 3; i++ {
				direct, r1 := closedBeforeReply(t, d, fname(t))
				proxy, r2 := closedBeforeReply(t, pc, fname(t))
				t.Logf("direct %v proxy %v", direct, proxy)
				if direct != proxy || r1.Code != r2.Code {
					t.Errorf("data closed before %d: direct %v, through the proxy %v (%d)", r1.Code, direct, proxy, r2.Code)
				}
			}
		})
	}
}
