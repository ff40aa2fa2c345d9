package ftp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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

// Error shows at most 200 bytes of Raw; Raw itself holds every byte read
// for the reply (bounded by the reader's limits).
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

// ReplyReader frames replies from a byte stream (RFC 959 §4.2), in the
// manner of net/textproto's Reader: "ddd-" opens a multi-line reply that
// ends at "ddd " (or at another code followed by a space, which RFC 959
// forbids in the middle). Framing failures are returned as
// *ProtocolError; deviations that still allow framing are listed in
// Reply.Problems. Conn reads with one; the fault proxy frames with one so
// that both see replies alike.
//
// On every error the returned Reply holds in Raw the bytes read for it (a
// partial line at EOF included), so a caller that forwards bytes loses
// none; so does ProtocolError.Raw, bounded by the limits.
type ReplyReader struct {
	br       *bufio.Reader
	maxLine  int
	maxReply int
}

// NewReplyReader reads replies from r through a buffer of bufSize bytes
// (4096 when bufSize <= 0; r itself when it is a *bufio.Reader at least
// that large). Lines and replies are limited to MaxLineLength and
// MaxReplySize (SetLimits changes them).
func NewReplyReader(r io.Reader, bufSize int) *ReplyReader {
	rr := new(ReplyReader)
	rr.init(r, bufSize)
	return rr
}

func (rr *ReplyReader) init(r io.Reader, bufSize int) {
	if bufSize <= 0 {
		bufSize = 4096
	}
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < bufSize {
		br = bufio.NewReaderSize(r, bufSize)
	}
	*rr = ReplyReader{br: br, maxLine: MaxLineLength, maxReply: MaxReplySize}
}

// SetLimits bounds one line and one whole reply (values <= 0 keep the
// current limit). A longer line is a *ProtocolError of kind
// line-too-long whose Raw holds the line so far; reading on continues
// with the rest of it.
func (rr *ReplyReader) SetLimits(maxLine, maxReply int) {
	if maxLine > 0 {
		rr.maxLine = maxLine
	}
	if maxReply > 0 {
		rr.maxReply = maxReply
	}
}

// Buffered is the reader's buffer (to peek or to read what follows the
// replies).
func (rr *ReplyReader) Buffered() *bufio.Reader { return rr.br }

// readLine appends one line including its terminator (LF, or CRLF) to raw.
// It refuses lines longer than maxLine (the bytes read stay in raw).
func (rr *ReplyReader) readLine(raw []byte) ([]byte, int, error) {
	start := len(raw)
	for {
		chunk, err := rr.br.ReadSlice('\n')
		raw = append(raw, chunk...)
		if len(raw)-start > rr.maxLine {
			return raw, start, &ProtocolError{Kind: "line-too-long", Msg: fmt.Sprintf("reply line exceeds %d bytes without a line end", rr.maxLine)}
		}
		if err == nil {
			return raw, start, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return raw, start, err
	}
}

// ReadReply frames one reply.
func (rr *ReplyReader) ReadReply() (Reply, error) {
	var r Reply
	var raw []byte
	var endsBuf [8]int
	lines := endsBuf[:0] // end offsets of the text of each line in raw
	first := true
	code := ""
	var err error
	for {
		var start int
		raw, start, err = rr.readLine(raw)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) && (start < len(raw) || !first) && errors.Is(err, io.EOF) {
				pe = &ProtocolError{Kind: "eof-mid-reply", Msg: "connection closed in the middle of a reply"}
				err = pe
			}
			if start < len(raw) {
				lines = append(lines, -len(raw)) // partial line, no end
			}
			r.setLines(raw, lines)
			if pe != nil {
				pe.Raw = r.Raw
			}
			return r, err
		}
		if len(raw) > rr.maxReply {
			err = &ProtocolError{Kind: "reply-too-large", Msg: fmt.Sprintf("reply exceeds %d bytes", rr.maxReply)}
			break
		}
		end := len(raw) - 1
		if end > start && raw[end-1] == '\r' {
			end--
		} else {
			r.Problems = appendOnce(r.Problems, "line ends in LF without CR")
		}
		lines = append(lines, end)
		text := raw[start:end]
		if first {
			first = false
			if len(text) < 3 || !isCodeBytes(text) || (len(text) > 3 && text[3] != ' ' && text[3] != '-') {
				err = &ProtocolError{Kind: "bad-code", Msg: "reply does not start with a three-digit code followed by space or hyphen"}
				break
			}
			code = string(text[:3])
			r.Code = int(text[0]-'0')*100 + int(text[1]-'0')*10 + int(text[2]-'0')
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
		if p, done := endOfMulti(text, code); done {
			if p != "" {
				r.Problems = append(r.Problems, p)
			}
			break
		} else if p != "" {
			r.Problems = appendOnce(r.Problems, p)
		}
	}
	r.setLines(raw, lines)
	if err != nil {
		err.(*ProtocolError).Raw = r.Raw
		return r, err
	}
	r.At = time.Now()
	return r, nil
}

// endOfMulti grades text, a line after the first of a multi-line reply
// with code: whether it ends the reply, and the problem it shows if any.
func endOfMulti(text []byte, code string) (problem string, done bool) {
	if len(text) >= 4 && string(text[:3]) == code && text[3] == ' ' {
		return "", true
	}
	if string(text) == code {
		return "last line has the code but no space", true
	}
	if len(text) >= 4 && isCodeBytes(text) && text[3] == ' ' {
		// A different code with a space: RFC 959 says intermediate lines
		// starting with digits must be padded, so this is the end of the
		// reply with the wrong code.
		return fmt.Sprintf("multi-line reply %s- ended with code %s", code, text[:3]), true
	}
	// "<same code>-text" continuation lines (pure-ftpd's greeting, many
	// banners) cannot be confused with the last line and are the
	// universal practice, so they are not graded as unpadded digits.
	if len(text) >= 3 && isCodeBytes(text) && !(len(text) >= 4 && string(text[:3]) == code && text[3] == '-') {
		return "intermediate line begins with three digits (RFC 959 §4.2 requires padding)", false
	}
	return "", false
}

// setLines sets Raw and Lines: one string holds the whole reply and each
// line is a slice of it (ends: the text end of each line in raw; negative
// for a last line without a line end).
func (r *Reply) setLines(raw []byte, ends []int) {
	r.Raw = raw
	if len(ends) == 0 {
		return
	}
	s := string(raw)
	r.Lines = make([]string, len(ends))
	start := 0
	for i, e := range ends {
		if e < 0 {
			r.Lines[i] = strings.TrimSuffix(s[start:-e], "\r")
			break
		}
		r.Lines[i] = s[start:e]
		start = e + 1
		if start < len(s) && s[start-1] == '\r' {
			start++
		}
	}
}

func isCodeBytes(b []byte) bool {
	return len(b) >= 3 && b[0] >= '0' && b[0] <= '9' && b[1] >= '0' && b[1] <= '9' && b[2] >= '0' && b[2] <= '9'
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
