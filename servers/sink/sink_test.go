package sink

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/ftp"
)

func TestSinkRetrAndRange(t *testing.T) {
	s, err := Start(Options{FileSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	say := func(line string) string {
		if line != "" {
			io.WriteString(c, line+"\r\n")
		}
		l, _ := br.ReadString('\n')
		return strings.TrimSpace(l)
	}
	if g := say(""); !strings.HasPrefix(g, "220") {
		t.Fatal(g)
	}
	for _, cmd := range []string{"USER a", "PASS b", "TYPE I"} {
		say(cmd)
	}
	if r := say("SIZE ftpload-12345.bin"); r != "213 12345" {
		t.Errorf("SIZE: %s", r)
	}
	r := say("PASV")
	ep, err := ftp.ParsePASV(r[4:])
	if err != nil {
		t.Fatal(r, err)
	}
	d, err := net.Dial("tcp", ep.String())
	if err != nil {
		t.Fatal(err)
	}
	if r := say("RETR ftpload-1000.bin"); !strings.HasPrefix(r, "150") {
		t.Fatal(r)
	}
	n, _ := io.Copy(io.Discard, d)
	if n != 1000 {
		t.Errorf("RETR sent %d bytes", n)
	}
	if r := say(""); !strings.HasPrefix(r, "226") {
		t.Error(r)
	}
	if s.Cycles.Load() != 1 {
		t.Errorf("cycles %d", s.Cycles.Load())
	}
}
