package faulty

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
)

// reply is one server reply as framed by the proxy. Framing only decides
// where one reply ends so that it can be inspected and rewritten; the raw
// bytes are what is forwarded, so a server's quirks (bare LF, unpadded
// lines, odd codes) reach the client unchanged.
type reply struct {
	code  int      // 0 when the first line does not start with a code
	lines []string // text without line ends
	raw   []byte
}

const (
	maxReplyLine = 64 << 10
	maxReplySize = 1 << 20
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

// readLine returns one line including its LF. A line longer than
// maxReplyLine is returned in pieces (long=true) so nothing is buffered
// without bound.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			return line, false, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line) >= maxReplyLine {
				return line, true, nil
			}
			continue
		}
		return line, false, err
	}
}

func trimEOL(b []byte) string {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return string(b)
}

// readReply frames one reply the way package ftp does: "ddd-" opens a
// multi-line reply that ends at "ddd " (or at another code followed by a
// space, which RFC 959 forbids in the middle). A first line without a code
// is a reply of its own with code 0. On error, raw holds whatever was read
// (a partial line at EOF is still forwarded).
func readReply(br *bufio.Reader) (reply, error) {
	var r reply
	var raw bytes.Buffer
	code := ""
	for {
		line, long, err := readLine(br)
		raw.Write(line)
		if err != nil {
			r.raw = raw.Bytes()
			if len(line) > 0 {
				r.lines = append(r.lines, trimEOL(line))
			}
			return r, err
		}
		text := trimEOL(line)
		r.lines = append(r.lines, text)
		if long || raw.Len() > maxReplySize {
			r.raw = raw.Bytes()
			return r, nil
		}
		if code == "" {
			if len(text) < 3 || !isCode(text[:3]) {
				break
			}
			r.code, _ = strconv.Atoi(text[:3])
			if len(text) > 3 && text[3] == '-' {
				code = text[:3]
				continue
			}
			break
		}
		if text == code || (len(text) >= 4 && isCode(text[:3]) && text[3] == ' ') {
			break
		}
	}
	r.raw = raw.Bytes()
	return r, nil
}

// recode gives r another code: every line that starts with r's code and
// a space or hyphen (the first and last of a multi-line reply) gets code
// instead; the line ends stay as the server sent them.
func recode(r reply, code int) []byte {
	old, nw := strconv.Itoa(r.code), []byte(strconv.Itoa(code))
	lines := bytes.SplitAfter(r.raw, []byte("\n"))
	var out []byte
	for _, l := range lines {
		if len(l) > 3 && string(l[:3]) == old && (l[3] == ' ' || l[3] == '-') {
			l = append(append([]byte(nil), nw...), l[3:]...)
		}
		out = append(out, l...)
	}
	return out
}
