package loadgen

import (
	"strings"
	"unicode/utf8"
)

// TermSafe makes text that came from a server (a banner, a reply, a file
// name) safe to print: control characters (C0 with tab and newline, DEL,
// C1, so no ESC, CSI or OSC sequence reaches a terminal), Unicode
// direction overrides and bytes that are not UTF-8 are written as \xNN or
// \uNNNN. The result is valid UTF-8 (HTML pages use it too). Text without
// such characters comes back as it is, without allocating.
//
// The ftp package is getting the same helper for ftpconform; this one
// should fold into it once both have landed.
func TermSafe(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&15])
		case r < 0x80 && unsafeRune(r, n):
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&15])
		case unsafeRune(r, n):
			b.WriteString(`\u`)
			for sh := 12; sh >= 0; sh -= 4 {
				b.WriteByte(hexDigits[(r>>sh)&15])
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// unsafeRune: a control character, a direction override (text that reads
// differently from what it is) or an undecodable byte.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
		return true
	}
	return false
}

// RedactURLs hides the password of every URL in s (a command line, an
// error message): ftp://user:secret@host becomes ftp://user:****@host.
// Passwords never reach a report, a terminal or a log.
func RedactURLs(s string) string {
	out := s
	from := 0
	for {
		k := strings.Index(out[from:], "://")
		if k < 0 {
			return out
		}
		start := from + k + 3
		end := start
		for end < len(out) && !strings.ContainsRune("/ \t\r\n\"'", rune(out[end])) {
			end++
		}
		auth := out[start:end]
		at := strings.LastIndexByte(auth, '@')
		colon := strings.IndexByte(auth, ':')
		if at >= 0 && colon >= 0 && colon < at && auth[colon+1:at] != "****" {
			auth = auth[:colon+1] + "****" + auth[at:]
			out = out[:start] + auth + out[end:]
		}
		from = start + len(auth)
	}
}
