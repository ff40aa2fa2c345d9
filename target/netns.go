package target

import "net"

// PrivateLoopbackULA reports whether ip is a second IPv6 loopback address
// the harness may use: IPv6 loopback is ::1 alone, so the checks that need
// a foreign data peer or a third-party listener over IPv6 get one only from
// a unique local address (fc00::/7) on the lo interface of a network
// namespace whose only interface that is up is lo (`ip netns add NS`;
// `ip -n NS addr add fd00:f7b::2/128 dev lo`; scripts/ipv6-netns): no
// packet can leave it. Anywhere else (a namespace with a network interface,
// an address on another interface, a global address) it is false.
func PrivateLoopbackULA(ip net.IP) bool {
	if ip.To4() != nil || len(ip) != net.IPv6len || ip[0]&0xfe != 0xfc {
		return false
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return false
	}
	onLo := false
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		if ifc.Flags&net.FlagLoopback == 0 {
			return false // this namespace reaches a network
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			return false
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				onLo = true
			}
		}
	}
	return onLo
}
