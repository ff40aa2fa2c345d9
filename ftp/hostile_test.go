package ftp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// within fails unless elapsed < limit + 1s (the brief's slack).
func within(t *testing.T, start time.Time, limit time.Duration) {
	t.Helper()
	if el := time.Since(start); el >= limit+time.Second {
		t.Fatalf("took %v, limit %v + 1s", el, limit)
	}
}

func TestHostileNeverGreets(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, hold)
	const dl = 300 * time.Millisecond
	for _, viaCtx := range []bool{true, false} {
		start := time.Now()
		var err error
		if viaCtx {
			ctx, cancel := context.WithTimeout(context.Background(), dl)
			_, err = Dial(ctx, addr)
			cancel()
		} else {
			_, err = Dial(context.Background(), addr, WithTimeout(dl))
		}
		within(t, start, dl)
		if time.Since(start) < dl-50*time.Millisecond {
			t.Errorf("returned before the deadline (%v)", time.Since(start))
		}
		if !IsTimeout(err) {
			t.Fatalf("ctx=%v: want timeout, got %v", viaCtx, err)
		}
		var oe *OpError
		if !errors.As(err, &oe) || oe.Transcript == nil {
			t.Fatalf("want *OpError with transcript, got %#v", err)
		}
	}
}

func TestHostileStopsMidReply(t *testing.T) {
	t.Parallel()
	for _, partial := range []string{"220-Welcome\r\n220-more", "220-Welcome\r\n", "22"} {
		addr := fakeServer(t, func(c net.Conn) {
			c.Write([]byte(partial))
			hold(c)
		})
		const dl = 300 * time.Millisecond
		start := time.Now()
		_, err := Dial(ctxFor(t, dl), addr)
		within(t, start, dl)
		if !IsTimeout(err) {
			t.Fatalf("%q: want timeout, got %v", partial, err)
		}
	}
}

func TestHostileEndlessReply(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		line := []byte("220-" + strings.Repeat("z", 200) + "\r\n")
		for {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	})
	const dl = 5 * time.Second
	start := time.Now()
	_, err := Dial(ctxFor(t, dl), addr)
	within(t, start, dl)
	var pe *ProtocolError
	if !(errors.As(err, &pe) && pe.Kind == "reply-too-large") && !IsTimeout(err) {
		t.Fatalf("want reply-too-large or timeout, got %v", err)
	}
	if pe != nil && !strings.HasPrefix(string(pe.Raw), "220-zzz") {
		t.Fatalf("Raw = %q", truncate(pe.Raw, 40))
	}
}

func TestHostileEndlessLine(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 "))
		chunk := []byte(strings.Repeat("y", 4096))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	const dl = 5 * time.Second
	start := time.Now()
	_, err := Dial(ctxFor(t, dl), addr)
	within(t, start, dl)
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Kind != "line-too-long" {
		t.Fatalf("want line-too-long, got %v", err)
	}
}

// TestHostileTrickle: one byte per 100 ms never lets an idle timeout fire;
// the deadline is absolute, so the read still ends at it.
func TestHostileTrickle(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		for _, b := range []byte("220 " + strings.Repeat("slow ", 100) + "\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	const dl = 450 * time.Millisecond
	start := time.Now()
	_, err := Dial(ctxFor(t, dl), addr)
	within(t, start, dl)
	if !IsTimeout(err) {
		t.Fatalf("want timeout, got %v", err)
	}
}

func TestGreeting421Refused(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("421-Too many users\r\n421 Try later\r\n"))
		hold(c)
	})
	_, err := Dial(ctxFor(t, 2*time.Second), addr)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("want ErrRefused, got %v", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Reply == nil || oe.Reply.Code != 421 || oe.Transcript == nil {
		t.Fatalf("want *OpError carrying the 421 reply, got %#v", err)
	}
}

func TestGreeting120Then220(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("120 Ready in 1 minute\r\n"))
		time.Sleep(20 * time.Millisecond)
		c.Write([]byte("120-still\r\n120 busy\r\n220 Now ready\r\n"))
		hold(c)
	})
	c, err := Dial(ctxFor(t, 2*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g := c.Greeting(); g.Code != 220 || g.Text() != "Now ready" {
		t.Fatalf("greeting %v", g)
	}
	if s := c.Transcript().String(); !strings.Contains(s, "< 120 Ready") || !strings.Contains(s, "< 220 Now ready") {
		t.Fatalf("transcript misses the greeting sequence:\n%s", s)
	}
}

func TestGreetingUnexpected(t *testing.T) {
	t.Parallel()
	for _, g := range []string{"500 go away\r\n", "230 already in?\r\n"} {
		addr := fakeServer(t, func(c net.Conn) { c.Write([]byte(g)); hold(c) })
		_, err := Dial(ctxFor(t, 2*time.Second), addr)
		var oe *OpError
		if err == nil || errors.Is(err, ErrRefused) || !errors.As(err, &oe) || oe.Reply == nil {
			t.Fatalf("%q: want non-refused *OpError with reply, got %v", g, err)
		}
	}
}

func TestGreetingClosedWithoutBytes(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {})
	_, err := Dial(ctxFor(t, 2*time.Second), addr)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("want io.EOF, got %v", err)
	}
}

