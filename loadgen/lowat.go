package loadgen

import (
	"net"

	"golang.org/x/sys/unix"
)

// rcvLowat is the SO_RCVLOWAT of a large RETR's data connection: one
// read buffer (dataReadBuffer, d.buf) per wake-up.
const rcvLowat = 256 << 10

// setRcvLowat sets SO_RCVLOWAT on a TCP connection (socket(7)): the
// kernel reports it readable once n bytes wait, or the peer closed, or
// the receive window is about to close (so a sender is never left
// waiting on it). A read deadline and the hard context's interruption
// still wake a blocked read. False if it was not set (not TCP, or the
// kernel refused).
func setRcvLowat(nc net.Conn, n int) bool {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, n)
	}); err != nil {
		return false
	}
	return serr == nil
}
