package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/ftpharness/ftpharness/suites/catalog"
)

// TextOptions say what the text summary lists beyond the failures, the
// blocked checks and the warnings.
type TextOptions struct {
	// Verbose lists the observations and the skipped checks one line
	// each; otherwise they are counted.
	Verbose bool
	// Reports are the files the run's reports were written to, named
	// last.
	Reports []string
}

// textReasonMax bounds a reason in the text summary; the whole reason and
// the transcript are in the reports.
const textReasonMax = 200

// WriteText is a reporter: what a person reads at the end of a run. One
// line per failure (MUST before SHOULD), then the blocked checks (naming
// the check that blocked them), then the warnings, the observations and
// skips (listed with Verbose, else counted), the totals and where the
// reports are.
func (r Run) WriteText(w io.Writer, opts ...TextOptions) error {
	var o TextOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	r = r.printable()
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "ftpharness verdicts for %s\n", r.Target)
	if r.Setup != "" {
		fmt.Fprintf(b, "suite setup failed: %s\n", cut(r.Setup, textReasonMax))
	}
	for _, sev := range []catalog.Severity{catalog.Must, catalog.Should, catalog.Interop, catalog.Observe} {
		r.writeLines(b, Fail, func(v Verdict) bool { return v.Severity == string(sev) })
	}
	r.writeLines(b, Blocked, nil)
	r.writeLines(b, Warn, nil)
	c := r.Counts()
	listed := func(v Verdict) bool { return v.Reason != "not selected" }
	if o.Verbose {
		r.writeLines(b, Observe, nil)
		r.writeLines(b, Skip, listed)
	} else if more := r.unlisted(listed); more != "" {
		fmt.Fprintf(b, "%s (listed with -v; every reason is in the reports)\n", more)
	}
	if r.Stopped != "" {
		fmt.Fprintf(b, "%s: the remaining checks were skipped\n", r.Stopped)
	}
	if r.Interrupted != "" {
		fmt.Fprintf(b, "run %s: the checks not run were skipped\n", r.Interrupted)
	}
	fmt.Fprintf(b, "%d passed, %d failed, %d warned, %d skipped, %d observed, %d blocked (%d checks, %.1fs)\n",
		c[Pass], c[Fail], c[Warn], c[Skip], c[Observe], c[Blocked], len(r.Verdicts), r.Seconds)
	if len(o.Reports) > 0 {
		fmt.Fprintf(b, "reports: %s\n", strings.Join(o.Reports, ", "))
	}
	return b.Flush()
}

// writeLines writes one line per verdict with result res that keep
// accepts (every one when keep is nil), in catalog order.
func (r Run) writeLines(w io.Writer, res Result, keep func(Verdict) bool) {
	for _, v := range r.Verdicts {
		if v.Result != res || (keep != nil && !keep(v)) {
			continue
		}
		reason := withoutID(v.ID, v.Reason)
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(w, "%-7s %-10s %-7s %s: %s\n", strings.ToUpper(string(res)), v.ID, v.Severity, v.Title, cut(reason, textReasonMax))
	}
}

// unlisted counts the observations and the skips (those keep accepts)
// the summary does not list: "13 observations, 6 skipped", or "".
func (r Run) unlisted(keep func(Verdict) bool) string {
	var obs, skips int
	for _, v := range r.Verdicts {
		switch {
		case v.Result == Observe:
			obs++
		case v.Result == Skip && keep(v):
			skips++
		}
	}
	var parts []string
	if obs > 0 {
		parts = append(parts, plural(obs, "observation", "observations"))
	}
	if skips > 0 {
		parts = append(parts, plural(skips, "skipped check", "skipped checks"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// cut is s on one line, at most max bytes (ending "..." when cut, never
// inside a UTF-8 sequence).
func cut(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= max {
		return s
	}
	i := max - 3
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "..."
}

// withoutID drops the check's ID that starts a warning's reason (the line
// names it already): "PASV-008 (RFC 959 §5.4): sent ..." → "RFC 959 §5.4:
// sent ...".
func withoutID(id, reason string) string {
	rest, ok := strings.CutPrefix(reason, id+" (")
	if !ok {
		return reason
	}
	cite, after, ok := strings.Cut(rest, "): ")
	if !ok {
		return reason
	}
	return cite + ": " + after
}
