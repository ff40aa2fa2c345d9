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
