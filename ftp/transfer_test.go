package ftp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"math/rand"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func payload(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// login dials the mini server and logs in.
func login(t *testing.T, s *miniServer, opts ...Option) *Conn {
	t.Helper()
	addr := s.start(t)
	ctx := ctxFor(t, 5*time.Second)
	c, err := Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(ctx, "alice", "s3cret-pw"); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTransferRETR(t *testing.T) {
	t.Parallel()
	want := payload(1<<20+17, 1)
	for _, epsv := range []bool{false, true} {
		s := newMiniServer(map[string][]byte{"big.bin": want})
		// 226 only once the client has recorded its data EOF, so the
		// ordering is the server's, whatever the scheduler does.
		var cp atomic.Pointer[Conn]
		s.between = func() { waitTranscript(&cp, "data: received") }
		c := login(t, s)
		cp.Store(c)
		ctx := ctxFor(t, 5*time.Second)
		data, ep, err := c.OpenPassive(ctx, epsv, DataOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !ep.IP.Equal(net.IPv4(127, 0, 0, 1)) || ep.Port == 0 {
			t.Fatalf("endpoint %v", ep)
		}
		var sink bytes.Buffer
		res := c.Transfer(ctx, data, "RETR big.bin", nil, &sink)
		if !res.OK() || res.Err != nil {
			t.Fatalf("epsv=%v: %v", epsv, res)
		}
		if res.Bytes != int64(len(want)) || res.SHA256 != SHA256Hex(want) || !bytes.Equal(sink.Bytes(), want) {
			t.Fatalf("got %d bytes sha %s, want %d sha %s", res.Bytes, res.SHA256, len(want), SHA256Hex(want))
		}
		if len(res.Replies) != 2 || res.Replies[0].Code != 150 || res.Final().Code != 226 {
			t.Fatalf("replies %v", res.Replies)
		}
		// DataEOF before the final reply's arrival.
		if res.DataEOF.IsZero() || !res.DataEOF.Before(res.Final().At) {
			t.Fatalf("DataEOF %v not before 226 at %v", res.DataEOF, res.Final().At)
		}
		if !strings.Contains(res.String(), "RETR big.bin: 1048593 bytes | 150") {
			t.Errorf("String = %q", res.String())
		}
	}
}

// TestTransferReplyBeforeEOF: the ordering is observed, not imposed: a
// server that sends 226 before finishing the data is seen doing so.
func TestTransferReplyBeforeEOF(t *testing.T) {
	t.Parallel()
	want := payload(64<<10, 2)
	s := newMiniServer(map[string][]byte{"f": want})
	s.replyFirst = true
	var cp atomic.Pointer[Conn]
	s.between = func() { waitTranscript(&cp, "< 226 transfer complete") }
	c := login(t, s)
	cp.Store(c)
	ctx := ctxFor(t, 5*time.Second)
	data, _, err := c.OpenPassive(ctx, false, DataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "RETR f", nil, nil)
	if !res.OK() || res.SHA256 != SHA256Hex(want) {
		t.Fatalf("%v", res)
	}
	if !res.Final().At.Before(res.DataEOF) {
		t.Fatalf("226 at %v not before DataEOF %v", res.Final().At, res.DataEOF)
	}
}

func TestTransferSTOR(t *testing.T) {
	t.Parallel()
	up := payload(300<<10+5, 3)
	s := newMiniServer(nil)
	c := login(t, s)
	ctx := ctxFor(t, 5*time.Second)
	data, _, err := c.OpenPassive(ctx, true, DataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "STOR up.bin", bytes.NewReader(up), nil)
	if !res.OK() {
		t.Fatalf("%v", res)
	}
	if res.Bytes != int64(len(up)) || res.SHA256 != SHA256Hex(up) || res.DataEOF.IsZero() {
		t.Fatalf("bytes %d sha %s", res.Bytes, res.SHA256)
	}
	select {
	case got := <-s.stored:
		if !bytes.Equal(got, up) {
			t.Fatalf("server stored %d bytes, want %d", len(got), len(up))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server stored nothing")
	}
	if !strings.Contains(res.Final().String(), "226 stored 307205 bytes") {
		t.Fatalf("final %v", res.Final())
	}
}

func TestTransfer550(t *testing.T) {
	t.Parallel()
	s := newMiniServer(map[string][]byte{})
	c := login(t, s)
	ctx := ctxFor(t, 5*time.Second)
	data, _, err := c.OpenPassive(ctx, false, DataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "RETR missing", nil, nil)
	var re *ReplyError
	if !errors.As(res.Err, &re) || re.Reply.Code != 550 || re.Cmd != "RETR missing" {
		t.Fatalf("want *ReplyError 550, got %v", res.Err)
	}
	if res.OK() || len(res.Replies) != 1 || res.Final().Code != 550 || res.Bytes != 0 {
		t.Fatalf("%v", res)
	}
	// the data connection was closed by Transfer
	data.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := data.Read(make([]byte, 1)); err == nil || IsTimeout(err) {
		t.Fatalf("data connection still open: %v", err)
	}
	// and the control connection is still in step
	if r, err := c.Cmd(ctx, "NOOP"); err != nil || r.Code != 200 {
		t.Fatalf("NOOP after 550: %v %v", r, err)
	}
}

// TestTransferFailedAfter150: 150, data closed with nothing, 426.
func TestTransferFailedAfter150(t *testing.T) {
	t.Parallel()
	addr, dataAddr := scriptedTransfer(t, "150 here it comes\r\n", "", "426 aborted\r\n")
	c, err := Dial(ctxFor(t, 5*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxFor(t, 5*time.Second)
	data, err := DialTCP(ctx, dataAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "RETR x", nil, nil)
	var re *ReplyError
	if !errors.As(res.Err, &re) || re.Reply.Code != 426 || len(res.Replies) != 2 {
		t.Fatalf("want *ReplyError 426 after 150, got %v", res)
	}
}

// scriptedTransfer: a server that greets, answers the first command with
// first, accepts one data connection, writes body to it, closes it, then
// sends final.
func scriptedTransfer(t *testing.T, first, body, final string) (ctrl, data string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctrl = fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		if _, err := readCmd(bufio.NewReader(c)); err != nil {
			return
		}
		c.Write([]byte(first))
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		if dc, err := ln.Accept(); err == nil {
			dc.Write([]byte(body))
			dc.Close()
		}
		c.Write([]byte(final))
		hold(c)
	})
	return ctrl, ln.Addr().String()
}

// TestTransferNilData: a hostile server answering 150 when the caller has
// no data connection must yield an error, not a panic.
func TestTransferNilData(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		readCmd(bufio.NewReader(c))
		c.Write([]byte("150 sure\r\n226 done\r\n"))
		hold(c)
	})
	c, err := Dial(ctxFor(t, 5*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res := c.Transfer(ctxFor(t, 5*time.Second), nil, "RETR x", nil, nil)
	if res.Err == nil || res.OK() {
		t.Fatalf("want an error, got %v", res)
	}
	if len(res.Replies) != 2 || res.Final().Code != 226 {
		t.Fatalf("server's verdict not collected: %v", res.Replies)
	}
}

func TestTransferWithDataFuncError(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		readCmd(bufio.NewReader(c))
		c.Write([]byte("150 connecting\r\n425 no data connection\r\n"))
		hold(c)
	})
	c, err := Dial(ctxFor(t, 5*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	boom := errors.New("accept failed")
	cleaned := false
	res := c.TransferWith(ctxFor(t, 5*time.Second), "LIST", func(context.Context) (net.Conn, error) { return nil, boom },
		nil, nil, func() { cleaned = true })
	if !errors.Is(res.Err, boom) || len(res.Replies) != 2 || res.Final().Code != 425 || !cleaned {
		t.Fatalf("%v cleaned=%v", res, cleaned)
	}
}

// TestTransferStalledData: a server that sends 150 and never sends data or
// closes: the transfer ends at the deadline, and cancellation is reported
// as such.
func TestTransferStalledData(t *testing.T) {
	t.Parallel()
	addr, dataAddr := stalledTransfer(t)
	for _, cancelIt := range []bool{false, true} {
		c, err := Dial(ctxFor(t, 5*time.Second), addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		data, err := DialTCP(ctxFor(t, 5*time.Second), dataAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		const dl = 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), dl)
		if cancelIt {
			cancel()
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
		}
		start := time.Now()
		res := c.Transfer(ctx, data, "RETR x", nil, nil)
		cancel()
		within(t, start, dl)
		if !IsTimeout(res.Err) {
			t.Fatalf("cancel=%v: want timeout, got %v", cancelIt, res.Err)
		}
		if cancelIt != errors.Is(res.Err, context.Canceled) {
			t.Fatalf("cancel=%v but error %v", cancelIt, res.Err)
		}
	}
}

func stalledTransfer(t *testing.T) (ctrl, data string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			dc, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { dc.Close() })
		}
	}()
	ctrl = fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		readCmd(bufio.NewReader(c))
		c.Write([]byte("150 ok\r\n"))
		hold(c)
	})
	return ctrl, ln.Addr().String()
}

