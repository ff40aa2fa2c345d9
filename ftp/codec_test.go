package ftp

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// Observed 227/229 replies from real servers (full reply lines with CRLF).
var realPASV = []struct {
	server string
	line   string
	port   int
}{
	{"vsftpd", "227 Entering Passive Mode (127,0,0,1,117,52).", 30004},
	{"proftpd", "227 Entering Passive Mode (127,0,0,1,117,63).", 30015},
	{"pure-ftpd", "227 Entering Passive Mode (127,0,0,1,117,68)", 30020},
	{"pyftpdlib", "227 Entering passive mode (127,0,0,1,117,79).", 30031},
	{"twisted", "227 Entering Passive Mode (127,0,0,1,117,88).", 30040},
	{"inetutils", "227 Entering Passive Mode (127,0,0,1,186,59)", 47675},
	{"ftpserverlib", "227 Entering Passive Mode (127,0,0,1,117,109)", 30061},
	// curl test-suite style variants (RFC 1123 §4.1.2.6: scan for the numbers)
	{"no-parens", "227 Entering Passive Mode 127,0,0,1,4,51", 1075},
	{"listen-to", "227 listen to 127,0,0,1,4,51", 1075},
	{"equals", "227 =127,0,0,1,4,51", 1075},
	{"spaces-after-commas", "227 Entering Passive Mode (127, 0, 0, 1, 4, 51)", 1075},
	{"trailing-text", "227 Entering Passive Mode (127,0,0,1,4,51) thanks", 1075},
	{"seventh-number-ignored", "227 (127,0,0,1,4,51,9)", 1075},
}

var realEPSV = []struct {
	server string
	line   string
	port   int
}{
	{"vsftpd", "229 Entering Extended Passive Mode (|||30004|)", 30004},
	{"proftpd", "229 Entering Extended Passive Mode (|||30016|)", 30016},
	{"pure-ftpd", "229 Extended Passive mode OK (|||30020|)", 30020},
	{"pyftpdlib", "229 Entering extended passive mode (|||30034|).", 30034},
	{"inetutils", "229 Entering Extended Passive Mode (|||39045|)", 39045},
	{"ftpserverlib", "229 Entering Extended Passive Mode (|||30064|)", 30064},
	{"other-delimiter", "229 ok (!!!1!)", 1},
	{"tilde-max-port", "229 ok (~~~65535~)", 65535},
	{"paren-text-first", "229 Entering (extended) passive mode (|||30004|)", 30004},
}

// frameLine frames one reply line the way Conn does.
func frameLine(t *testing.T, line string) Reply {
	t.Helper()
	rr := NewReplyReader(newTestReader([]byte(line+"\r\n")), 0)
	r, err := rr.ReadReply()
	if err != nil || len(r.Problems) > 0 {
		t.Fatalf("framing %q: %v %q", line, err, r.Problems)
	}
	return r
}

func TestParsePASVReal(t *testing.T) {
	for _, tc := range realPASV {
		t.Run(tc.server, func(t *testing.T) {
			r := frameLine(t, tc.line)
			for _, text := range []string{r.Text(), tc.line} {
				ep, err := ParsePASV(text)
				if err != nil {
					t.Fatalf("ParsePASV(%q): %v", text, err)
				}
				if !ep.IP.Equal(net.IPv4(127, 0, 0, 1)) || len(ep.IP) != 4 || ep.Port != tc.port {
					t.Fatalf("ParsePASV(%q) = %v (len %d), want 127.0.0.1:%d", text, ep, len(ep.IP), tc.port)
				}
			}
		})
	}
}

func TestParseEPSVReal(t *testing.T) {
	for _, tc := range realEPSV {
		t.Run(tc.server, func(t *testing.T) {
			r := frameLine(t, tc.line)
			for _, text := range []string{r.Text(), tc.line} {
				p, err := ParseEPSV(text)
				if err != nil || p != tc.port {
					t.Fatalf("ParseEPSV(%q) = %d, %v; want %d", text, p, err, tc.port)
				}
			}
		})
	}
}

