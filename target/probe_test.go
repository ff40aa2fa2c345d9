package target

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveOnce listens on loopback and runs script on each connection; the
// listener and connections are closed at cleanup.
func serveOnce(t *testing.T, script func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); script(c, bufio.NewReader(c)) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func probeCfg(addr string, timeout time.Duration) Config {
	c := Defaults()
	c.Addr, c.User, c.Password, c.Timeout = addr, "ftpuser", "s3cret-pw", timeout
	return c
}

// Wrong credentials stop the run before the suite with the server's reply
// (issue 11: before, the probe only read the greeting and every check then
// failed at login); the password is never quoted.
func TestProbeLoginRefusedQuotesTheReply(t *testing.T) {
	addr := serveOnce(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "220 ready\r\n")
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "USER"):
				io.WriteString(c, "331 Please specify the password.\r\n")
			case strings.HasPrefix(line, "PASS"):
				io.WriteString(c, "530 Login incorrect.\r\n")
			default:
				io.WriteString(c, "221 bye\r\n")
				return
			}
		}
	})
	err := Probe(probeCfg(addr, 5*time.Second))
	if err == nil {
		t.Fatal("probe accepted a refused login")
	}
	msg := err.Error()
	for _, want := range []string{"login as ftpuser refused", "530 Login incorrect.", "--ftp.password"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "s3cret-pw") {
		t.Errorf("error %q shows the password", msg)
	}
}

// A greeting line that never ends is refused at the wire layer's line cap,
// at once (issue 11: an unbounded ReadString grew to gigabytes until the
// deadline).
func TestProbeEndlessGreetingIsBounded(t *testing.T) {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	addr := serveOnce(t, func(c net.Conn, _ *bufio.Reader) {
		io.WriteString(c, "220-")
		for i := 0; i < 256; i++ { // 16 MiB at most, then hold
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
		io.Copy(io.Discard, c)
	})
	start := time.Now()
	err := Probe(probeCfg(addr, 5*time.Second))
	if err == nil {
		t.Fatal("probe accepted an endless greeting")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("probe took %v (read until the deadline instead of stopping at the line cap): %v", d, err)
	}
	if len(err.Error()) > 2000 {
		t.Errorf("error is %d bytes long; it should quote a bounded excerpt", len(err.Error()))
	}
	t.Logf("%v", err)
}

// After a good login the probe does not wait for QUIT's answer: a server
// that goes quiet after login is for the suite to judge, quickly.
func TestProbeDoesNotWaitForQuit(t *testing.T) {
	addr := serveOnce(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "220 ready\r\n")
		br.ReadString('\n')
		io.WriteString(c, "331 password\r\n")
		br.ReadString('\n')
		io.WriteString(c, "230 in\r\n")
		io.Copy(io.Discard, br) // never answers again
	})
	start := time.Now()
	if err := Probe(probeCfg(addr, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("probe took %v waiting for QUIT's answer", d)
	}
}
