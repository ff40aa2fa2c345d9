package htmlreport

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ftpharness/ftpharness/internal/browsertest"
	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/servers/sink"
)

func TestHeadline(t *testing.T) {
	yes := true
	ex := &loadgen.Report{Settings: loadgen.Settings{Scenario: loadgen.Exhaust}, Exhaust: &loadgen.ExhaustSummary{
		RangeSize: 20, Capacity: 20, CapacityReached: true, FailureMode: "reply-4xx", FailureCode: 421, FailurePhase: "pasv",
		TimeToExhaust: 0.41, Recovered: true, RecoveryTime: 0.012, SessionSurvive: &yes, HeldChecked: 20, HeldAlive: 20}}
	if got, want := Headline(ex), "pool of 20 ports held 20 sessions; the 21st got 421 after 0.41 s; recovered in 12 ms"; got != want {
		t.Errorf("exhaust:\n got %q\nwant %q", got, want)
	}
	ex.Exhaust.Capacity, ex.Exhaust.RangeSize, ex.Exhaust.FailureMode, ex.Exhaust.Recovered, ex.Exhaust.RecoveryLast = 1000, 1000, "session-dropped", false, "timeout"
	ex.Exhaust.HeldAlive = 12
	if got, want := Headline(ex), "pool of 1,000 ports held 1,000 sessions; the 1,001st was dropped after 0.41 s; did not recover (last probe: timeout); only 12 of 20 held sessions survived"; got != want {
		t.Errorf("exhaust dropped:\n got %q\nwant %q", got, want)
	}
	ex.Exhaust.CapacityReached, ex.Exhaust.StoppedBy = false, "duration"
	if got := Headline(ex); !strings.HasPrefix(got, "pool of 1,000 ports held at least 1,000 sessions; not exhausted: stopped by duration") {
		t.Errorf("exhaust not reached: %q", got)
	}
	churn := &loadgen.Report{Settings: loadgen.Settings{Scenario: loadgen.Churn, Sessions: 8, Model: "open", Rate: 2000, Size: 100}, Duration: 5,
		Totals:  loadgen.Totals{Rate: 1987.4, Errors: 3},
		Latency: loadgen.LatencyStats{Count: 10, P99: 4.2}, LatencyCorrected: loadgen.LatencyStats{Count: 10, P99: 31},
		Errors: []loadgen.ErrorStats{{Class: loadgen.ClassTimeout, Count: 3}}}
	if got, want := Headline(churn), "1,987 passive cycles/s (PASV, data connect, RETR of 100 B, 226) over 8 sessions for 5.00 s, open loop at 2,000/s; p99 4.20 ms (31.00 ms corrected for coordinated omission); 3 errors (timeout ×3)"; got != want {
		t.Errorf("churn:\n got %q\nwant %q", got, want)
	}
	retr := &loadgen.Report{Settings: loadgen.Settings{Scenario: loadgen.Retr, Sessions: 4, Model: "closed"}, Duration: 10,
		Totals: loadgen.Totals{Bytes: 2_130_000_000, Throughput: 213_000_000}, PerSession: &loadgen.SessionStats{Sessions: 4, MinBps: 52e6, MaxBps: 55e6}}
	if got, want := Headline(retr), "retr moved 2.13 GB at 213.0 MB/s over 4 sessions for 10.0 s (per session 52.0 MB–55.0 MB/s), closed loop; no errors"; got != want {
		t.Errorf("retr:\n got %q\nwant %q", got, want)
	}
}

