package suites

import (
	"strings"
	"testing"
)

// The live progress rewrites one line: a carriage return, the running
// check's place among the selected ones, its ID and title, padded over a longer previous line, cut
// to the terminal's width, blanked before the summary.
func TestLiveProgressRewritesOneLine(t *testing.T) {
	var b strings.Builder
	var p liveProgress
	p.start(&b, 132)
	p.show("PASV-001", strings.Repeat("long title ", 20))
	p.show("PASV-002", "short")
	p.clear()
	out := b.String()
	if strings.Contains(out, "\n") || strings.Contains(out, "\x1b") {
		t.Errorf("progress writes a newline or an escape: %q", out)
	}
	frames := strings.Split(out, "\r")[1:]
	if len(frames) != 4 || !strings.HasPrefix(frames[0], "[1/132] PASV-001 ") || !strings.HasPrefix(frames[1], "[2/132] PASV-002 short   ") {
		t.Fatalf("frames %q", frames)
	}
	if n := len([]rune(frames[0])); n != progressWidth || len([]rune(frames[1])) != progressWidth {
		t.Errorf("frame widths %d, %d, want %d", n, len([]rune(frames[1])), progressWidth)
	}
	if strings.TrimSpace(frames[2]) != "" || frames[3] != "" {
		t.Errorf("not cleared: %q", frames[2:])
	}
	p.show("X", "after the run") // no writer any more
	if b.String() != out {
		t.Errorf("wrote after clear")
	}
}
