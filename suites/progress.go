package suites

import (
	"fmt"
	"io"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// progressWidth bounds the live progress line: wider than the terminal it
// would wrap, and a carriage return no longer rewrites it.
const progressWidth = 79

// liveProgress is the one-line progress Options.Progress asks for.
type liveProgress struct {
	mu          sync.Mutex
	w           io.Writer
	done, total int
	shown       int // width of the line on screen
}

var progress liveProgress

var _ = ReportBeforeSuite(func(r Report) {
	progress.start(options.Progress, r.PreRunStats.SpecsThatWillRun)
})

var _ = ReportBeforeEach(func(r SpecReport) {
	if r.State == types.SpecStatePending || r.State == types.SpecStateSkipped && r.Failure.Message == "" {
		return // not selected
	}
	progress.show(r.LeafNodeText)
})

var _ = ReportAfterEach(func(r SpecReport) {
	if r.State == types.SpecStatePending || r.State == types.SpecStateSkipped && r.Failure.Message == "" {
		return
	}
	progress.finish()
})

func (p *liveProgress) start(w io.Writer, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.w, p.done, p.total, p.shown = w, 0, total, 0
}

// show rewrites the line: checks done of the total, the one running.
func (p *liveProgress) show(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil {
		return
	}
	line := []rune(fmt.Sprintf("[%d/%d] %s", p.done, p.total, text))
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

func (p *liveProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
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
