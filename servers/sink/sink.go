// Package sink is a minimal in-process FTP server that answers the
// commands the load generator sends (USER, PASS, TYPE, PASV, EPSV, RETR,
// STOR, DELE, LIST, SIZE, CWD, PWD, NOOP, QUIT) as cheaply as it can, so the
// generator's own ceiling can be measured. It serves no files: RETR of
// "ftpload-N.bin" sends N zero bytes (Options.FileSize for other names),
// STOR discards what it receives (so DELE, the generator's cleanup, has
// nothing to remove and says it did), LIST sends one line. Any user and
// password are accepted. It listens on loopback only.
package sink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a sink.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0".
	Addr string
	// PasvMin..PasvMax is the passive range; zero means kernel-chosen
	// ports. When every port of the range is held, PASV/EPSV answer
	// "425 No passive port available".
	PasvMin, PasvMax int
	// FileSize is what RETR sends for names that do not say (default 0).
	FileSize int64
	// Timeout bounds waiting for a data connection and idle control reads
	// (default 30s).
	Timeout time.Duration
}

// Server is a running sink.
type Server struct {
	opts Options
	ln   net.Listener
	wg   sync.WaitGroup
	next atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  chan struct{}

	// Sessions counts control connections accepted.
	Sessions atomic.Int64
	// Cycles counts completed data transfers.
	Cycles atomic.Int64
	// ForeignData counts data connections from another address than
	// their session's control connection.
	ForeignData atomic.Int64
	// Peers counts control connections per source address.
	peersMu sync.Mutex
	peers   map[string]int
}

var zeros = make([]byte, 256<<10)

// lc makes listeners whose accepted connections skip TCP keep-alive (its
// setsockopt calls are a measurable part of a short data connection).
var lc = net.ListenConfig{KeepAlive: -1}

// Start listens and serves in the background.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.PasvMin < 0 || opts.PasvMax < opts.PasvMin || opts.PasvMax > 65535 {
		return nil, fmt.Errorf("sink: bad passive range %d-%d", opts.PasvMin, opts.PasvMax)
	}
	ln, err := lc.Listen(context.Background(), "tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the control address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes every session.
func (s *Server) Close() error {
	close(s.done)
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off a little and go on
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.Sessions.Add(1)
		s.peersMu.Lock()
		if s.peers == nil {
			s.peers = map[string]int{}
		}
		s.peers[ipOf(c.RemoteAddr())]++
		s.peersMu.Unlock()
		s.wg.Add(1)
		go s.session(c)
	}
}

type sess struct {
	s  *Server
	c  net.Conn
	br *bufio.Reader
	w  []byte
	ln net.Listener
}

func (s *Server) session(c net.Conn) {
	defer s.wg.Done()
	ss := &sess{s: s, c: c, br: bufio.NewReaderSize(c, 512)}
	defer func() {
		if ss.ln != nil {
			ss.ln.Close()
		}
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	ss.reply("220 ftpharness sink ready")
	for {
		c.SetReadDeadline(time.Now().Add(s.opts.Timeout))
		line, err := ss.br.ReadSlice('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(string(line), "\r\n")
		verb, arg, _ := strings.Cut(cmd, " ")
		switch strings.ToUpper(verb) {
		case "USER":
			ss.reply("331 Password please")
		case "PASS":
			ss.reply("230 Logged in")
		case "TYPE":
			ss.reply("200 Type set")
		case "SYST":
			ss.reply("215 UNIX Type: L8")
		case "FEAT":
			ss.reply("211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n211 End")
		case "PWD":
			ss.reply(`257 "/" is the current directory`)
		case "CWD":
			ss.reply("250 Directory changed")
		case "NOOP":
			ss.reply("200 OK")
		case "SIZE":
			ss.reply("213 " + strconv.FormatInt(s.sizeOf(arg), 10))
		case "PASV", "EPSV":
			ss.passive(strings.ToUpper(verb) == "EPSV")
		case "RETR":
			ss.transfer(func(d net.Conn) error {
				n := s.sizeOf(arg)
				for n > 0 {
					k := int64(len(zeros))
					if k > n {
						k = n
					}
					w, err := d.Write(zeros[:k])
					n -= int64(w)
					if err != nil {
						return err
					}
				}
				return nil
			})
		case "LIST", "NLST":
			ss.transfer(func(d net.Conn) error {
				_, err := d.Write([]byte("-rw-r--r-- 1 ftp ftp 0 Jan 01 00:00 sink\r\n"))
				return err
			})
		case "STOR":
			ss.transfer(func(d net.Conn) error {
				buf := make([]byte, 64<<10)
				for {
					_, err := d.Read(buf)
					if err == io.EOF {
						return nil
					}
					if err != nil {
						return err
					}
				}
			})
		case "DELE":
			ss.reply("250 Deleted")
		case "QUIT":
			ss.reply("221 Bye")
			return
		default:
			ss.reply("502 Command not implemented")
		}
	}
}

func (ss *sess) reply(s string) {
	ss.w = append(append(ss.w[:0], s...), '\r', '\n')
	ss.c.SetWriteDeadline(time.Now().Add(ss.s.opts.Timeout))
	ss.c.Write(ss.w)
}

// sizeOf is N for "ftpload-N.bin", else FileSize.
func (s *Server) sizeOf(name string) int64 {
	name = strings.TrimPrefix(strings.TrimSpace(name), "/")
	if strings.HasPrefix(name, "ftpload-") && strings.HasSuffix(name, ".bin") {
		if n, err := strconv.ParseInt(name[len("ftpload-"):len(name)-len(".bin")], 10, 64); err == nil && n >= 0 {
			return n
		}
	}
	return s.opts.FileSize
}

func (ss *sess) passive(epsv bool) {
	if ss.ln != nil {
		ss.ln.Close()
		ss.ln = nil
	}
	ln, err := ss.s.listen()
	if err != nil {
		ss.reply("425 No passive port available")
		return
	}
	ss.ln = ln
	port := ln.Addr().(*net.TCPAddr).Port
	if epsv {
		ss.reply(fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)", port))
		return
	}
	ss.reply(fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d)", port>>8, port&255))
}

func (s *Server) listen() (net.Listener, error) {
	if s.opts.PasvMin == 0 {
		return lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	}
	n := int64(s.opts.PasvMax - s.opts.PasvMin + 1)
	for i := int64(0); i < n; i++ {
		p := s.opts.PasvMin + int((s.next.Add(1)-1)%n)
		ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			return ln, nil
		}
	}
	return nil, errors.New("range exhausted")
}

func (ss *sess) transfer(move func(net.Conn) error) {
	ln := ss.ln
	ss.ln = nil
	if ln == nil {
		ss.reply("425 Use PASV or EPSV first")
		return
	}
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(ss.s.opts.Timeout))
	d, err := ln.Accept()
	ln.Close()
	if err != nil {
		ss.reply("425 No data connection")
		return
	}
	if ipOf(d.RemoteAddr()) != ipOf(ss.c.RemoteAddr()) {
		ss.s.ForeignData.Add(1)
	}
	ss.reply("150 Opening data connection")
	d.SetDeadline(time.Now().Add(ss.s.opts.Timeout))
	err = move(d)
	d.Close()
	if err != nil {
		ss.reply("426 Transfer aborted")
		return
	}
	ss.s.Cycles.Add(1)
	ss.reply("226 Transfer complete")
}

func ipOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	h, _, _ := net.SplitHostPort(a.String())
	return h
}

// Peers returns how many control connections came from each address.
func (s *Server) Peers() map[string]int {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	out := map[string]int{}
	for k, v := range s.peers {
		out[k] = v
	}
	return out
}