func TestParsePASVInvalid(t *testing.T) {
	for _, text := range []string{
		"Entering Passive Mode (127,0,0,1,117)",      // five numbers
		"Entering Passive Mode (127,0,0,256,117,52)", // value > 255
		"Entering Passive Mode (127,0,0,1,256,1)",
		"Entering Passive Mode (127,0,0,1,117,1000)",
		"Entering Passive Mode (127,0,0,1,0,0)", // port 0
		"Entering Passive Mode (127,0,0,1,,52)",
		"Entering Passive Mode (127,0,0,1,117,-5)",
		"Entering Passive Mode (a,b,c,d,e,f)",
		"Entering Passive Mode (127.0.0.1:30004)",
		"Entering Passive Mode (127,0,0,1,117;52)",
		"Entering Passive Mode (999999,0,0,1,117,52)",
		"Entering Passive Mode",
		"",
	} {
		if ep, err := ParsePASV(text); err == nil {
			t.Errorf("ParsePASV(%q) = %v, want error", text, ep)
		}
	}
}

func TestParseEPSVInvalid(t *testing.T) {
	for _, text := range []string{
		"Entering Extended Passive Mode (||port|)",
		"Entering Extended Passive Mode (||30004|)", // one delimiter short
		"Entering Extended Passive Mode (||||30004|)",
		"Entering Extended Passive Mode (|||0|)",
		"Entering Extended Passive Mode (|||65536|)",
		"Entering Extended Passive Mode (|||99999999|)",
		"Entering Extended Passive Mode (|||5000!)", // mixed delimiters
		"Entering Extended Passive Mode (!||5000|)",
		"Entering Extended Passive Mode (111300041)", // delimiter a digit
		"Entering Extended Passive Mode (   30004 )", // space (32) is not allowed
		"Entering Extended Passive Mode (|1|127.0.0.1|30004|)",
		"Entering Extended Passive Mode (|||+5000|)",
		"Entering Extended Passive Mode (|||30004|",
		"Entering Extended Passive Mode |||30004|",
		"Entering Extended Passive Mode (|||30004|x)",
		"Entering Extended Passive Mode (|||)",
		"Entering Extended Passive Mode ()",
		"(\x7f\x7f\x7f1\x7f)", // DEL is outside 33..126
		"",
	} {
		if p, err := ParseEPSV(text); err == nil {
			t.Errorf("ParseEPSV(%q) = %d, want error", text, p)
		}
	}
}

func TestFormatPORTRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		port int
		want string
	}{
		{"127.0.0.1", 30004, "127,0,0,1,117,52"},
		{"10.1.2.3", 1, "10,1,2,3,0,1"},
		{"255.255.255.255", 65535, "255,255,255,255,255,255"},
		{"::ffff:192.0.2.7", 256, "192,0,2,7,1,0"}, // IPv4-mapped is IPv4
	} {
		got, err := FormatPORT(net.ParseIP(tc.ip), tc.port)
		if err != nil || got != tc.want {
			t.Errorf("FormatPORT(%s, %d) = %q, %v; want %q", tc.ip, tc.port, got, err, tc.want)
			continue
		}
		ep, err := ParsePASV(got) // PORT and 227 share h1,h2,h3,h4,p1,p2
		if err != nil || !ep.IP.Equal(net.ParseIP(tc.ip)) || ep.Port != tc.port {
			t.Errorf("round trip %q -> %v, %v", got, ep, err)
		}
	}
	for _, bad := range []struct {
		ip   net.IP
		port int
	}{{net.ParseIP("::1"), 21}, {nil, 21}, {net.IPv4(1, 2, 3, 4), -1}, {net.IPv4(1, 2, 3, 4), 65536}} {
		if s, err := FormatPORT(bad.ip, bad.port); err == nil {
			t.Errorf("FormatPORT(%v, %d) = %q, want error", bad.ip, bad.port, s)
		}
	}
}

