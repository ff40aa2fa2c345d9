package faulty

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The proxy mirrors the server's passive listeners: its own listener for a
// server port stays open exactly as long as the server still listens on
// that port. Connecting would consume the server's listener, so instead the
// proxy asks the kernel which TCP sockets are in LISTEN state (the server
// is on loopback, on this host) — through NETLINK_SOCK_DIAG, or by reading
// /proc/net/tcp when netlink is unavailable.

// listenSet is the set of listening TCP endpoints ("ip:port"; ip is
// "0.0.0.0" or "::" for wildcard binds).
type listenSet map[string]bool

func (ls listenSet) has(ip net.IP, port int) bool {
	p := strconv.Itoa(port)
	if ls[net.JoinHostPort(ip.String(), p)] || ls[net.JoinHostPort("0.0.0.0", p)] || ls[net.JoinHostPort("::", p)] {
		return true
	}
	if v4 := ip.To4(); v4 != nil {
		return ls[net.JoinHostPort("::ffff:"+v4.String(), p)]
	}
	return false
}

func listening() (listenSet, error) {
	ls := listenSet{}
	err4 := diag(unix.AF_INET, ls)
	err6 := diag(unix.AF_INET6, ls)
	if err4 == nil && err6 == nil {
		return ls, nil
	}
	ls = listenSet{}
	if err := procNetTCP("/proc/net/tcp", ls); err != nil {
		return nil, err
	}
	procNetTCP("/proc/net/tcp6", ls)
	return ls, nil
}

const tcpListen = 10

func diag(family int, ls listenSet) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// nlmsghdr (16) + inet_diag_req_v2 (56)
	req := make([]byte, 16+56)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], 1)
	req[16] = byte(family)
	req[17] = unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(req[20:], 1<<tcpListen)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs := buf[:n]
		for len(msgs) >= 16 {
			l := int(binary.NativeEndian.Uint32(msgs[0:]))
			typ := binary.NativeEndian.Uint16(msgs[4:])
			if l < 16 || l > len(msgs) {
				return unix.EINVAL
			}
			switch typ {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				return unix.EIO
			}
			body := msgs[16:l]
			// inet_diag_msg: family, state, timer, retrans, then
			// inet_diag_sockid: sport(be16) dport(be16) src[16] dst[16] ...
			if len(body) >= 4+4+32 && body[1] == tcpListen {
				port := int(binary.BigEndian.Uint16(body[4:]))
				var ip net.IP
				if body[0] == unix.AF_INET {
					ip = net.IP(append([]byte(nil), body[8:12]...))
				} else {
					ip = net.IP(append([]byte(nil), body[8:24]...))
				}
				ls[net.JoinHostPort(ip.String(), strconv.Itoa(port))] = true
			}
			msgs = msgs[(l+3)&^3:]
		}
	}
}

// procNetTCP reads listening sockets from /proc/net/tcp{,6}.
func procNetTCP(path string, ls listenSet) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 || fs[3] != "0A" {
			continue
		}
		addr, port, ok := strings.Cut(fs[1], ":")
		if !ok {
			continue
		}
		raw, err := hex.DecodeString(addr)
		if err != nil {
			continue
		}
		// each 32-bit word is in host (little-endian) order
		for i := 0; i+4 <= len(raw); i += 4 {
			raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			continue
		}
		ls[net.JoinHostPort(net.IP(raw).String(), strconv.Itoa(int(p)))] = true
	}
	return sc.Err()
}
