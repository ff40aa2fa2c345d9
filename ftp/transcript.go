package ftp

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Direction of a transcript entry.
type Direction byte

const (
	Sent     Direction = '>' // client to server
	Received Direction = '<' // server to client
	Note     Direction = '#' // harness annotation (data connections, errors)
)

// Entry is one line of a transcript.
type Entry struct {
	At   time.Duration // since the transcript started
	Dir  Direction
	Text string // without the line end
}

// Transcript records a control session. It is safe for concurrent use.
type Transcript struct {
	mu      sync.Mutex
	start   time.Time
	entries []Entry
	limit   int
	dropped int
	secrets []string // masked in every entry (Redact)
}

// maxTranscriptEntries bounds memory for long or hostile sessions; the
// oldest entries are kept because they explain how the session began, and
// the newest are kept because they explain how it failed.
const maxTranscriptEntries = 4000

// NewTranscript starts an empty transcript.
func NewTranscript() *Transcript {
	return &Transcript{start: time.Now(), limit: maxTranscriptEntries}
}

// Add records one entry. Passwords are masked (see Redact): the argument
// of a PASS command and every registered secret.
func (t *Transcript) Add(dir Direction, text string) {
	if t == nil {
		return
	}
	text = t.mask(strings.TrimRight(text, "\r\n"))
	if len(text) > 512 {
		text = fmt.Sprintf("%s… (%d bytes)", text[:512], len(text))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := Entry{At: time.Since(t.start), Dir: dir, Text: text}
	if len(t.entries) >= t.limit {
		// keep the first half, slide the rest
		half := t.limit / 2
		copy(t.entries[half:], t.entries[half+1:])
		t.entries = t.entries[:len(t.entries)-1]
		t.dropped++
	}
	t.entries = append(t.entries, e)
}

// Notef records a harness note.
func (t *Transcript) Notef(format string, args ...any) {
	if t == nil {
		return
	}
	t.Add(Note, fmt.Sprintf(format, args...))
}

// Entries returns a copy of all entries.
func (t *Transcript) Entries() []Entry {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Entry(nil), t.entries...)
}

// String renders the whole transcript.
func (t *Transcript) String() string { return t.Tail(0) }

// Tail renders the last n entries (all when n <= 0).
func (t *Transcript) Tail(n int) string {
	es := t.Entries()
	skipped := 0
	if n > 0 && len(es) > n {
		skipped = len(es) - n
		es = es[skipped:]
	}
	var b strings.Builder
	if skipped > 0 {
		fmt.Fprintf(&b, "  … %d earlier lines\n", skipped)
	}
	for _, e := range es {
		// Printable: the text is the server's to choose; \n inside an
		// entry (a raw read) is escaped so one entry stays one line.
		fmt.Fprintf(&b, "  %8.3fs %c %s\n", e.At.Seconds(), e.Dir, strings.ReplaceAll(Printable(e.Text), "\n", `\n`))
	}
	return b.String()
}
