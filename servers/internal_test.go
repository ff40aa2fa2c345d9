package servers

import (
	"strings"
	"testing"
)

func TestTemplatesRender(t *testing.T) {
	d := TemplateData{Port: 2121, PasvMin: 30000, PasvMax: 30019, PasvAddress: "127.0.0.1",
		User: "u", Password: "p", Root: "/srv/ftp", StateDir: "/tmp/st", Anonymous: true,
		PAMService: pamService, Binary: "/usr/sbin/ftpd"}
	ents, err := Templates.ReadDir("templates")
	if err != nil || len(ents) < 6 {
		t.Fatalf("templates: %v %d", err, len(ents))
	}
	for _, e := range ents {
		b, err := Render(e.Name(), d)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		s := string(b)
		if strings.Contains(s, "<no value>") || !strings.Contains(s, "2121") {
			t.Errorf("%s rendered badly:\n%s", e.Name(), s)
		}
	}
}

func TestPortAllocationDistinct(t *testing.T) {
	lease := &portLease{}
	defer lease.Release()
	seen := map[int]bool{}
	for i := 0; i < 30; i++ {
		p, err := allocControlPort(lease)
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] || p < ControlPortMin || p > ControlPortMax {
			t.Fatalf("control port %d repeated or out of bounds", p)
		}
		seen[p] = true
		lo, hi, err := allocPasvRange(DefaultRangeSize+i%3, lease)
		if err != nil {
			t.Fatal(err)
		}
		if hi-lo+1 != DefaultRangeSize+i%3 || lo < PasvPortMin || hi > PasvPortMax {
			t.Fatalf("bad range %d-%d", lo, hi)
		}
		for q := lo; q <= hi; q++ {
			if seen[q] {
				t.Fatalf("passive port %d handed out twice", q)
			}
			seen[q] = true
		}
	}
	// A second lease must not get any port held by the first.
	other := &portLease{}
	defer other.Release()
	for i := 0; i < 10; i++ {
		lo, hi, err := allocPasvRange(DefaultRangeSize, other)
		if err != nil {
			t.Fatal(err)
		}
		for q := lo; q <= hi; q++ {
			if seen[q] {
				t.Fatalf("port %d reused while locked", q)
			}
		}
	}
}
