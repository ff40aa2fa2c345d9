package htmlreport

import (
	"fmt"
	"strconv"

	"github.com/ftpharness/ftpharness/loadgen"
)

func exhaustRows(runs []Run) []settingRow {
	has := false
	for _, r := range runs {
		has = has || r.Report.Exhaust != nil
	}
	if !has {
		return nil
	}
	get := func(f func(*loadgen.ExhaustSummary) string) []string {
		var out []string
		for _, r := range runs {
			if r.Report.Exhaust == nil {
				out = append(out, "")
				continue
			}
			out = append(out, f(r.Report.Exhaust))
		}
		return out
	}
	rows := []settingRow{
		{"capacity", get(func(e *loadgen.ExhaustSummary) string {
			s := strconv.Itoa(e.Capacity)
			if !e.CapacityReached {
				s = "≥ " + s + " (not reached: stopped by " + e.StoppedBy + ")"
			}
			if e.RangeSize > 0 {
				s += fmt.Sprintf(" of %d declared (%s)", e.RangeSize, e.DeclaredRange)
			}
			return s
		})},
		{"busy before the run", get(func(e *loadgen.ExhaustSummary) string {
			if e.BusyBefore < 0 {
				return "unknown"
			}
			return strconv.Itoa(e.BusyBefore)
		})},
		{"failure mode", get(func(e *loadgen.ExhaustSummary) string {
			s := e.FailureMode
			if e.FailurePhase != "" {
				s += " at " + e.FailurePhase
			}
			return s
		})},
		{"failure reply", get(func(e *loadgen.ExhaustSummary) string {
			if e.FailureReply != "" {
				return e.FailureReply
			}
			return e.FailureError
		})},
		{"failing session survives", get(func(e *loadgen.ExhaustSummary) string {
			if e.SessionSurvive == nil {
				return ""
			}
			s := "no, the session died"
			if *e.SessionSurvive {
				s = "yes"
			}
			if e.SurviveReply != "" {
				s += " (NOOP: " + e.SurviveReply + ")"
			}
			return s
		})},
		{"held sessions alive", get(func(e *loadgen.ExhaustSummary) string {
			if e.HeldChecked == 0 {
				return ""
			}
			return fmt.Sprintf("%d of %d", e.HeldAlive, e.HeldChecked)
		})},
		{"time to exhaust", get(func(e *loadgen.ExhaustSummary) string {
			return fmt.Sprintf("%s (%d sessions started)", secs(e.TimeToExhaust), e.Attempts)
		})},
		{"recovery", get(func(e *loadgen.ExhaustSummary) string {
			if e.Recovered {
				return fmt.Sprintf("%s after release (%d probes)", secs(e.RecoveryTime), e.RecoveryAttempts)
			}
			return fmt.Sprintf("not recovered (%d probes; last: %s)", e.RecoveryAttempts, e.RecoveryLast)
		})},
		{"client limit", get(func(e *loadgen.ExhaustSummary) string { return e.ClientLimit })},
	}
	var out []settingRow
	for _, r := range rows {
		for _, v := range r.Values {
			if v != "" {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