func TestDataLocalIP(t *testing.T) {
	t.Parallel()
	src := net.IPv4(127, 0, 0, 2)
	s := newMiniServer(map[string][]byte{"f": []byte("hello")})
	c := login(t, s, WithLocalIP(src))
	if ctrl := (<-s.ctrlPeers).(*net.TCPAddr); !ctrl.IP.Equal(src) || !c.LocalIP().Equal(src) {
		t.Fatalf("control source %v / %v, want %v", ctrl.IP, c.LocalIP(), src)
	}
	if !c.RemoteIP().Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("RemoteIP %v", c.RemoteIP())
	}
	ctx := ctxFor(t, 5*time.Second)
	data, _, err := c.OpenPassive(ctx, false, DataOptions{LocalIP: src})
	if err != nil {
		t.Fatal(err)
	}
	if la := data.LocalAddr().(*net.TCPAddr); !la.IP.Equal(src) {
		t.Fatalf("data local address %v", la)
	}
	res := c.Transfer(ctx, data, "RETR f", nil, nil)
	if !res.OK() || res.SHA256 != SHA256Hex([]byte("hello")) {
		t.Fatalf("%v", res)
	}
	if peer := (<-s.dataPeers).(*net.TCPAddr); !peer.IP.Equal(src) {
		t.Fatalf("server saw the data connection from %v, want %v", peer, src)
	}
	if !strings.Contains(c.Transcript().String(), "data connected 127.0.0.2:") {
		t.Errorf("transcript lacks the data source:\n%s", c.Transcript())
	}
}

