package loadgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Threshold is one --fail-on condition: the run fails when it holds.
type Threshold struct {
	Expr   string
	Metric string
	Op     string
	Value  float64
}

var thresholdOps = []string{">=", "<=", "==", "!=", ">", "<"}

// ParseThresholds reads comma-separated conditions such as
// "errors>0, p99.pasv>50ms, throughput<500MB/s, capacity<1000".
//
// Metrics: errors, ok, ops, error_rate (0..1 or N%), rate (ops/s),
// throughput (bytes/s; units B/s kB/s MB/s GB/s KiB/s MiB/s GiB/s),
// bytes, pN[.PHASE] and max[.PHASE] / mean[.PHASE] (latency in ms;
// durations like 50ms or 1.5s accepted; PHASE one of connect greeting
// tls-handshake login pasv data-connect data-tls-handshake first-byte
// transfer final-reply command, or corrected for the coordinated-omission
// corrected operation latency), capacity, recovery (s), time_to_exhaust
// (s), out_of_range, address_mismatch, resumption (FTPS: the share of data
// handshakes that resumed, 0..1 or N%).
func ParseThresholds(s string) ([]Threshold, error) {
	var out []Threshold
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var t Threshold
		t.Expr = part
		for _, op := range thresholdOps {
			if i := strings.Index(part, op); i > 0 {
				t.Metric = strings.TrimSpace(part[:i])
				t.Op = op
				v, err := parseThresholdValue(t.Metric, strings.TrimSpace(part[i+len(op):]))
				if err != nil {
					return nil, fmt.Errorf("--fail-on %q: %v", part, err)
				}
				t.Value = v
				break
			}
		}
		if t.Op == "" {
			return nil, fmt.Errorf("--fail-on %q: want METRIC OP VALUE with OP one of > >= < <= == !=", part)
		}
		if _, err := metricValue(&Report{Phases: map[string]LatencyStats{}}, t.Metric); err != nil {
			return nil, fmt.Errorf("--fail-on %q: %v", part, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func parseThresholdValue(metric, v string) (float64, error) {
	switch {
	case metric == "throughput":
		return ParseRateBytes(v)
	case strings.HasSuffix(v, "%"):
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		return f / 100, err
	case isLatencyMetric(metric) || metric == "recovery" || metric == "time_to_exhaust":
		if d, err := time.ParseDuration(v); err == nil {
			if isLatencyMetric(metric) {
				return durMs(d), nil
			}
			return d.Seconds(), nil
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("bad value %q", v)
	}
	return f, nil
}

func isLatencyMetric(m string) bool {
	return (len(m) > 1 && m[0] == 'p' && m[1] >= '0' && m[1] <= '9') || strings.HasPrefix(m, "max") || strings.HasPrefix(m, "mean")
}

// ParseRateBytes reads "500MB/s", "1GiB/s", "1e6" (bytes per second).
func ParseRateBytes(s string) (float64, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/s")
	n, err := ParseSize(s)
	return float64(n), err
}

// ParseSize reads "100", "4KiB", "10MB", "1GiB", "1.5GB".
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suf string
		mul float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mul := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			s, mul = strings.TrimSuffix(s, u.suf), u.mul
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * mul), nil
}

// Check evaluates the threshold: broken is true when the condition holds.
func (t Threshold) Check(rep *Report) (broken bool, actual float64, err error) {
	actual, err = metricValue(rep, t.Metric)
	if err != nil {
		return false, 0, err
	}
	switch t.Op {
	case ">":
		broken = actual > t.Value
	case ">=":
		broken = actual >= t.Value
	case "<":
		broken = actual < t.Value
	case "<=":
		broken = actual <= t.Value
	case "==":
		broken = actual == t.Value
	case "!=":
		broken = actual != t.Value
	}
	return broken, actual, nil
}

func metricValue(rep *Report, m string) (float64, error) {
	switch m {
	case "errors":
		return float64(rep.Totals.Errors), nil
	case "ok":
		return float64(rep.Totals.OK), nil
	case "ops":
		return float64(rep.Totals.Count), nil
	case "error_rate":
		if rep.Totals.Count == 0 {
			return 0, nil
		}
		return float64(rep.Totals.Errors) / float64(rep.Totals.Count), nil
	case "rate":
		return rep.Totals.Rate, nil
	case "throughput":
		return rep.Totals.Throughput, nil
	case "bytes":
		return float64(rep.Totals.Bytes), nil
	case "out_of_range":
		return float64(rep.Ports.OutOfRange), nil
	case "address_mismatch":
		return float64(rep.Ports.AddrMismatch), nil
	case "resumption":
		if rep.TLS == nil {
			if rep.Schema == "" { // validation pass
				return 0, nil
			}
			return 0, fmt.Errorf("resumption: only an FTPS run (ftpes://, ftps://) measures it")
		}
		return rep.TLS.ResumptionRate, nil
	case "capacity", "recovery", "time_to_exhaust":
		ex := rep.Exhaust
		if ex == nil {
			if rep.Schema == "" { // validation pass
				return 0, nil
			}
			return 0, fmt.Errorf("%s: only the exhaust scenario measures it", m)
		}
		switch m {
		case "capacity":
			return float64(ex.Capacity), nil
		case "recovery":
			return ex.RecoveryTime, nil
		default:
			return ex.TimeToExhaust, nil
		}
	}
	if isLatencyMetric(m) {
		name, phase, _ := strings.Cut(m, ".")
		q := -1.0
		rest := ""
		if name[0] == 'p' {
			// pNN or pNN.N(.phase)
			num := name[1:]
			if phase != "" && phase[0] >= '0' && phase[0] <= '9' {
				d, p2, _ := strings.Cut(phase, ".")
				num += "." + d
				phase = p2
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f <= 0 || f > 100 {
				return 0, fmt.Errorf("bad percentile in %q", m)
			}
			q = f
		} else {
			rest = name
		}
		ls := rep.Latency
		switch {
		case phase == "" || phase == "operation":
		case phase == "corrected":
			ls = rep.LatencyCorrected
		default:
			if _, ok := ParsePhase(phase); !ok {
				return 0, fmt.Errorf("unknown phase %q in %q", phase, m)
			}
			ls = rep.Phases[phase]
		}
		switch {
		case q > 0:
			return ls.Quantile(q), nil
		case rest == "max":
			return ls.Max, nil
		case rest == "mean":
			return ls.Mean, nil
		}
	}
	return 0, fmt.Errorf("unknown metric %q", m)
}