// parseEPRT is the server side of RFC 2428 §2, for the round trip.
func parseEPRT(s string) (af int, ip net.IP, port int, err error) {
	if len(s) < 2 {
		return 0, nil, 0, fmt.Errorf("short")
	}
	f := strings.Split(s, s[:1])
	if len(f) != 5 || f[0] != "" || f[4] != "" {
		return 0, nil, 0, fmt.Errorf("bad fields %q", f)
	}
	af, _ = strconv.Atoi(f[1])
	ip = net.ParseIP(f[2])
	port, err = strconv.Atoi(f[3])
	if ip == nil || err != nil {
		return 0, nil, 0, fmt.Errorf("bad address or port in %q", s)
	}
	return af, ip, port, nil
}

func TestFormatEPRTRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		port int
		want string
		af   int
	}{
		{"127.0.0.1", 30004, "|1|127.0.0.1|30004|", 1},
		{"::ffff:127.0.0.2", 21, "|1|127.0.0.2|21|", 1},
		{"::1", 30004, "|2|::1|30004|", 2},
		{"2001:db8::68", 65535, "|2|2001:db8::68|65535|", 2},
		{"fe80::1:2:3:4", 1, "|2|fe80::1:2:3:4|1|", 2},
	} {
		got := FormatEPRT(net.ParseIP(tc.ip), tc.port)
		if got != tc.want {
			t.Errorf("FormatEPRT(%s, %d) = %q, want %q", tc.ip, tc.port, got, tc.want)
			continue
		}
		af, ip, port, err := parseEPRT(got)
		if err != nil || af != tc.af || !ip.Equal(net.ParseIP(tc.ip)) || port != tc.port {
			t.Errorf("round trip %q -> %d %v %d %v", got, af, ip, port, err)
		}
	}
}

func TestFormatPASVRoundTrip(t *testing.T) {
	for _, ep := range []Endpoint{
		{IP: net.IPv4(127, 0, 0, 1), Port: 30004},
		{IP: net.IPv4(192, 0, 2, 200).To4(), Port: 1},
		{IP: net.IPv4(10, 0, 0, 1), Port: 256},
		{IP: net.IPv4(255, 255, 255, 255), Port: 65535},
	} {
		text := FormatPASV(ep)
		if !strings.HasPrefix(text, "Entering Passive Mode (") {
			t.Errorf("FormatPASV = %q", text)
		}
		got, err := ParsePASV(text)
		if err != nil || !got.IP.Equal(ep.IP) || got.Port != ep.Port {
			t.Errorf("FormatPASV(%v) = %q -> %v, %v", ep, text, got, err)
		}
		// and through a framed 227 reply
		r := frameLine(t, "227 "+text)
		if got, err := ParsePASV(r.Text()); err != nil || got.String() != ep.String() {
			t.Errorf("framed %q -> %v, %v", r.Raw, got, err)
		}
	}
	// No IPv4 address: 0.0.0.0 is advertised.
	if got, err := ParsePASV(FormatPASV(Endpoint{Port: 21})); err != nil || !got.IP.Equal(net.IPv4zero) || got.Port != 21 {
		t.Errorf("nil IP: %v, %v", got, err)
	}
	for _, p := range []int{1, 21, 30004, 65535} {
		if got, err := ParseEPSV(FormatEPSV(p)); err != nil || got != p {
			t.Errorf("FormatEPSV(%d) -> %d, %v", p, got, err)
		}
	}
}

func TestEndpointString(t *testing.T) {
	if s := (Endpoint{IP: net.IPv4(127, 0, 0, 1), Port: 21}).String(); s != "127.0.0.1:21" {
		t.Errorf("got %q", s)
	}
	if s := (Endpoint{IP: net.ParseIP("::1"), Port: 21}).String(); s != "[::1]:21" {
		t.Errorf("got %q", s)
	}
	if s := (Endpoint{Port: 21}).String(); s != ":21" {
		t.Errorf("got %q", s)
	}
}

func TestParseAddrPolicy(t *testing.T) {
	for in, want := range map[string]AddrPolicy{"strict": Strict, "control-host": ControlHost, "": ControlHost} {
		if p, ok := ParseAddrPolicy(in); !ok || p != want || (in != "" && p.String() != in) {
			t.Errorf("ParseAddrPolicy(%q) = %v, %v", in, p, ok)
		}
	}
	if _, ok := ParseAddrPolicy("loose"); ok {
		t.Error("ParseAddrPolicy accepted an unknown name")
	}
}
