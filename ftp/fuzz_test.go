package ftp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
)

func FuzzParsePASV(f *testing.F) {
	for _, tc := range realPASV {
		f.Add(tc.line)
		f.Add(strings.TrimPrefix(tc.line, "227 "))
	}
	for _, s := range []string{
		"(127,0,0,1,117)", "(127,0,0,256,117,52)", "(127,0,0,1,0,0)", "(0,0,0,0,0,1)",
		"(255,255,255,255,255,255)", "1,2,3,4,5,6,7,8", "(00127,000,0,1,117,52)", "(1 ,2 , 3,4,5,6)",
		"123456,1,2,3,4,5,6", "", ",,,,,", "9,9,9,9,9", "(99999,0,0,1,0,1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ep, err := ParsePASV(text)
		if err != nil {
			if ep.IP != nil || ep.Port != 0 {
				t.Fatalf("error with non-zero endpoint %v", ep)
			}
			return
		}
		if ep.Port < 1 || ep.Port > 65535 {
			t.Fatalf("ParsePASV(%q) port %d outside 1..65535", text, ep.Port)
		}
		if len(ep.IP) != net.IPv4len {
			t.Fatalf("ParsePASV(%q) IP %v is not 4 bytes", text, ep.IP)
		}
		again, err := ParsePASV(FormatPASV(ep))
		if err != nil || !again.IP.Equal(ep.IP) || again.Port != ep.Port {
			t.Fatalf("FormatPASV(%v) re-parses to %v, %v", ep, again, err)
		}
		port, err := FormatPORT(ep.IP, ep.Port)
		if err != nil {
			t.Fatalf("FormatPORT(%v): %v", ep, err)
		}
		if again, err := ParsePASV(port); err != nil || again.String() != ep.String() {
			t.Fatalf("FormatPORT(%v) = %q re-parses to %v, %v", ep, port, again, err)
		}
	})
}

func FuzzParseEPSV(f *testing.F) {
	for _, tc := range realEPSV {
		f.Add(tc.line)
		f.Add(strings.TrimPrefix(tc.line, "229 "))
	}
	for _, s := range []string{
		"(||port|)", "(|||0|)", "(|||65536|)", "(|||5000!)", "(111300041)", "(   30004 )",
		"(|1|127.0.0.1|30004|)", "((|||1|)", "(|||1|", "()", "(", ")", "(|||00001|)", "(||||)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParseEPSV(text)
		if err != nil {
			if p != 0 {
				t.Fatalf("error with port %d", p)
			}
			return
		}
		if p < 1 || p > 65535 {
			t.Fatalf("ParseEPSV(%q) port %d outside 1..65535", text, p)
		}
		if !strings.Contains(text, "(") || !strings.Contains(text, ")") {
			t.Fatalf("ParseEPSV(%q) succeeded without a parenthesised field", text)
		}
		if again, err := ParseEPSV(FormatEPSV(p)); err != nil || again != p {
			t.Fatalf("FormatEPSV(%d) re-parses to %d, %v", p, again, err)
		}
	})
}

// FuzzReplyReader frames arbitrary bytes. Properties: no panic; a
// successful reply has a code in 0..999 matching its first line, at least
// one line, and Raw equal to exactly the next unconsumed input bytes; a
// *ProtocolError's Raw is also taken from the unconsumed input.
func FuzzReplyReader(f *testing.F) {
	for _, tc := range frameCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	for _, tc := range realPASV {
		f.Add([]byte(tc.line + "\r\n"))
	}
	for _, tc := range realEPSV {
		f.Add([]byte(tc.line + "\r\n"))
	}
	for _, s := range []string{
		"", "\n", "\r\n", "\r", "220", "220-", "220-\r\n", "220-a\r\n220", "220 a\r\n221 b\r\n",
		"120 wait\r\n220 ok\r\n", "211-a\r\n211-b\r\n211 c\r\n", "211-\n\n\n211 \n", "\x00\x01\xff\r\n",
		"220 \xff\xfe\r\n", "999-x\r\n999\r\n", "000 \r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := NewReplyReader(newTestReader(data), 0)
		rest := data
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatalf("more replies (%d) than input bytes", n)
			}
			r, err := rr.ReadReply()
			if err != nil {
				var pe *ProtocolError
				if errors.As(err, &pe) {
					if !bytes.HasPrefix(rest, pe.Raw) || len(pe.Raw) == 0 {
						t.Fatalf("ProtocolError Raw %q is not a prefix of the unconsumed input %q", pe.Raw, rest)
					}
				} else if err != io.EOF || len(rest) != 0 {
					t.Fatalf("unexpected error %v with %d bytes unconsumed", err, len(rest))
				}
				return
			}
			if r.Code < 0 || r.Code > 999 {
				t.Fatalf("code %d outside 0..999", r.Code)
			}
			if len(r.Lines) == 0 {
				t.Fatalf("reply without lines: %#v", r)
			}
			if first := r.Lines[0]; len(first) < 3 || !isCode(first[:3]) || atoi3(first) != r.Code {
				t.Fatalf("code %d does not match first line %q", r.Code, first)
			}
			if len(r.Raw) == 0 || !bytes.HasPrefix(rest, r.Raw) {
				t.Fatalf("Raw %q is not the next input bytes %q", r.Raw, rest)
			}
			if got := strings.Count(string(r.Raw), "\n"); got != len(r.Lines) {
				t.Fatalf("%d lines but %d LFs in Raw", len(r.Lines), got)
			}
			if (len(r.Problems) == 0) != (bytes.Count(r.Raw, []byte("\r\n")) == len(r.Lines) && wellFormed(r)) {
				t.Fatalf("Problems %q inconsistent with reply %q", r.Problems, r.Raw)
			}
			rest = rest[len(r.Raw):]
		}
	})
}

func atoi3(s string) int { return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0') }

// wellFormed is an independent statement of RFC 959 §4.2 for one framed
// reply (line ends already checked by the caller): first digit 1-5, code
// followed by space or hyphen, a multi-line reply ends with "code " and
// intermediate lines beginning with three digits are either padded or
// continue the same code with a hyphen.
func wellFormed(r Reply) bool {
	first := r.Lines[0]
	if first[0] < '1' || first[0] > '5' || len(first) < 4 {
		return false
	}
	code := first[:3]
	if first[3] == ' ' {
		return len(r.Lines) == 1
	}
	last := r.Lines[len(r.Lines)-1]
	if len(r.Lines) < 2 || !strings.HasPrefix(last, code+" ") {
		return false
	}
	for _, l := range r.Lines[1 : len(r.Lines)-1] {
		if len(l) >= 3 && isCode(l[:3]) && !strings.HasPrefix(l, code+"-") {
			return false
		}
	}
	return true
}