// TestDataPolicy: the server listens for data on 127.0.0.1 but advertises
// 127.0.0.3 (a broken masquerade). ControlHost ignores the advertised
// address and connects; Strict dials 127.0.0.3 and is refused.
func TestDataPolicy(t *testing.T) {
	t.Parallel()
	s := newMiniServer(map[string][]byte{"f": []byte("policy")})
	s.pasvIP = "127.0.0.3"
	c := login(t, s)
	ctx := ctxFor(t, 5*time.Second)

	ep, r, err := c.Passive(ctx, false)
	if err != nil || r.Code != 227 || !ep.IP.Equal(net.IPv4(127, 0, 0, 3)) {
		t.Fatalf("Passive: %v %v %v", ep, r, err)
	}
	port := ep.String()[len("127.0.0.3:"):]
	if got := c.DataTarget(ep, Strict); got != "127.0.0.3:"+port {
		t.Errorf("Strict target %s", got)
	}
	if got := c.DataTarget(ep, ControlHost); got != "127.0.0.1:"+port {
		t.Errorf("ControlHost target %s", got)
	}
	if got := c.DataTarget(Endpoint{Port: 21}, Strict); got != "127.0.0.1:21" {
		t.Errorf("Strict target without an address %s", got)
	}
	if _, err := c.DialData(ctx, ep, DataOptions{Policy: Strict}); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Strict dial of the advertised address: want refused, got %v", err)
	}
	data, err := c.DialData(ctx, ep, DataOptions{Policy: ControlHost})
	if err != nil {
		t.Fatalf("ControlHost: %v", err)
	}
	if res := c.Transfer(ctx, data, "RETR f", nil, nil); !res.OK() || res.Bytes != 6 {
		t.Fatalf("%v", res)
	}
}

// TestDataPolicyStrictFollowsAdvert: data listener on 127.0.0.3, advertised
// as such: Strict goes there.
func TestDataPolicyStrictFollowsAdvert(t *testing.T) {
	t.Parallel()
	s := newMiniServer(map[string][]byte{"f": []byte("strict")})
	s.dataBind = "127.0.0.3:0"
	c := login(t, s)
	ctx := ctxFor(t, 5*time.Second)
	data, ep, err := c.OpenPassive(ctx, false, DataOptions{Policy: Strict})
	if err != nil {
		t.Fatal(err)
	}
	if ra := data.RemoteAddr().(*net.TCPAddr); !ra.IP.Equal(net.IPv4(127, 0, 0, 3)) || !ep.IP.Equal(ra.IP) {
		t.Fatalf("strict data peer %v, advert %v", ra, ep)
	}
	if res := c.Transfer(ctx, data, "RETR f", nil, nil); !res.OK() {
		t.Fatalf("%v", res)
	}
}

