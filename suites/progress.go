package suites

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/ftpharness/ftpharness/suites/framework"
)

// progressWidth bounds the live progress line: wider than the terminal it
// would wrap, and a carriage return no longer rewrites it.
const progressWidth = 79

// liveProgress is the one-line progress Options.Progress asks for, fed by
// framework.OnCheckStart (a ReportBeforeEach node would add itself to
// every check's timeline in the reports).
type liveProgress struct {
	mu       sync.Mutex
	w        io.Writer
	n, total int // checks started, selected
	shown    int // width of the line on screen
}

var progress liveProgress

func init() { framework.OnCheckStart = progress.show }

func (p *liveProgress) start(w io.Writer, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.w, p.n, p.total, p.shown = w, 0, total, 0
}

// show rewrites the line: the check starting, its place among those the
// run selected.
func (p *liveProgress) show(id, title string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil {
		return
	}
	p.n++
	line := []rune(fmt.Sprintf("[%d/%d] %s %s", p.n, p.total, id, title))
	if len(line) > progressWidth {
		line = append(line[:progressWidth-3], '.', '.', '.')
	}
	pad := ""
	if n := p.shown - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", string(line), pad)
	p.shown = len(line)
}

// clear blanks the line so the summary starts at its left edge.
func (p *liveProgress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil && p.shown > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shown))
	}
	p.w, p.shown = nil, 0
}
