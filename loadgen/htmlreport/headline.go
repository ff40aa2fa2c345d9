package htmlreport

import (
	"fmt"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
)

// Headline is the one sentence that answers the run's question: the pool's
// capacity and what happened next for exhaust, throughput and latency for
// the other scenarios.
func Headline(r *loadgen.Report) string {
	if ex := r.Exhaust; ex != nil {
		return exhaustHeadline(r, ex)
	}
	s := r.Settings
	var b strings.Builder
	sess := plural(s.Sessions, "session")
	loop := "closed loop"
	if s.Model == "open" {
		loop = fmt.Sprintf("open loop at %s/s", num(s.Rate))
	}
	switch s.Scenario {
	case loadgen.Churn:
		what := "RETR"
		if s.Size > 0 {
			what = fmt.Sprintf("RETR of %s", bytesStr(float64(s.Size)))
		}
		if _, ok := r.Ops["list"]; ok {
			what = "LIST"
		}
		fmt.Fprintf(&b, "%s passive cycles/s (PASV, data connect, %s, 226) over %s for %s, %s", num(r.Totals.Rate), what, sess, secs(r.Duration), loop)
	case loadgen.Retr, loadgen.Stor:
		fmt.Fprintf(&b, "%s moved %s at %s/s over %s for %s", s.Scenario, bytesStr(float64(r.Totals.Bytes)), bytesStr(r.Totals.Throughput), sess, secs(r.Duration))
		if ps := r.PerSession; ps != nil && ps.Sessions > 1 {
			fmt.Fprintf(&b, " (per session %s–%s/s)", bytesStr(ps.MinBps), bytesStr(ps.MaxBps))
		}
		fmt.Fprintf(&b, ", %s", loop)
	default:
		fmt.Fprintf(&b, "%s: %s operations/s over %s for %s, %s", s.Scenario, num(r.Totals.Rate), sess, secs(r.Duration), loop)
	}
	if r.Latency.Count > 0 {
		fmt.Fprintf(&b, "; p99 %s", ms(r.Latency.P99))
		if s.Model == "open" && r.LatencyCorrected.Count > 0 {
			fmt.Fprintf(&b, " (%s corrected for coordinated omission)", ms(r.LatencyCorrected.P99))
		}
	}
	b.WriteString("; ")
	b.WriteString(errorsPhrase(r))
	if r.Interrupted {
		b.WriteString(" (interrupted)")
	}
	return b.String()
}

func exhaustHeadline(r *loadgen.Report, ex *loadgen.ExhaustSummary) string {
	var b strings.Builder
	if ex.RangeSize > 0 {
		fmt.Fprintf(&b, "pool of %s", plural(ex.RangeSize, "port"))
		if ex.BusyBefore > 0 {
			fmt.Fprintf(&b, " (%d already busy)", ex.BusyBefore)
		}
		b.WriteString(" held ")
	} else {
		b.WriteString("the server held ")
	}
	if !ex.CapacityReached {
		fmt.Fprintf(&b, "at least %s; not exhausted: stopped by %s after %s", plural(ex.Capacity, "session"), ex.StoppedBy, secs(ex.TimeToExhaust))
		if ex.ClientLimit != "" {
			fmt.Fprintf(&b, " (a limit of this machine: %s)", ex.ClientLimit)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s; the %s ", plural(ex.Capacity, "session"), ordinal(ex.Capacity+1))
	switch ex.FailureMode {
	case "reply-4xx", "reply-5xx":
		if ex.FailureCode != 0 {
			fmt.Fprintf(&b, "got %d", ex.FailureCode)
		} else {
			fmt.Fprintf(&b, "got a %s reply", strings.TrimPrefix(ex.FailureMode, "reply-"))
		}
		if ex.FailurePhase != "" && ex.FailurePhase != "pasv" {
			fmt.Fprintf(&b, " at %s", ex.FailurePhase)
		}
	case "out-of-range":
		if ex.FailurePort != 0 {
			fmt.Fprintf(&b, "got port %d, outside %s", ex.FailurePort, ex.DeclaredRange)
		} else {
			b.WriteString("got a port outside the range")
		}
	case "session-dropped":
		b.WriteString("was dropped")
	case "timeout":
		b.WriteString("timed out")
	case "address-mismatch":
		b.WriteString("was sent to another address")
	default:
		b.WriteString("failed (" + ex.FailureMode + ")")
	}
	fmt.Fprintf(&b, " after %s; ", secs(ex.TimeToExhaust))
	if ex.Recovered {
		fmt.Fprintf(&b, "recovered in %s", secs(ex.RecoveryTime))
	} else {
		b.WriteString("did not recover")
		if ex.RecoveryLast != "" {
			fmt.Fprintf(&b, " (last probe: %s)", ex.RecoveryLast)
		}
	}
	if ex.HeldChecked > 0 && ex.HeldAlive < ex.HeldChecked {
		fmt.Fprintf(&b, "; only %d of %d held sessions survived", ex.HeldAlive, ex.HeldChecked)
	}
	return b.String()
}

func errorsPhrase(r *loadgen.Report) string {
	if r.Totals.Errors == 0 {
		return "no errors"
	}
	var parts []string
	for _, e := range r.Errors {
		parts = append(parts, fmt.Sprintf("%s ×%s", e.Class, num(float64(e.Count))))
	}
	return fmt.Sprintf("%s (%s)", plural(int(r.Totals.Errors), "error"), strings.Join(parts, ", "))
}
