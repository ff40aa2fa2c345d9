package faulty

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestForwardUnchanged: whatever the server sends on the control
// connection reaches the client byte for byte, framed or not.
func TestForwardUnchanged(t *testing.T) {
	cases := map[string]string{
		"no code":         "no code on this line\r\n220 ok\r\n",
		"bare LF":         "220-a\n220 b\n200 c\r\n",
		"over-long line":  "220 " + strings.Repeat("x", 200<<10) + "\r\n200 next\r\n",
		"over-long reply": "220-big\r\n" + strings.Repeat(" padded line of text\r\n", 60000) + "220 end\r\n",
		"EOF mid-reply":   "220-partial\r\n220 no line end",
		"EOF mid-line":    "220 ok\r\n2",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Write([]byte(in))
				time.Sleep(200 * time.Millisecond)
				c.Close()
			}()
			p, err := New(ln.Addr().String(), ProxyRange(1, 1), WithLogf(t.Logf))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			c, err := net.Dial("tcp4", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			got := make([]byte, len(in))
			n, err := io.ReadFull(c, got)
			if !bytes.Equal(got[:n], []byte(in)) {
				t.Fatalf("forwarded %d of %d bytes (%v), first difference at %d", n, len(in), err, diffAt(got[:n], []byte(in)))
			}
		})
	}
}

func diffAt(a, b []byte) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