func TestPassiveErrors(t *testing.T) {
	t.Parallel()
	replies := map[string]string{
		"PASV": "227 Entering Passive Mode (127,0,0,1,117)\r\n",
		"EPSV": "229 Entering Extended Passive Mode (|||0|)\r\n",
	}
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		br := bufio.NewReader(c)
		for {
			cmd, err := readCmd(br)
			if err != nil {
				return
			}
			if r, ok := replies[cmd]; ok {
				c.Write([]byte(r))
			} else {
				c.Write([]byte("500 no\r\n"))
			}
		}
	})
	c, err := Dial(ctxFor(t, 5*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxFor(t, 5*time.Second)
	for _, epsv := range []bool{false, true} {
		_, r, err := c.Passive(ctx, epsv)
		var pe *ProtocolError
		if !errors.As(err, &pe) || (pe.Kind != "bad-227" && pe.Kind != "bad-229") || !bytes.Equal(pe.Raw, r.Raw) || pe.Transcript == nil {
			t.Fatalf("epsv=%v: want bad-227/229 ProtocolError, got %v", epsv, err)
		}
	}
	if _, err := c.Expect(ctx, []int{200}, "NOOP"); err == nil {
		t.Fatal("Expect accepted 500")
	} else if re := (*ReplyError)(nil); !errors.As(err, &re) || re.Reply.Code != 500 {
		t.Fatalf("Expect: %v", err)
	}
}

func TestTranscriptMasksPASS(t *testing.T) {
	t.Parallel()
	s := newMiniServer(nil)
	c := login(t, s)
	if got := <-s.passes; got != "s3cret-pw" {
		t.Fatalf("server received PASS %q: masking must not touch the wire", got)
	}
	ctx := ctxFor(t, 5*time.Second)
	// pipelined and raw forms must be masked too
	if err := c.WriteRaw(ctx, []byte("USER bob\r\nPASS raw-s3cret\r\npass lower-s3cret\nNOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.ReadReply(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SendLine(ctx, "pass line-s3cret"); err != nil {
		t.Fatal(err)
	}
	tr := c.Transcript().String()
	for _, secret := range []string{"s3cret-pw", "raw-s3cret", "lower-s3cret", "line-s3cret"} {
		if strings.Contains(tr, secret) {
			t.Fatalf("transcript leaks %q:\n%s", secret, tr)
		}
	}
	if !strings.Contains(tr, "> PASS ****") || !strings.Contains(tr, "> USER alice") || !strings.Contains(tr, "USER bob") {
		t.Fatalf("transcript:\n%s", tr)
	}
}

func TestTranscriptBounded(t *testing.T) {
	tr := NewTranscript()
	for i := 0; i < 5000; i++ {
		tr.Notef("entry %d", i)
	}
	tr.Add(Received, strings.Repeat("x", 2000)+"\r\n")
	es := tr.Entries()
	if len(es) != maxTranscriptEntries {
		t.Fatalf("%d entries", len(es))
	}
	if es[0].Text != "entry 0" || es[maxTranscriptEntries/2-1].Text != "entry 1999" {
		t.Fatalf("oldest half not kept: %q %q", es[0].Text, es[maxTranscriptEntries/2-1].Text)
	}
	last := es[len(es)-1]
	if last.Dir != Received || !strings.HasSuffix(last.Text, "(2000 bytes)") || len(last.Text) > 600 {
		t.Fatalf("newest entry %q", last.Text[:40])
	}
	if es[len(es)-2].Text != "entry 4999" {
		t.Fatalf("newest notes not kept: %q", es[len(es)-2].Text)
	}
	if tail := tr.Tail(2); !strings.Contains(tail, "earlier lines") || strings.Count(tail, "\n") != 3 {
		t.Fatalf("Tail(2) = %q", tail)
	}
	var nilTr *Transcript
	nilTr.Add(Sent, "ignored")
	if nilTr.Entries() != nil {
		t.Fatal("nil transcript")
	}
}
