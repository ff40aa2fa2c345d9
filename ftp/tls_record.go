package ftp

import (
	"encoding/binary"
	"net"
)

// recordConn reads a TCP connection no further than the end of the TLS
// record under way. crypto/tls reads whatever has arrived; on a control
// connection that may leave TLS (CCC), cleartext sent right after the
// peer's close_notify would vanish into its buffer. Control traffic is
// small, so the extra reads cost nothing that matters.
type recordConn struct {
	net.Conn
	left  int     // bytes to the end of the header or record under way
	inHdr bool    // reading a record header
	hdr   [5]byte // the header being read
}

func (r *recordConn) Read(p []byte) (int, error) {
	if r.left == 0 {
		r.left, r.inHdr = len(r.hdr), true
	}
	if len(p) > r.left {
		p = p[:r.left]
	}
	n, err := r.Conn.Read(p)
	if r.inHdr {
		copy(r.hdr[len(r.hdr)-r.left:], p[:n])
	}
	r.left -= n
	if r.inHdr && r.left == 0 {
		r.inHdr = false
		r.left = int(binary.BigEndian.Uint16(r.hdr[3:5])) // 0: the next read starts a header
	}
	return n, err
}
