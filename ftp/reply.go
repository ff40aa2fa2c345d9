package ftp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Reply is one complete server reply (RFC 959 §4.2).
type Reply struct {
	Code  int      // three-digit reply code
	Lines []string // text lines without line ends, code prefix included
	Raw   []byte   // exact bytes received
	At    time.Time
	// Problems lists every way the reply deviates from RFC 959 §4.2
	// (missing CR, mismatched end code, unpadded intermediate line...).
	// An empty list means the reply is well formed.
	Problems []string
}

// Class is the first digit of the code (1..5), 0 for an empty reply.
func (r Reply) Class() int { return r.Code / 100 }

// Is reports whether the code is one of codes.
func (r Reply) Is(codes ...int) bool {
	for _, c := range codes {
		if r.Code == c {
			return true
		}
	}
	return false
}

// Preliminary reports a 1xx reply: another reply follows.
func (r Reply) Preliminary() bool { return r.Class() == 1 }

// Text is the message: every line with its code prefix removed, joined by
// newlines.
func (r Reply) Text() string {
	var parts []string
	for i, l := range r.Lines {
		if (i == 0 || i == len(r.Lines)-1) && len(l) >= 4 && isCode(l[:3]) {
			l = l[4:]
		} else if len(l) >= 3 && isCode(l[:3]) && len(l) == 3 {
			l = ""
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, "\n")
}

// String is the reply as the server sent it, lines joined with " | " when
// it is multi-line, with control bytes escaped (Printable): it goes into
// messages a terminal shows.
func (r Reply) String() string {
	if len(r.Lines) == 0 {
		return "<no reply>"
	}
	return Printable(strings.Join(r.Lines, " | "))
}

// Multiline reports whether the reply spanned more than one line.
func (r Reply) Multiline() bool { return len(r.Lines) > 1 }

// ProtocolError reports a reply that could not be framed, or (with strict
// replies) one that was framed but malformed. Raw holds the bytes as read.
type ProtocolError struct {
	Kind       string // bad-code, line-too-long, reply-too-large, eof-mid-reply, malformed
	Msg        string
	Raw        []byte
	Reply      *Reply // the reply, when it could be framed
	Transcript *Transcript
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("ftp protocol error (%s): %s; raw %q", e.Kind, e.Msg, truncate(e.Raw, 200))
}

// ErrRefused is wrapped by Dial's error when the server greets with 421.
var ErrRefused = errors.New("ftp: server refused the connection (421)")

// Limits on what the reader will accept from a server.
const (
	MaxLineLength = 64 << 10 // one reply line
	MaxReplySize  = 1 << 20  // one whole reply
)

func isCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// replyReader frames replies from a byte stream.
type replyReader struct {
	br *bufio.Reader
}

// readLine returns one line including its terminator (LF, or CRLF). It
// refuses lines longer than MaxLineLength.
func (rr *replyReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := rr.br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLineLength {
			return line, &ProtocolError{Kind: "line-too-long", Msg: fmt.Sprintf("reply line exceeds %d bytes without a line end", MaxLineLength), Raw: truncate(line, 512)}
		}
		if err == nil {
			return line, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// read frames one reply. Framing failures are returned as *ProtocolError
// (or the network error); deviations that still allow framing are listed in
// Reply.Problems.
func (rr *replyReader) read() (Reply, error) {
	var r Reply
	var raw bytes.Buffer
	first := true
	code := ""
	for {
		line, err := rr.readLine()
		raw.Write(line)
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				pe.Raw = truncate(raw.Bytes(), 4096)
				return r, pe
			}
			if len(line) > 0 || !first {
				if errors.Is(err, io.EOF) {
					return r, &ProtocolError{Kind: "eof-mid-reply", Msg: "connection closed in the middle of a reply", Raw: raw.Bytes()}
				}
			}
			return r, err
		}
		if raw.Len() > MaxReplySize {
			return r, &ProtocolError{Kind: "reply-too-large", Msg: fmt.Sprintf("reply exceeds %d bytes", MaxReplySize), Raw: truncate(raw.Bytes(), 4096)}
		}
		text := string(line[:len(line)-1])
		if strings.HasSuffix(text, "\r") {
			text = text[:len(text)-1]
		} else {
			r.Problems = appendOnce(r.Problems, "line ends in LF without CR")
		}
		r.Lines = append(r.Lines, text)
		if first {
			first = false
			if len(text) < 3 || !isCode(text[:3]) || (len(text) > 3 && text[3] != ' ' && text[3] != '-') {
				return r, &ProtocolError{Kind: "bad-code", Msg: "reply does not start with a three-digit code followed by space or hyphen", Raw: raw.Bytes()}
			}
			code = text[:3]
			r.Code, _ = strconv.Atoi(code)
			if text[0] < '1' || text[0] > '5' {
				r.Problems = append(r.Problems, fmt.Sprintf("first digit of code %s is not 1-5", code))
			}
			if len(text) == 3 {
				r.Problems = append(r.Problems, "code not followed by a space")
			}
			if len(text) > 3 && text[3] == '-' {
				continue // multi-line
			}
			break
		}
		// continuation or last line of a multi-line reply
		if len(text) >= 4 && text[:3] == code && text[3] == ' ' || text == code {
			if text == code {
				r.Problems = append(r.Problems, "last line has the code but no space")
			}
			break
		}
		if len(text) >= 4 && isCode(text[:3]) && text[3] == ' ' {
			// A different code with a space: RFC 959 says intermediate lines
			// starting with digits must be padded, so this is the end of the
			// reply with the wrong code.
			r.Problems = append(r.Problems, fmt.Sprintf("multi-line reply %s- ended with code %s", code, text[:3]))
			break
		}
		// "<same code>-text" continuation lines (pure-ftpd's greeting, many
		// banners) cannot be confused with the last line and are the
		// universal practice, so they are not graded as unpadded digits.
		if len(text) >= 3 && isCode(text[:3]) && !(len(text) >= 4 && text[:3] == code && text[3] == '-') {
			r.Problems = appendOnce(r.Problems, "intermediate line begins with three digits (RFC 959 §4.2 requires padding)")
		}
	}
	r.Raw = raw.Bytes()
	r.At = time.Now()
	return r, nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
