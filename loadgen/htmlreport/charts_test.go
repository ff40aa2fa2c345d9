package htmlreport

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/charts"
)

// The ports chart shows the gap and the out-of-range port; the caption
// names the gap.
func TestPortsChart(t *testing.T) {
	rep := portCountsReport(t)
	c := portsChart([]Run{{Name: "r", Report: rep}})
	var gaps []string
	for _, b := range c.Bands {
		if b.Color == gapColor {
			gaps = append(gaps, b.Label)
			if b.X0 != 31004 || b.X1 != 31006 {
				t.Errorf("gap band %v..%v, want 31004..31006", b.X0, b.X1)
			}
		}
	}
	if len(gaps) != 1 || gaps[0] != "never advertised: 2 ports" {
		t.Errorf("gap bands %q", gaps)
	}
	red := 0
	for _, s := range c.Series {
		if s.Color == "#cf222e" {
			red += len(s.Points)
		}
	}
	if red != 1 {
		t.Errorf("%d out-of-range bars, want 1", red)
	}
	// 40485 is far from the range: folded into the edge bar, labelled
	if len(c.Markers) != 1 || c.Markers[0].Label != "outside, folded here: ports 40485 ×1" || c.X.Max > 31020 {
		t.Errorf("far port: markers %+v, x axis up to %v", c.Markers, c.X.Max)
	}
	if cap := portsCaption(Run{Name: "r", Report: rep}); !strings.Contains(cap, "2 ports of the range never advertised (31004–31005)") {
		t.Errorf("caption %q", cap)
	}
}

// The errors chart stacks one bar series per class; the tops of the
// topmost series are the seconds' totals.
func TestErrorsChart(t *testing.T) {
	rep := errorsByClassReport(t)
	c := errorsChart([]Run{{Name: "r", Report: rep}})
	if len(c.Series) != 3 || !strings.Contains(c.Subtitle, "stacked") {
		t.Fatalf("errors chart: %d series, subtitle %q", len(c.Series), c.Subtitle)
	}
	for _, p := range c.Series[0].Points {
		s := rep.Timeline[int(p.X)]
		if want := float64(s.Errors) / bucket(rep, s.Second); math.Abs(p.Y-want) > 1e-9*want {
			t.Errorf("second %d: stack top %v, want %v", s.Second, p.Y, want)
		}
	}
}

// A v1.0 report (no counts, no per-class seconds) renders with the
// approximate charts.
func TestV10Report(t *testing.T) {
	const v10 = `{"schema":"ftpload.report/v1.0","tool":"ftpload","settings":{"scenario":"exhaust","target":"127.0.0.1:21","user":"u","pasv_range":"31000-31009","model":"closed","sessions":1,"duration_s":1,"timeout_s":5},
"duration_s":2,"totals":{"count":12,"ok":10,"errors":2},"errors":[{"class":"reply-4xx","count":1,"first_s":1.2,"first_phase":"pasv","first_error":"x"},{"class":"timeout","count":1,"first_s":1.5,"first_phase":"pasv","first_error":"y"}],
"ports":{"seen":10,"distinct":8,"min":31000,"max":31009,"out_of_range":0,"address_mismatch":0,"declared_range":"31000-31009"},
"timeline":[{"second":0,"ops":5,"errors":0,"bytes":0,"mean_ms":1,"max_ms":2,"active":5},{"second":1,"ops":7,"errors":2,"bytes":0,"mean_ms":1,"max_ms":2,"active":10}]}`
	rep, err := loadgen.ReadReport(strings.NewReader(v10))
	if err != nil {
		t.Fatal(err)
	}
	runs := []Run{{Name: "old", Report: rep}}
	if c := portsChart(runs); c.Series[0].Kind != charts.Span {
		t.Errorf("v1.0 ports chart: kind %v, want spans", c.Series[0].Kind)
	}
	if c := errorsChart(runs); len(c.Series) != 1 || c.Series[0].Name != "all classes" {
		t.Errorf("v1.0 errors chart: %d series", len(c.Series))
	}
	if cap := portsCaption(runs[0]); !strings.Contains(cap, "2 ports of the range never advertised") {
		t.Errorf("v1.0 caption %q", cap)
	}
	page := renderHTML(t, runs...)
	if !bytes.Contains(page, []byte("ftpload.report/v1.0")) {
		t.Error("page does not name the report's schema")
	}
}
