package ftp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// pairingServer greets, then answers each command line by the verb:
// TWICE gets 500 twice (the second after extraDelay), SLOW gets 250 after
// 300 ms, RETR gets 150 and waits, ABOR then gets 426 and 226, LIST gets
// 150 then 226, BYE gets an unsolicited-looking 421 after its 200, and
// anything else 200 echoing the verb.
func pairingServer(t *testing.T, extraDelay time.Duration) string {
	return fakeServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		say := func(format string, args ...any) { fmt.Fprintf(c, format+"\r\n", args...) }
		say("220 pairing ready")
		for {
			line, err := readCmd(br)
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(line, " ")
			switch verb {
			case "TWICE":
				say("500 unknown command")
				time.Sleep(extraDelay)
				say("500 unknown command (again)")
			case "SLOW":
				time.Sleep(300 * time.Millisecond)
				say("250 slow done")
			case "RETR":
				say("150 opening")
			case "ABOR":
				say("426 transfer aborted")
				say("226 abort ok")
			case "LIST":
				say("150 here it comes")
				say("226 listed")
			case "BYE":
				say("200 ok")
				say("421 closing")
			default:
				say("200 %s ok", verb)
			}
		}
	})
}

func dialPairing(t *testing.T, addr string, opts ...Option) *Conn {
	t.Helper()
	c, err := Dial(ctxFor(t, 5*time.Second), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustCmd(t *testing.T, c *Conn, line string, want int) {
	t.Helper()
	r, err := c.Cmd(ctxFor(t, 5*time.Second), line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if r.Code != want {
		t.Fatalf("%s: got %s, want %d\n%s", line, r, want, c.Transcript())
	}
}

func TestPairingDiscardsExtraReply(t *testing.T) {
	for _, delay := range []time.Duration{0, 15 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			c := dialPairing(t, pairingServer(t, delay), WithReplyPairing(50*time.Millisecond))
			mustCmd(t, c, "TWICE", 500)
			mustCmd(t, c, "NOOP", 200)
			mustCmd(t, c, "PWD", 200)
			u := c.Unsolicited()
			if len(u) != 1 || u[0].After != "TWICE" || !strings.Contains(u[0].Reply.String(), "again") {
				t.Fatalf("unsolicited = %v, want one extra 500 after TWICE", u)
			}
			if !strings.Contains(c.Transcript().String(), "unsolicited reply after TWICE") {
				t.Errorf("transcript does not note the extra reply:\n%s", c.Transcript())
			}
		})
	}
}

// Without the option nothing is tracked: the extra reply answers the next
// command (what the pairing exists to prevent).
func TestPairingOffByDefault(t *testing.T) {
	c := dialPairing(t, pairingServer(t, 0))
	mustCmd(t, c, "TWICE", 500)
	time.Sleep(20 * time.Millisecond)
	mustCmd(t, c, "NOOP", 500)
	if u := c.Unsolicited(); len(u) != 0 {
		t.Fatalf("unsolicited = %v with pairing off", u)
	}
}

// A command sent long after the extra reply arrived still finds it
// buffered.
func TestPairingBufferedExtraAfterGrace(t *testing.T) {
	c := dialPairing(t, pairingServer(t, 0), WithReplyPairing(0))
	mustCmd(t, c, "TWICE", 500)
	time.Sleep(50 * time.Millisecond)
	mustCmd(t, c, "NOOP", 200)
	if u := c.Unsolicited(); len(u) != 1 {
		t.Fatalf("unsolicited = %v, want one", u)
	}
}

func TestPairingAbortTwoRepliesNotExtra(t *testing.T) {
	c := dialPairing(t, pairingServer(t, 0), WithReplyPairing(50*time.Millisecond))
	ctx := ctxFor(t, 5*time.Second)
	mustCmd(t, c, "RETR f", 150)
	if err := c.SendLine(ctx, "ABOR"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{426, 226} {
		r, err := c.ReadReply(ctx)
		if err != nil || r.Code != want {
			t.Fatalf("after ABOR: %v %v, want %d", r, err, want)
		}
	}
	mustCmd(t, c, "NOOP", 200)
	if u := c.Unsolicited(); len(u) != 0 {
		t.Fatalf("ABOR's 426+226 flagged: %v", u)
	}
}

func TestPairingPreliminaryNotExtra(t *testing.T) {
	c := dialPairing(t, pairingServer(t, 0), WithReplyPairing(50*time.Millisecond))
	mustCmd(t, c, "LIST", 150)
	r, err := c.ReadReply(ctxFor(t, 5*time.Second))
	if err != nil || r.Code != 226 {
		t.Fatalf("LIST completion: %v %v", r, err)
	}
	mustCmd(t, c, "NOOP", 200)
	// pipelined lines written raw each owe one reply
	ctx := ctxFor(t, 5*time.Second)
	if err := c.WriteRaw(ctx, []byte("NOOP\r\nPWD\r\n")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.ReadReply(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mustCmd(t, c, "SYST", 200)
	if u := c.Unsolicited(); len(u) != 0 {
		t.Fatalf("flagged: %v", u)
	}
}

// A reply that comes after its read timed out belongs to its command: it
// is discarded before the next command, not returned as that command's
// reply, and it is not an extra reply.
func TestPairingLateReplyAfterTimeout(t *testing.T) {
	c := dialPairing(t, pairingServer(t, 0), WithReplyPairing(50*time.Millisecond))
	if _, err := c.Cmd(ctxFor(t, 100*time.Millisecond), "SLOW"); err == nil || !IsTimeout(err) {
		t.Fatalf("SLOW: want a timeout, got %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	mustCmd(t, c, "NOOP", 200)
	if u := c.Unsolicited(); len(u) != 0 {
		t.Fatalf("late reply flagged: %v", u)
	}
	if !strings.Contains(c.Transcript().String(), "late reply to SLOW") {
		t.Errorf("transcript does not pair the late reply:\n%s", c.Transcript())
	}
}

// RFC 959 §4.2 allows 421 for any command: it is left for the caller and
// never recorded.
func TestPairing421NotExtra(t *testing.T) {
	c := dialPairing(t, pairingServer(t, 0), WithReplyPairing(50*time.Millisecond))
	mustCmd(t, c, "BYE", 200)
	time.Sleep(20 * time.Millisecond)
	mustCmd(t, c, "NOOP", 421)
	if u := c.Unsolicited(); len(u) != 0 {
		t.Fatalf("421 flagged: %v", u)
	}
}

// The hot path gains no allocation when pairing is off.
func TestPairingOffNoAllocs(t *testing.T) {
	var p pairing
	if n := testing.AllocsPerRun(100, func() { _ = p.owing() }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}
