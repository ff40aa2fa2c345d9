package servers_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers"
)

// TestIPv6Listen starts every server on ::1: its target is an [::1]
// address with no masquerade address (a 227 carries IPv4 only, RFC 2428
// §1), and a STOR and RETR over EPSV work — except on twisted, which has no
// EPSV, so over IPv6 it has no passive mode at all (login only).
func TestIPv6Listen(t *testing.T) {
	for _, name := range append(append([]string{}, inProcess...), daemons...) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, name, servers.Spec{ListenAddress: "::1"})
			tg := srv.Target()
			if host, _, _ := net.SplitHostPort(tg.Addr); host != "::1" {
				t.Fatalf("Target.Addr %q, want [::1]:port", tg.Addr)
			}
			if tg.PasvAddress != "" {
				t.Errorf("Target.PasvAddress %q over IPv6, want none", tg.PasvAddress)
			}
			s := login(t, srv)
			if noEPSV[name] {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s.transfer(ctx, true, "STOR v6.txt", strings.NewReader("over ::1\n"))
			if res := s.transfer(ctx, true, "RETR v6.txt", nil); res.Bytes != int64(len("over ::1\n")) {
				t.Errorf("RETR v6.txt over EPSV: %d bytes, want %d", res.Bytes, len("over ::1\n"))
			}
		})
	}
}
