package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen/fakeftp"
	"github.com/ftpharness/ftpharness/target"
)

// A server that advertises another host in PASV must not turn the
// generator into a bounce amplifier: with --strict-address the cycle is
// an address-mismatch and nothing connects to that host, unless the user
// allowed remote data addresses.
func TestStrictAddressNeverDialsAnotherHost(t *testing.T) {
	for _, c := range []struct {
		name           string
		opts           []Option
		wantClass      ErrorClass
		wantStrays     bool
		wantMismatches bool // counted in the port statistics
	}{
		{"default: control peer, mismatch counted", nil, "", false, true},
		{"strict: address-mismatch, nothing dialled", []Option{WithStrictAddress(true)}, ClassAddrMismatch, false, true},
		{"strict with remote data: dialled", []Option{WithStrictAddress(true), WithRemoteData(true), WithCount(1)}, "", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := fakeftp.Start(fakeftp.Options{PasvHost: "127.77.88.99"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			opts := append([]Option{WithList(true), WithSessions(1), WithCount(10), WithDuration(10 * time.Second), WithTimeout(time.Second)}, c.opts...)
			a := NewAttacker(target.Config{Addr: s.Addr(), User: "u", Password: "p"}, opts...)
			ctx := context.Background()
			if err := a.Prepare(ctx, Churn); err != nil {
				t.Fatal(err)
			}
			m, rs := collect(t, a, ctx, Churn)
			rep := m.Report(a.Settings(Churn))
			var classes []string
			for _, r := range ops(rs, "list") {
				if r.Class != c.wantClass && !(c.wantStrays && r.Class != "") {
					classes = append(classes, string(r.Class)+": "+r.Err)
				}
			}
			if len(ops(rs, "list")) == 0 || len(classes) > 0 {
				t.Errorf("list results: want class %q, got %d results, others: %s", c.wantClass, len(ops(rs, "list")), strings.Join(classes, "; "))
			}
			if got := s.Strays(); (got > 0) != c.wantStrays {
				t.Errorf("%d connections to the advertised 127.77.88.99, want any: %v", got, c.wantStrays)
			}
			if (rep.Ports.AddrMismatch > 0) != c.wantMismatches {
				t.Errorf("ports: %d address mismatches", rep.Ports.AddrMismatch)
			}
			if n := rep.Ops["login"].Count; n != 1 {
				t.Errorf("%d logins: a mismatch should not cost the session", n)
			}
			if c.wantClass == ClassAddrMismatch && (len(rep.Errors) != 1 || rep.Errors[0].Class != ClassAddrMismatch || !strings.Contains(rep.Errors[0].FirstError, "127.77.88.99")) {
				t.Errorf("errors %+v", rep.Errors)
			}
		})
	}
}
