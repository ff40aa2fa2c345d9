package ftp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer listens on 127.0.0.1:0 and runs script on every accepted
// connection in its own goroutine. At cleanup the listener and every
// accepted connection are closed and the test waits for all scripts to
// return, so a script that blocks on its connection ends there.
func fakeServer(t testing.TB, script func(c net.Conn)) string {
	t.Helper()
	return fakeServerOn(t, "127.0.0.1:0", script)
}

func fakeServerOn(t testing.TB, addr string, script func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
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
			go func() {
				defer wg.Done()
				defer c.Close()
				script(c)
			}()
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

// hold blocks until the peer or the cleanup closes c.
func hold(c net.Conn) { io.Copy(io.Discard, c) }

// ctxFor is a context with the given timeout, cancelled at cleanup.
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// miniServer is a scripted FTP server with a real passive listener, just
// enough for Login, PASV/EPSV, RETR, STOR and QUIT.
type miniServer struct {
	files    map[string][]byte
	pasvIP   string // address advertised in 227 (default: the data listener's)
	dataBind string // data listener bind address (default 127.0.0.1:0)
	// replyFirst sends the 226 before writing the RETR data; otherwise
	// the data connection is closed first. between (optional) runs between
	// the two, e.g. to wait until the client has observed the first.
	replyFirst bool
	between    func()

	passes    chan string   // PASS arguments received
	stored    chan []byte   // STOR payloads received
	dataPeers chan net.Addr // remote address of each accepted data connection
	ctrlPeers chan net.Addr // remote address of each control connection
}

func newMiniServer(files map[string][]byte) *miniServer {
	return &miniServer{
		files:     files,
		passes:    make(chan string, 16),
		stored:    make(chan []byte, 16),
		dataPeers: make(chan net.Addr, 16),
		ctrlPeers: make(chan net.Addr, 16),
	}
}

func (s *miniServer) start(t testing.TB) string {
	t.Helper()
	return fakeServer(t, s.serve)
}

func (s *miniServer) serve(c net.Conn) {
	s.ctrlPeers <- c.RemoteAddr()
	br := bufio.NewReader(c)
	say := func(format string, args ...any) { fmt.Fprintf(c, format+"\r\n", args...) }
	var pasv net.Listener
	defer func() {
		if pasv != nil {
			pasv.Close()
		}
	}()
	accept := func() net.Conn {
		if pasv == nil {
			return nil
		}
		pasv.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		dc, err := pasv.Accept()
		pasv.Close()
		pasv = nil
		if err != nil {
			return nil
		}
		s.dataPeers <- dc.RemoteAddr()
		return dc
	}
	say("220 mini ready")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "USER":
			say("331 password please")
		case "PASS":
			s.passes <- arg
			say("230 logged in")
		case "PASV", "EPSV":
			bind := s.dataBind
			if bind == "" {
				bind = "127.0.0.1:0"
			}
			if pasv != nil {
				pasv.Close()
			}
			pasv, err = net.Listen("tcp", bind)
			if err != nil {
				say("425 cannot listen: %v", err)
				continue
			}
			a := pasv.Addr().(*net.TCPAddr)
			if strings.ToUpper(verb) == "EPSV" {
				say("229 %s", FormatEPSV(a.Port))
				continue
			}
			ip := a.IP
			if s.pasvIP != "" {
				ip = net.ParseIP(s.pasvIP)
			}
			say("227 %s", FormatPASV(Endpoint{IP: ip, Port: a.Port}))
		case "RETR":
			data, ok := s.files[arg]
			if !ok {
				say("550 %s: no such file", arg)
				continue
			}
			say("150 opening data connection for %s (%d bytes)", arg, len(data))
			dc := accept()
			if dc == nil {
				say("425 no data connection")
				continue
			}
			between := s.between
			if between == nil {
				between = func() {}
			}
			if s.replyFirst {
				say("226 transfer complete")
				between()
				dc.Write(data)
				dc.Close()
			} else {
				dc.Write(data)
				dc.Close()
				between()
				say("226 transfer complete")
			}
		case "STOR":
			say("150 ok to send data")
			dc := accept()
			if dc == nil {
				say("425 no data connection")
				continue
			}
			b, err := io.ReadAll(dc)
			dc.Close()
			if err != nil {
				say("426 read failed")
				continue
			}
			s.stored <- b
			say("226 stored %d bytes", len(b))
		case "NOOP":
			say("200 ok")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 %s not implemented", verb)
		}
	}
}

// readCmd reads one command line from br (CRLF stripped).
func readCmd(br *bufio.Reader) (string, error) {
	l, err := br.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

func newTestReader(b []byte) *bufio.Reader {
	return bufio.NewReaderSize(bytes.NewReader(b), 4096)
}

// waitTranscript polls until the transcript of the Conn *cp points to has
// an entry containing sub (5 s at most).
func waitTranscript(cp *atomic.Pointer[Conn], sub string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if c := cp.Load(); c != nil && strings.Contains(c.Transcript().String(), sub) {
			return
		}
	}
}
