package charts

import (
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// golden compares got with testdata/name.golden (rewritten with -update)
// and checks the SVG is well-formed XML.
func golden(t *testing.T, name, got string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(got))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed SVG: %v", name, err)
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./loadgen/charts -update to create it)", err)
	}
	if string(want) != got {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from %s at line %d:\n got: %s\nwant: %s\n(run go test ./loadgen/charts -update if the change is intended)", name, path, i+1, g, w)
			}
		}
	}
}

func TestGoldenTimeline(t *testing.T) {
	c := &Chart{
		ID: "held", Title: "Held listeners & open sessions", Subtitle: "per second; <exhaust>",
		X: Axis{Label: "seconds", ZeroBase: true}, Y: Axis{Label: "listeners", ZeroBase: true},
		Series: []Series{
			{Name: "run a", Points: []Point{{0, 0}, {1, 7}, {2, 14}, {2.4, 20}, {3.1, 20}, {3.1, 0}}, Dots: true},
			{Name: "run b", Points: []Point{{0, 0}, {1, 5}, {2, 11}, {3, 11}}, Kind: Step, Dash: true},
		},
		Markers: []Marker{{X: 2.4, Label: "first failure 421"}, {X: 3.1, Label: "released", Color: "#57606a"}},
		Notes:   []Note{{X: 2.4, Y: 20, Label: "exhausted: 20 held"}},
	}
	golden(t, "timeline", c.SVG())
}

func TestGoldenPercentiles(t *testing.T) {
	q := []float64{50, 90, 99, 99.9, 99.99}
	var ticks []Tick
	var a, b []Point
	for i, p := range q {
		x := math.Log10(100 / (100 - p))
		ticks = append(ticks, Tick{V: x, Label: Num(p) + "%"})
		a = append(a, Point{x, 0.8 * math.Pow(3, float64(i))})
		b = append(b, Point{x, 1.1 * math.Pow(4, float64(i))})
	}
	c := &Chart{
		ID: "pct", Title: "Latency percentiles", Width: 420,
		X:      Axis{Label: "percentile", Ticks: ticks, Min: ticks[0].V, Max: ticks[len(ticks)-1].V},
		Y:      Axis{Label: "ms", Log: true},
		Series: []Series{{Name: "pasv", Points: a, Dots: true}, {Name: "corrected", Points: b, Dots: true, Dash: true}},
	}
	golden(t, "percentiles", c.SVG())
}

func TestGoldenBarsAndSpans(t *testing.T) {
	c := &Chart{
		ID: "errs", Title: "Errors per second by class",
		X: Axis{Label: "seconds"}, Y: Axis{Label: "errors/s", ZeroBase: true},
		Series: []Series{
			{Name: "reply-4xx", Kind: Bars, Points: []Point{{0.5, 3}, {1.5, 10}, {2.5, 4}}, Bar: 1},
			{Name: "timeout", Kind: Bars, Points: []Point{{0.5, 1}, {1.5, 2}, {2.5, 0}}, Bar: 1},
		},
		Markers: []Marker{{X: 0.2, Label: "reply-4xx first"}},
	}
	golden(t, "bars", c.SVG())

	p := &Chart{
		ID: "ports", Title: "Advertised passive ports", Height: 120,
		X:     Axis{Label: "port", Format: func(v float64) string { return trim(v) }},
		Y:     Axis{Min: 0.5, Max: 2.5, Ticks: []Tick{{1, "before"}, {2, "after"}}},
		Bands: []Band{{X0: 30000, X1: 30009, Label: "declared 30000-30009"}},
		Series: []Series{
			{Name: "in range", Kind: Span, Points: []Point{{30000, 1}, {30009, 1}, {30000, 2}, {30004, 2}}},
			{Name: "out of range", Kind: Span, Color: "#cf222e", Points: []Point{{30009, 2}, {30012, 2}}},
		},
	}
	golden(t, "ports", p.SVG())
}

func TestGoldenEmpty(t *testing.T) {
	c := &Chart{ID: "none", Title: "MB/s", Empty: "no bytes moved in this run"}
	golden(t, "empty", c.SVG())
}

// The same chart renders to the same bytes.
func TestDeterministic(t *testing.T) {
	mk := func() string {
		c := &Chart{Title: "x", Series: []Series{{Name: "a", Points: []Point{{0, 1}, {1, 3}, {2, 2}}}}}
		return c.SVG()
	}
	if a, b := mk(), mk(); a != b {
		t.Fatal("two renders of the same chart differ")
	}
}

func TestNiceTicks(t *testing.T) {
	s := (&Chart{Series: []Series{{Points: []Point{{0, 0}, {1, 23}}}}}).scale(Axis{}, false, 100, 0)
	var got []string
	for _, tk := range s.ticks {
		got = append(got, tk.Label)
	}
	if strings.Join(got, ",") != "0,5,10,15,20,25" {
		t.Fatalf("ticks %v", got)
	}
	if Num(30000) != "30k" || Num(1.5e6) != "1.5M" || Num(0.25) != "0.25" || Num(31005) != "31005" {
		t.Fatalf("Num: %s %s %s %s", Num(30000), Num(1.5e6), Num(0.25), Num(31005))
	}
}

// Per-port counts over a declared range: bars, the gaps as opaque bands
// (at least a pixel wide), out-of-range bars in red.
func TestGoldenPortCounts(t *testing.T) {
	var in []Point
	for p := 30000; p <= 30009; p++ {
		if p == 30003 || p == 30006 || p == 30007 {
			continue
		}
		in = append(in, Point{float64(p) + 0.5, float64(1 + p%3)})
	}
	c := &Chart{
		ID: "port-counts", Title: "Advertised passive ports across the declared range", Height: 200,
		X: Axis{Label: "port", Format: Plain, Min: 29999, Max: 30014}, Y: Axis{Label: "times advertised", ZeroBase: true},
		Bands: []Band{
			{X0: 30000, X1: 30010, Label: "declared 30000-30009"},
			{X0: 30003, X1: 30004, Color: "#bf8700", Opacity: 0.45, Label: "never advertised: 3 ports"},
			{X0: 30006, X1: 30008, Color: "#bf8700", Opacity: 0.45},
		},
		Series: []Series{
			{Name: "advertised, in range", Kind: Bars, Bar: 1, Points: in},
			{Name: "advertised, out of range", Kind: Bars, Bar: 1, Color: "#cf222e", Points: []Point{{30012.5, 1}}},
		},
	}
	golden(t, "portcounts", c.SVG())
}
