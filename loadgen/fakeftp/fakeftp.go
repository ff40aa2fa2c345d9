// Package fakeftp is a tiny misbehaving FTP server for ftpload's tests:
// it says what the test tells it to (a banner with escape sequences, a
// refused login, a PASV reply naming another host) where a real server
// cannot be made to. It serves USER, PASS, TYPE, PASV, LIST, NOOP and
// QUIT on loopback; every read and write has a deadline.
package fakeftp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options say how the server misbehaves.
type Options struct {
	// Banner is the greeting's text after "220 " (default "fakeftp").
	Banner string
	// Password is the only password accepted (any, when empty); another
	// one gets LoginRefused.
	Password string
	// LoginRefused is the reply to a wrong password (default "530 Login
	// incorrect.").
	LoginRefused string
	// PasvHost is the IPv4 address PASV replies advertise (default
	// 127.0.0.1). When it is another address a listener on it with the
	// data port counts the connections it gets (Server.Strays).
	PasvHost string
	// Listing is what LIST sends (default "ftpload.bin\r\n").
	Listing string
}

// Server is a running fake.
type Server struct {
	opts  Options
	ln    net.Listener // control
	data  net.Listener // the data port, on 127.0.0.1
	stray net.Listener // the same port on PasvHost, when that is another address
	wg    sync.WaitGroup
	// strays counts connections to PasvHost when it is not the control
	// address: connections the client should never have made.
	strays atomic.Int64
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

const step = 5 * time.Second // deadline of every read, write and accept

// Start listens on 127.0.0.1 and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Banner == "" {
		opts.Banner = "fakeftp"
	}
	if opts.LoginRefused == "" {
		opts.LoginRefused = "530 Login incorrect."
	}
	if opts.PasvHost == "" {
		opts.PasvHost = "127.0.0.1"
	}
	if opts.Listing == "" {
		opts.Listing = "ftpload.bin\r\n"
	}
	s := &Server{opts: opts, conns: map[net.Conn]bool{}}
	var err error
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	if err = s.listenData(); err != nil {
		s.ln.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// listenData opens the data port on 127.0.0.1 and, when PASV advertises
// another address, the same port there (a few tries: that port may be
// taken on the other address).
func (s *Server) listenData() error {
	var err error
	for try := 0; try < 10; try++ {
		if s.data, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
		if s.opts.PasvHost == "127.0.0.1" {
			return nil
		}
		port := s.data.Addr().(*net.TCPAddr).Port
		if s.stray, err = net.Listen("tcp", net.JoinHostPort(s.opts.PasvHost, fmt.Sprint(port))); err == nil {
			s.wg.Add(1)
			go s.countStrays()
			return nil
		}
		s.data.Close()
	}
	return err
}

func (s *Server) countStrays() {
	defer s.wg.Done()
	for {
		c, err := s.stray.Accept()
		if err != nil {
			return
		}
		s.strays.Add(1)
		c.Close()
	}
}

// Addr is the control address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Strays is the number of connections made to PasvHost when it is not
// the control address.
func (s *Server) Strays() int64 { return s.strays.Load() }

// Close stops the server and its sessions, and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.data.Close()
	if s.stray != nil {
		s.stray.Close()
	}
	s.wg.Wait()
	return nil
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// session answers one control connection, one command at a time.
func (s *Server) session(c net.Conn) {
	br := bufio.NewReaderSize(c, 1024)
	say := func(line string) bool {
		c.SetWriteDeadline(time.Now().Add(step))
		_, err := c.Write([]byte(line + "\r\n"))
		return err == nil
	}
	if !say("220 " + s.opts.Banner) {
		return
	}
	for {
		c.SetReadDeadline(time.Now().Add(step))
		line, err := br.ReadString('\n')
		if err != nil || len(line) > 512 {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		var out string
		switch strings.ToUpper(verb) {
		case "USER":
			out = "331 Password please."
		case "PASS":
			out = "230 Logged in."
			if s.opts.Password != "" && arg != s.opts.Password {
				out = s.opts.LoginRefused
			}
		case "TYPE", "NOOP":
			out = "200 OK."
		case "PASV":
			port := s.data.Addr().(*net.TCPAddr).Port
			h := strings.ReplaceAll(s.opts.PasvHost, ".", ",")
			out = fmt.Sprintf("227 Entering Passive Mode (%s,%d,%d).", h, port>>8, port&255)
		case "LIST":
			out = s.list(say)
		case "QUIT":
			say("221 Bye.")
			return
		default:
			out = "502 Not implemented."
		}
		if !say(out) {
			return
		}
	}
}

// list sends the listing over the next data connection.
func (s *Server) list(say func(string) bool) string {
	if !say("150 Here it comes.") {
		return ""
	}
	s.data.(*net.TCPListener).SetDeadline(time.Now().Add(step))
	dc, err := s.data.Accept()
	if err != nil {
		return "425 No data connection."
	}
	dc.SetWriteDeadline(time.Now().Add(step))
	dc.Write([]byte(s.opts.Listing))
	dc.Close()
	return "226 Done."
}
