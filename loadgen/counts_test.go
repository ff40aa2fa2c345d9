package loadgen

import (
	"strings"
	"testing"
	"time"
)

// ports.counts (v1.1): one entry per advertised port, the counts add up
// to ports.seen, and the map survives the JSON round trip.
func TestPortCounts(t *testing.T) {
	m := NewMetrics(time.Time{})
	t0 := time.Unix(3000, 0)
	want := map[int]uint64{}
	for i := 0; i < 1000; i++ {
		p := 31000 + (i*7)%10 // 31000..31009
		if i%5 == 0 && p == 31003 {
			continue
		}
		if p == 31004 || p == 31005 {
			continue // a gap of two ports
		}
		r := &Result{Op: "pasv", Start: t0, End: t0.Add(time.Duration(i) * time.Millisecond), Port: p}
		m.Add(r)
		want[p]++
	}
	m.Add(&Result{Op: "pasv", Start: t0, End: t0.Add(time.Second), Port: 40485, OutOfRange: true})
	want[40485]++
	m.Close()
	rep := roundTrip(t, m.Report(Settings{Scenario: Churn, PasvRange: "31000-31009"}))
	ps := rep.Ports
	if len(ps.Counts) != ps.Distinct || ps.Distinct != len(want) {
		t.Fatalf("counts has %d ports, distinct %d, want %d", len(ps.Counts), ps.Distinct, len(want))
	}
	var sum uint64
	for p, n := range ps.Counts {
		sum += n
		if want[p] != n {
			t.Errorf("port %d: %d, want %d", p, n, want[p])
		}
	}
	if sum != ps.Seen {
		t.Errorf("counts add up to %d, seen %d", sum, ps.Seen)
	}
	if ps.Counts[31004] != 0 || ps.Counts[40485] != 1 || ps.OutOfRange != 1 {
		t.Errorf("gap or out-of-range port miscounted: %v", ps.Counts)
	}
}

// timeline[].errors_by_class (v1.1): per second the classes add up to the
// second's errors, and per class the seconds add up to the class total.
func TestErrorsByClass(t *testing.T) {
	m := NewMetrics(time.Time{})
	t0 := time.Unix(3000, 0)
	classes := []ErrorClass{ClassReply4xx, ClassTimeout, ClassReset, ""}
	for i := 0; i < 3000; i++ {
		r := &Result{Op: "pasv", Start: t0, End: t0.Add(time.Duration(i) * time.Millisecond)}
		r.Class = classes[(i+i/7)%len(classes)]
		if r.Class != "" {
			r.Err = "x"
		}
		m.Add(r)
	}
	m.Close()
	rep := roundTrip(t, m.Report(Settings{Scenario: Churn}))
	perClass := map[ErrorClass]uint64{}
	for _, s := range rep.Timeline {
		var sum uint64
		for c, n := range s.ErrorsByClass {
			sum += n
			perClass[c] += n
		}
		if sum != s.Errors {
			t.Errorf("second %d: classes add up to %d, errors %d", s.Second, sum, s.Errors)
		}
		if s.Errors == 0 && s.ErrorsByClass != nil {
			t.Errorf("second %d: a class map without errors", s.Second)
		}
	}
	var total uint64
	for _, e := range rep.Errors {
		total += e.Count
		if perClass[e.Class] != e.Count {
			t.Errorf("%s: timeline %d, errors table %d", e.Class, perClass[e.Class], e.Count)
		}
	}
	if total != rep.Totals.Errors || len(perClass) != 3 {
		t.Errorf("errors %d of %d, %d classes", total, rep.Totals.Errors, len(perClass))
	}
}

// A v1.0 report (no counts, no per-class seconds) still reads (the HTML
// page draws it with approximate charts: htmlreport's TestV10Report).
func TestReadV10Report(t *testing.T) {
	const v10 = `{"schema":"ftpload.report/v1.0","tool":"ftpload","settings":{"scenario":"exhaust","target":"127.0.0.1:21","user":"u","pasv_range":"31000-31009","model":"closed","sessions":1,"duration_s":1,"timeout_s":5},
"duration_s":2,"totals":{"count":12,"ok":10,"errors":2},"errors":[{"class":"reply-4xx","count":1,"first_s":1.2,"first_phase":"pasv","first_error":"x"},{"class":"timeout","count":1,"first_s":1.5,"first_phase":"pasv","first_error":"y"}],
"ports":{"seen":10,"distinct":8,"min":31000,"max":31009,"out_of_range":0,"address_mismatch":0,"declared_range":"31000-31009"},
"timeline":[{"second":0,"ops":5,"errors":0,"bytes":0,"mean_ms":1,"max_ms":2,"active":5},{"second":1,"ops":7,"errors":2,"bytes":0,"mean_ms":1,"max_ms":2,"active":10}]}`
	rep, err := ReadReport(strings.NewReader(v10))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ports.Counts != nil || rep.Timeline[1].ErrorsByClass != nil {
		t.Fatal("v1.0 report grew v1.1 fields")
	}
	// a v1.2 report is written
	if SchemaVersion != "ftpload.report/v1.3" {
		t.Errorf("schema %s", SchemaVersion)
	}
}
