package faulty

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
)

func TestASCIIDoubleCR(t *testing.T) {
	_, tg := withFault(t, "ascii-double-cr")
	c := login(t, tg)
	text := bytes.Repeat([]byte("a line of text\r\n"), 5000)
	if res, _ := xfer(t, c, false, "STOR "+fname(t), text); !res.OK() {
		t.Fatalf("STOR: %s", res)
	}
	if res, got := xfer(t, c, false, "RETR "+fname(t), nil); !res.OK() || !bytes.Equal(got, text) {
		t.Fatalf("TYPE I RETR: %s, %d bytes (want %d unchanged)", res, len(got), len(text))
	}
	if _, err := c.Expect(tctx(t), []int{200}, "TYPE", "A"); err != nil {
		t.Fatal(err)
	}
	res, got := xfer(t, c, false, "RETR "+fname(t), nil)
	if want := bytes.ReplaceAll(text, []byte("\r\n"), []byte("\r\r\n")); !res.OK() || !bytes.Equal(got, want) {
		t.Fatalf("TYPE A RETR: %s, %d bytes starting %q; want every CR LF as CR CR LF", res, len(got), got[:min(len(got), 40)])
	}
}

// heldRetr starts a RETR of a file too big for the socket buffers and reads
// only its first bytes.
func heldRetr(t *testing.T, tg target.Config, name string) (*ftp.Conn, io.ReadCloser) {
	t.Helper()
	c := login(t, tg)
	nc, _, err := c.OpenPassive(tctx(t), false, ftp.DataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if r, err := c.Cmd(tctx(t), "RETR", name); err != nil || !r.Preliminary() {
		t.Fatalf("RETR: %s %v", r, err)
	}
	if _, err := io.ReadFull(nc, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	return c, nc
}

func replyWithin(c *ftp.Conn, d time.Duration) (ftp.Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.ReadReply(ctx)
}

func TestAborPlainIgnored(t *testing.T) {
	_, tg := withFault(t, "abor-plain-ignored")
	name := fname(t)
	c := login(t, tg)
	if res, _ := xfer(t, c, false, "STOR "+name, payload(32<<20)); !res.OK() {
		t.Fatalf("STOR: %s", res)
	}

	t.Run("IP+Synch ABOR acted on", func(t *testing.T) {
		c, _ := heldRetr(t, tg, name)
		abor := append([]byte{0xFF, 0xF4, 0xFF, 0xF2}, "ABOR\r\n"...)
		if err := c.WriteRaw(tctx(t), abor); err != nil {
			t.Fatal(err)
		}
		if r, err := replyWithin(c, 3*time.Second); err != nil || !r.Is(426, 226) {
			t.Fatalf("ABOR after IAC IP IAC DM: %s %v, want 426/226 at once", r, err)
		}
	})
	t.Run("plain ABOR held", func(t *testing.T) {
		c, nc := heldRetr(t, tg, name)
		if err := c.SendLine(tctx(t), "ABOR"); err != nil {
			t.Fatal(err)
		}
		if r, err := replyWithin(c, 1500*time.Millisecond); !ftp.IsTimeout(err) {
			t.Fatalf("plain ABOR mid-transfer: %s %v, want no reply while the download runs", r, err)
		}
		n, _ := io.Copy(io.Discard, nc)
		var codes []int
		for len(codes) < 2 {
			r, err := replyWithin(c, 5*time.Second)
			if err != nil {
				t.Fatalf("after the rest of the download (%d bytes): replies %v, then %v", n, codes, err)
			}
			codes = append(codes, r.Code)
		}
		if codes[0] != 226 {
			t.Errorf("replies after the download: %v, want the transfer's 226 first", codes)
		}
	})
}

// abor-drops-session: ABOR during a download closes the control
// connection; ABOR with nothing running (after NOOP) is passed on.
func TestAborDropsSession(t *testing.T) {
	_, tg := withFault(t, "abor-drops-session")
	name := fname(t)
	c := login(t, tg)
	if res, _ := xfer(t, c, false, "STOR "+name, payload(32<<20)); !res.OK() {
		t.Fatalf("STOR: %s", res)
	}
	if r, err := c.Cmd(tctx(t), "NOOP"); err != nil || r.Code != 200 {
		t.Fatalf("NOOP: %s %v", r, err)
	}
	if r, err := c.Cmd(tctx(t), "ABOR"); err != nil || !r.Is(225, 226) {
		t.Fatalf("ABOR with no transfer: %s %v, want the server's 225/226", r, err)
	}
	held, _ := heldRetr(t, tg, name)
	if err := held.SendLine(tctx(t), "ABOR"); err != nil {
		t.Fatal(err)
	}
	if r, err := replyWithin(held, 3*time.Second); err == nil || ftp.IsTimeout(err) {
		t.Fatalf("ABOR mid-transfer: %s %v, want the control connection closed", r, err)
	}
}

// abor-deferred holds even the ABOR behind Telnet IP + Synch until the
// download has ended: no reply while it runs, then the transfer's 226.
func TestAborDeferred(t *testing.T) {
	_, tg := withFault(t, "abor-deferred")
	name := fname(t)
	c := login(t, tg)
	if res, _ := xfer(t, c, false, "STOR "+name, payload(32<<20)); !res.OK() {
		t.Fatalf("STOR: %s", res)
	}
	c, nc := heldRetr(t, tg, name)
	abor := append([]byte{0xFF, 0xF4, 0xFF, 0xF2}, "ABOR\r\n"...)
	if err := c.WriteRaw(tctx(t), abor); err != nil {
		t.Fatal(err)
	}
	if r, err := replyWithin(c, 1500*time.Millisecond); !ftp.IsTimeout(err) {
		t.Fatalf("IP+Synch ABOR mid-transfer: %s %v, want no reply while the download runs", r, err)
	}
	n, _ := io.Copy(io.Discard, nc)
	r, err := replyWithin(c, 5*time.Second)
	if err != nil || !r.Is(226, 250) {
		t.Fatalf("after the rest of the download (%d bytes): %s %v, want the transfer's 226 first", n, r, err)
	}
}
