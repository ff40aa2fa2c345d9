package ftp

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Printable returns s safe to write to a terminal: the bytes a server
// chose (banner, replies, file names) must not move the cursor, recolour,
// set the window title, plant an OSC 8 link or an OSC 52 clipboard write.
// C0 controls other than tab and newline, DEL and invalid UTF-8 become
// \xNN; C1 controls (U+0080–U+009F) become \u00NN. Printable Unicode stays.
func Printable(s string) string {
	if printableAlready(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// printableAlready is the fast path: plain ASCII text needs no copy.
func printableAlready(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t' && c != '\n') || c >= 0x7f {
			return false
		}
	}
	return true
}

// MinSecretLen is the shortest secret Redact masks wherever it occurs: a
// shorter one ("p", "ftp") would mangle ordinary words. PASS arguments are
// masked whatever their length.
const MinSecretLen = 4

// Masked replaces a secret in any output.
const Masked = "****"

// Redact masks every occurrence of a secret of at least MinSecretLen bytes
// in s, and "PASS <secret>" whatever its length, so a password never
// reaches a failure message or a report. Text that is a command stream
// (a transcript) also needs MaskPASS.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range secretForms(sec) {
			s = strings.ReplaceAll(s, "PASS "+form, "PASS "+Masked)
			if len(sec) >= MinSecretLen {
				s = strings.ReplaceAll(s, form, Masked)
			}
		}
	}
	return s
}

// secretForms is sec as written and as %q writes it inside quotes (raw
// writes and messages quote bytes): a password with a quote, backslash
// or non-ASCII byte differs there.
func secretForms(sec string) []string {
	q := strconv.Quote(sec)
	if inner := q[1 : len(q)-1]; inner != sec {
		return []string{sec, inner}
	}
	return []string{sec}
}

// MaskPASS masks, in command text, the argument of a PASS verb (any case)
// that starts s or follows any control character — a raw write may carry
// "USER u\rPASS x" or "USER u\x00PASS x" (SEC-005). The argument runs to
// the next control character other than tab.
func MaskPASS(s string) string {
	if !strings.Contains(strings.ToUpper(s), "PASS") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if (i == 0 || isControl(s[i-1])) && len(s)-i > 5 && strings.EqualFold(s[i:i+4], "PASS") && (s[i+4] == ' ' || s[i+4] == '\t') {
			end := i + 5
			for end < len(s) && (s[end] == '\t' || !isControl(s[end])) {
				end++
			}
			if end > i+5 && s[i+5:end] != Masked {
				b.WriteString(s[i:i+5] + Masked)
				i = end
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

// Redact registers secrets (the password) that Add masks in every later
// entry, in whichever direction: a server may echo what it was sent.
func (t *Transcript) Redact(secrets ...string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range secrets {
		if s != "" {
			t.secrets = append(t.secrets, s)
		}
	}
}

// mask is MaskPASS and Redact with the transcript's registered secrets.
func (t *Transcript) mask(s string) string {
	if t == nil {
		return MaskPASS(s)
	}
	t.mu.Lock()
	secrets := t.secrets
	t.mu.Unlock()
	return MaskPASS(Redact(s, secrets...))
}

// WithSecrets masks secrets in the connection's transcript (see
// Transcript.Redact). Give it after WithTranscript, which replaces the
// transcript.
func WithSecrets(secrets ...string) Option {
	return func(o *options) {
		if o.tr == nil {
			o.tr = NewTranscript()
		}
		o.tr.Redact(secrets...)
	}
}
