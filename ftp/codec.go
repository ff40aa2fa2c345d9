package ftp

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Endpoint is a data-connection address as advertised or requested.
type Endpoint struct {
	IP   net.IP // nil when the reply carries no address (EPSV)
	Port int
}

func (e Endpoint) String() string {
	if e.IP == nil {
		return fmt.Sprintf(":%d", e.Port)
	}
	return net.JoinHostPort(e.IP.String(), strconv.Itoa(e.Port))
}

// ParsePASV extracts the endpoint from a 227 reply's text the way RFC 1123
// §4.1.2.6 tells clients to: find the first run of six comma-separated
// decimal numbers anywhere in the text, parentheses optional. Values above
// 255 and port 0 are rejected.
func ParsePASV(text string) (Endpoint, error) {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && isDigit(text[i-1])) {
			continue
		}
		nums, ok := sixNumbers(text[i:])
		if !ok {
			continue
		}
		for _, n := range nums {
			if n > 255 {
				return Endpoint{}, fmt.Errorf("PASV reply %q: value %d exceeds 255", text, n)
			}
		}
		port := nums[4]*256 + nums[5]
		if port == 0 {
			return Endpoint{}, fmt.Errorf("PASV reply %q: port 0", text)
		}
		ip := net.IPv4(byte(nums[0]), byte(nums[1]), byte(nums[2]), byte(nums[3])).To4()
		return Endpoint{IP: ip, Port: port}, nil
	}
	return Endpoint{}, fmt.Errorf("PASV reply %q: no six comma-separated numbers", text)
}

// sixNumbers reads "n,n,n,n,n,n" at the start of s (spaces around commas
// tolerated, as some servers emit them).
func sixNumbers(s string) ([]int, bool) {
	var nums []int
	i := 0
	for len(nums) < 6 {
		for i < len(s) && s[i] == ' ' && len(nums) > 0 {
			i++
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i || j-i > 5 {
			return nil, false
		}
		n, _ := strconv.Atoi(s[i:j])
		nums = append(nums, n)
		i = j
		if len(nums) == 6 {
			break
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) || s[i] != ',' {
			return nil, false
		}
		i++
	}
	return nums, true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// ParseEPSV extracts the port from a 229 reply's text (RFC 2428 §3):
// "(<d><d><d><port><d>)" where <d> is one character in 33..126 repeated,
// the address and protocol fields empty, and the port 1..65535.
func ParseEPSV(text string) (int, error) {
	open := strings.IndexByte(text, '(')
	for open >= 0 {
		if p, err := epsvAt(text[open+1:]); err == nil {
			return p, nil
		} else if next := strings.IndexByte(text[open+1:], '('); next >= 0 {
			open = open + 1 + next
			continue
		} else {
			return 0, fmt.Errorf("EPSV reply %q: %v", text, err)
		}
	}
	return 0, fmt.Errorf("EPSV reply %q: no parenthesised (|||port|) field", text)
}

func epsvAt(s string) (int, error) {
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return 0, errors.New("no closing parenthesis")
	}
	f := s[:end]
	if len(f) < 5 {
		return 0, errors.New("field too short")
	}
	d := f[0]
	if d < 33 || d > 126 || isDigit(d) {
		return 0, fmt.Errorf("delimiter %q not in 33..126 (non-digit)", d)
	}
	parts := strings.Split(f, string(d))
	// "|||port|" splits into ["", "", "", "port", ""]
	if len(parts) != 5 || parts[0] != "" || parts[1] != "" || parts[2] != "" || parts[4] != "" {
		return 0, fmt.Errorf("want <d><d><d>port<d>, got %q", f)
	}
	p := parts[3]
	if p == "" || len(p) > 5 {
		return 0, fmt.Errorf("bad port %q", p)
	}
	for i := 0; i < len(p); i++ {
		if !isDigit(p[i]) {
			return 0, fmt.Errorf("bad port %q", p)
		}
	}
	n, _ := strconv.Atoi(p)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d outside 1..65535", n)
	}
	return n, nil
}

// FormatPORT renders a PORT argument "h1,h2,h3,h4,p1,p2" (IPv4 only).
func FormatPORT(ip net.IP, port int) (string, error) {
	v4 := ip.To4()
	if v4 == nil {
		return "", fmt.Errorf("PORT needs an IPv4 address, got %v", ip)
	}
	if port < 0 || port > 65535 {
		return "", fmt.Errorf("port %d out of range", port)
	}
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d", v4[0], v4[1], v4[2], v4[3], port>>8, port&0xff), nil
}

// FormatEPRT renders an EPRT argument "|1|a.b.c.d|port|" or "|2|v6|port|".
func FormatEPRT(ip net.IP, port int) string {
	af := 2
	if ip.To4() != nil {
		af = 1
		ip = ip.To4()
	}
	return fmt.Sprintf("|%d|%s|%d|", af, ip.String(), port)
}

// FormatPASV renders a 227 reply text for ep in the RFC 959 §4.2.1 form
// (used by the fault proxy and by test servers).
func FormatPASV(ep Endpoint) string {
	v4 := ep.IP.To4()
	if v4 == nil {
		v4 = net.IPv4zero.To4()
	}
	return fmt.Sprintf("Entering Passive Mode (%d,%d,%d,%d,%d,%d).", v4[0], v4[1], v4[2], v4[3], ep.Port>>8, ep.Port&0xff)
}

// FormatEPSV renders a 229 reply text for port.
func FormatEPSV(port int) string {
	return fmt.Sprintf("Entering Extended Passive Mode (|||%d|)", port)
}