func TestGreetingMalformedStrictVsLenient(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) { c.Write([]byte("220 LF only\n")); hold(c) })
	_, err := Dial(ctxFor(t, 2*time.Second), addr)
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Kind != "malformed" || string(pe.Raw) != "220 LF only\n" {
		t.Fatalf("strict: want malformed ProtocolError, got %v", err)
	}
	c, err := Dial(ctxFor(t, 2*time.Second), addr, WithStrictReplies(false))
	if err != nil {
		t.Fatalf("lenient: %v", err)
	}
	defer c.Close()
	if len(c.Problems()) != 1 || c.Greeting().Code != 220 {
		t.Fatalf("lenient: problems %v greeting %v", c.Problems(), c.Greeting())
	}
}

// TestCancelInterruptsRead: a context with no deadline, a Conn with the
// long default timeout, a server that never answers: cancel must end the
// read at once and say it was cancelled.
func TestCancelInterruptsRead(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		hold(c)
	})
	c, err := Dial(ctxFor(t, 2*time.Second), addr, WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Cmd(ctx, "NOOP")
	if el := time.Since(start); el > time.Second {
		t.Fatalf("cancel took %v", el)
	}
	if err == nil {
		t.Fatal("no error after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error does not match context.Canceled: %v", err)
	}
	// The connection is still usable with a fresh context: the cancelled
	// deadline must not stick.
	_, err = c.ReadReply(ctxFor(t, 100*time.Millisecond))
	if !IsTimeout(err) || errors.Is(err, context.Canceled) {
		t.Fatalf("next read: want a plain timeout, got %v", err)
	}
}

func TestCancelInterruptsGreeting(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, hold)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Dial(ctx, addr, WithTimeout(30*time.Second))
	if el := time.Since(start); el > time.Second {
		t.Fatalf("cancel took %v", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
}

func TestReadEOF(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		br := bufio.NewReader(c)
		cmd, _ := readCmd(br)
		if cmd == "QUIT" {
			c.Write([]byte("221 bye\r\n"))
			return
		}
		c.Write([]byte("500 what\r\n"))
		hold(c)
	})
	c, err := Dial(ctxFor(t, 2*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Cmd(ctxFor(t, 2*time.Second), "QUIT"); err != nil || r.Code != 221 {
		t.Fatalf("QUIT: %v %v", r, err)
	}
	if err := c.ReadEOF(ctxFor(t, 2*time.Second)); err != nil {
		t.Fatalf("ReadEOF: %v", err)
	}

	c2, err := Dial(ctxFor(t, 2*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SendLine(ctxFor(t, time.Second), "NOOP")
	if err := c2.ReadEOF(ctxFor(t, 2*time.Second)); err == nil || !strings.Contains(err.Error(), "500 what") {
		t.Fatalf("ReadEOF with bytes pending: %v", err)
	}
}

// A reply whose text goes on over a line without a code ("550 no such\r\n
// file\r\n") cannot be framed; the codeless line is kept (Unframed) so
// REPLY-001 grades it wherever it was seen. A Telnet refusal (IAC WONT,
// RFC 854) in front of a reply is not one.
func TestCodelessLineIsKept(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("220 hi\r\n"))
		buf := make([]byte, 64)
		c.Read(buf)
		c.Write([]byte("550 no such\r\nfile\r\n"))
		c.Read(buf)
		c.Write([]byte("\xff\xfc\x01200 ok\r\n"))
		hold(c)
	})
	c, err := Dial(ctxFor(t, 2*time.Second), addr, WithStrictReplies(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxFor(t, 2*time.Second)
	if r, err := c.Cmd(ctx, "DELE x"); err != nil || r.Code != 550 {
		t.Fatalf("DELE: %v %v", r, err)
	}
	if _, err := c.ReadReply(ctx); err == nil {
		t.Fatal("a line without a code was framed as a reply")
	}
	c.Cmd(ctx, "NOOP")
	if u := c.Unframed(); len(u) != 1 || string(u[0]) != "file\r\n" {
		t.Fatalf("unframed %q, want the codeless line only", u)
	}
	if len(c.Problems()) != 0 {
		t.Fatalf("problems %v: an unframed line is not a reply", c.Problems())
	}
}
