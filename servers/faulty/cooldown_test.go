package faulty

import (
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// TestPortCooldown: under pasv-port-cooldown a port whose data connection
// closed is not handed out again within the cooldown; with every port of
// the range cooling, PASV and EPSV are answered 500 "Address already in
// use" by the proxy; after the cooldown the ports work again.
func TestPortCooldown(t *testing.T) {
	const cooldown = 2 * time.Second
	lo, hi, l, err := allocRange(2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.release)
	_, tg := withFault(t, "pasv-port-cooldown", ProxyRange(lo, hi), CooldownFor(cooldown))
	c := login(t, tg)

	first := listOnce(t, c, false)
	firstClosed := time.Now()
	// Superseded passive replies (nothing connects) never get the cooling
	// port back.
	for i := 0; i < 4; i++ {
		ep, r, err := c.Passive(tctx(t), i%2 == 1)
		if err != nil {
			t.Fatalf("passive reply %d with one port cooling: %s %v", i+1, r, err)
		}
		if ep.Port == first {
			t.Fatalf("%s: port %d handed out again %v after its data connection closed (cooldown %v)", r, first, time.Since(firstClosed).Round(time.Millisecond), cooldown)
		}
	}
	second := listOnce(t, c, true)
	closed := time.Now()
	if second == first {
		t.Fatalf("both transfers used port %d", first)
	}

	// Both ports cool down: the proxy refuses, as the emulated server did.
	for _, epsv := range []bool{false, true} {
		_, r, err := c.Passive(tctx(t), epsv)
		if err == nil || r.Code != 500 || !strings.Contains(r.Text(), "Address already in use") {
			t.Fatalf("passive request with every port cooling: %s (%v), want 500 ... Address already in use", r, err)
		}
	}
	if time.Since(closed) >= cooldown {
		t.Skipf("the checks took longer than the %v cooldown (loaded machine)", cooldown)
	}

	time.Sleep(time.Until(closed.Add(cooldown + 200*time.Millisecond)))
	if p := listOnce(t, c, false); p != first && p != second {
		t.Fatalf("port %d outside the 2-port range %d-%d", p, lo, hi)
	}
}

// TestPortCooldownOff: without the fault the same two ports are reused at
// once.
func TestPortCooldownOff(t *testing.T) {
	lo, hi, l, err := allocRange(2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.release)
	_, tg := proxied(t, "ftpserverlib", ProxyRange(lo, hi))
	c := login(t, tg)
	for i := 0; i < 4; i++ {
		listOnce(t, c, i%2 == 1)
	}
}

// listOnce runs LIST over a new passive connection and returns its port.
func listOnce(t *testing.T, c *ftp.Conn, epsv bool) int {
	t.Helper()
	ep, _ := mustPassive(t, c, epsv)
	if res := listOver(t, c, ep, ftp.ControlHost); !res.OK() {
		t.Fatalf("LIST over port %d: %s\n%s", ep.Port, res, c.Transcript())
	}
	return ep.Port
}

// TestPortCooldownActiveClose: only a data connection the server's side
// closed first leaves TIME_WAIT behind. On a one-port range an upload (the
// client closes) and a connection the client hangs up keep the port
// usable; a download (the server closes) makes it cool down.
func TestPortCooldownActiveClose(t *testing.T) {
	lo, hi, l, err := allocRange(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.release)
	_, tg := withFault(t, "pasv-port-cooldown", ProxyRange(lo, hi), CooldownFor(time.Minute))
	c := login(t, tg)
	name := fname(t)
	if res, _ := xfer(t, c, false, "STOR "+name, payload(1000)); !res.OK() {
		t.Fatalf("STOR: %s\n%s", res, c.Transcript())
	}
	ep, _ := mustPassive(t, c, true)
	nc, err := c.DialData(tctx(t), ep, ftp.DataOptions{})
	if err != nil {
		t.Fatalf("connect to port %d: %v", ep.Port, err)
	}
	nc.Close()
	time.Sleep(100 * time.Millisecond)
	if res, got := xfer(t, c, false, "RETR "+name, nil); !res.OK() || len(got) != 1000 {
		t.Fatalf("RETR after an upload and a hang-up on the only port: %s (%d bytes)\n%s", res, len(got), c.Transcript())
	}
	if _, r, err := c.Passive(tctx(t), false); err == nil || r.Code != 500 {
		t.Fatalf("PASV after a download on the only port: %s (%v), want 500", r, err)
	}
}