// roundTrip passes a report through its JSON form, as ftpload report does.
func roundTrip(t *testing.T, rep *loadgen.Report) *loadgen.Report {
	t.Helper()
	var b bytes.Buffer
	if err := loadgen.NewJSONReporter(rep)(&b); err != nil {
		t.Fatal(err)
	}
	back, err := loadgen.ReadReport(&b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func renderHTML(t *testing.T, runs ...Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := NewReporter(runs...)(&b); err != nil {
		t.Fatal(err)
	}
	page := b.Bytes()
	// self-contained: no scripts, nothing fetched
	low := strings.ToLower(string(page))
	for _, bad := range []string{"<script", "<link", "<img", "@import", "url(http", `src="http`, `href="http`, "@font-face"} {
		if strings.Contains(low, bad) {
			t.Errorf("page is not self-contained: contains %q", bad)
		}
	}
	return page
}

// TestHTMLReportBrowser renders the load report of real runs (exhaust
// against the in-process ftpserverlib, churn against the sink) in headless
// Chromium and checks what an operator looks for is there and visible.
func TestHTMLReportBrowser(t *testing.T) {
	browsertest.Chromium(t)
	tg, pr := startFSL(t, 10)
	a := loadgen.NewAttacker(tg, loadgen.WithPasvRange(pr), loadgen.WithDuration(20*time.Second), loadgen.WithTimeout(5*time.Second), loadgen.WithRecoveryTimeout(5*time.Second))
	exhaust := runReport(t, a, loadgen.Exhaust)

	page := renderHTML(t, Run{Name: "exhaust", Report: exhaust})
	res := browsertest.Probe(t, page, "svg.chart", "#headline .headline", "#chart-held .marker", "#chart-held .note",
		"#chart-ports .bar", "#errors tr.error", "#errors .reply", "code.banner", "#settings", "#chart-latency polyline")
	if res.Scripts != 0 || len(res.External) != 0 {
		t.Errorf("page has %d scripts and external resources %v", res.Scripts, res.External)
	}
	el := res.Elements
	if n := el["svg.chart"]; n.Count < 6 || n.Visible != n.Count {
		t.Errorf("charts: %d present, %d visible; want at least 6, all visible", n.Count, n.Visible)
	}
	head := el["#headline .headline"]
	if head.Visible != 1 || !regexp.MustCompile(`^pool of 10 ports held 10 sessions; the 11th got 421 after [0-9.]+ m?s; recovered in [0-9.]+ m?s$`).MatchString(head.Text) {
		t.Errorf("header sentence (visible %d): %q", head.Visible, head.Text)
	}
	if el["#chart-held .marker"].Visible < 2 || el["#chart-held .note"].Visible != 1 {
		t.Errorf("held chart: %d markers, %d notes visible; want the first failure, release and exhaustion point marked", el["#chart-held .marker"].Visible, el["#chart-held .note"].Visible)
	}
	if el["#chart-ports .bar"].Visible < 10 {
		t.Errorf("ports chart: %d port bars visible, want one per port of the range", el["#chart-ports .bar"].Visible)
	}
	if e := el["#errors .reply"]; e.Visible < 1 || !strings.HasPrefix(e.Text, "421 ") {
		t.Errorf("error table: sample reply %q (visible %d)", e.Text, e.Visible)
	}
	if b := el["code.banner"]; b.Visible != 1 || !strings.HasPrefix(b.Text, "220") {
		t.Errorf("banner: %q", b.Text)
	}
	if el["#chart-latency polyline"].Visible < 3 {
		t.Errorf("latency chart: %d phase curves visible", el["#chart-latency polyline"].Visible)
	}
	browsertest.Screenshot(t, page, "ftpload-report-exhaust.png", 1280, res.Height+20)

	// two runs overlaid: an open-loop churn, before and after
	stg := startSink(t, sink.Options{})
	var churns []Run
	for _, name := range []string{"before", "after"} {
		a := loadgen.NewAttacker(stg, loadgen.WithSessions(4), loadgen.WithRate(200), loadgen.WithDuration(1500*time.Millisecond), loadgen.WithTimeout(5*time.Second))
		churns = append(churns, Run{Name: name, Report: runReport(t, a, loadgen.Churn)})
	}
	page = renderHTML(t, churns...)
	res = browsertest.Probe(t, page, "svg.chart", "#headline .headline", "#chart-latency-corrected polyline", "#chart-rate polyline", "#chart-mbs polyline")
	el = res.Elements
	if n := el["svg.chart"]; n.Count < 7 || n.Visible != n.Count {
		t.Errorf("comparison charts: %d present, %d visible; want at least 7 (corrected latency side by side)", n.Count, n.Visible)
	}
	if h := el["#headline .headline"]; h.Visible != 2 || !strings.HasPrefix(h.Text, "before ") || !strings.Contains(h.Text, "passive cycles/s") {
		t.Errorf("comparison headlines (%d visible): %q", h.Visible, h.Text)
	}
	for _, s := range []string{"#chart-latency-corrected polyline", "#chart-rate polyline", "#chart-mbs polyline"} {
		if el[s].Visible < 2 {
			t.Errorf("%s: %d curves visible, want one per run at least", s, el[s].Visible)
		}
	}
	browsertest.Screenshot(t, page, "ftpload-report-compare.png", 1280, res.Height+20)
}

// The HTML page is valid UTF-8 with every control character of a server's
// text escaped, and shows no password.
func TestHTMLReportEscapesServerText(t *testing.T) {
	page := string(renderHTML(t, Run{Name: "hostile", Report: hostileReport(t)}))
	if !utf8.ValidString(page) {
		t.Error("page is not valid UTF-8")
	}
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "<b>bold", "s3cretpw"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{`\x1b]0;pwned\x07`, "ftp://u:****@127.0.0.1:21"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// A merged report's page says so.
func TestMergedPage(t *testing.T) {
	if page := renderHTML(t, Run{Name: "merged", Report: mergedReport(t)}); !strings.Contains(string(page), "merged from 2 shards of 2 (indices 0,1)") {
		t.Error("HTML page does not say the run is merged")
	}
}
