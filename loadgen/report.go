package loadgen

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// SchemaVersion names the JSON report format. Readers accept any
// "ftpload.report/v1.*"; a change that breaks readers bumps the major.
//
// v1.1 added ports.counts (advertisements per port) and
// timeline[].errors_by_class; v1.0 reports lack them and still read.
// v1.2 added timeline_start (the wall-clock instant of timeline second 0),
// settings.shard and settings.seed (a sharded run) and merged (a report
// made by ftpload merge from shard reports); the latency histograms
// (latency.hdr, phases.*.hdr) were there from v1.0.
// v1.3 added FTPS: settings.tls (mode, resumption, verification), tls
// (data handshakes and how many resumed), the phases tls-handshake and
// data-tls-handshake and the error classes tls-handshake,
// tls-reuse-required and tls-cleartext (all only in FTPS runs); tls.suites
// (handshakes per version and cipher suite) came later in v1.3 and is
// absent from earlier v1.3 reports.
const SchemaVersion = "ftpload.report/v1.3"

// Report is a run, summarised: what ftpload --json writes and
// ftpload report reads back.
type Report struct {
	Schema   string   `json:"schema"`
	Tool     string   `json:"tool"`
	Settings Settings `json:"settings"`

	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration float64   `json:"duration_s"`
	// TimelineStart is when timeline second 0 begins (v1.2): Start, or
	// for a sharded run the whole wall-clock second Start falls in.
	TimelineStart time.Time `json:"timeline_start,omitzero"`

	Totals           Totals                  `json:"totals"`
	Ops              map[string]OpStats      `json:"ops"`
	Latency          LatencyStats            `json:"latency"`           // End - Start
	LatencyCorrected LatencyStats            `json:"latency_corrected"` // End - intended start
	Phases           map[string]LatencyStats `json:"phases"`
	Errors           []ErrorStats            `json:"errors"`
	Ports            PortStats               `json:"ports"`
	PerSession       *SessionStats           `json:"per_session,omitempty"`
	TLS              *TLSStats               `json:"tls,omitempty"` // FTPS runs (v1.3)
	Exhaust          *ExhaustSummary         `json:"exhaust,omitempty"`
	Timeline         []Second                `json:"timeline"`
	Interrupted      bool                    `json:"interrupted,omitempty"`
	// Merged says the report was made by ftpload merge (v1.2).
	Merged *MergeInfo `json:"merged,omitempty"`
}

// Settings describe the run.
type Settings struct {
	Scenario  string   `json:"scenario"`
	Target    string   `json:"target"` // host:port
	User      string   `json:"user"`
	Server    string   `json:"server,omitempty"` // the server ftpload started (no --target), e.g. "ftpserverlib v0.32.3", "vsftpd"
	Banner    string   `json:"banner,omitempty"`
	PasvRange string   `json:"pasv_range,omitempty"`
	EPSV      bool     `json:"epsv"`
	Model     string   `json:"model"` // "closed" or "open"
	Sessions  int      `json:"sessions"`
	Rate      float64  `json:"rate_per_s,omitempty"`
	Duration  float64  `json:"duration_s"`
	Count     int      `json:"count,omitempty"`
	Size      int64    `json:"size,omitempty"`
	File      string   `json:"file,omitempty"`
	Sources   []string `json:"sources,omitempty"`
	Mix       string   `json:"mix,omitempty"`
	Think     float64  `json:"think_s,omitempty"`
	Timeout   float64  `json:"timeout_s"`
	Command   string   `json:"command,omitempty"`
	// Shard is this run's part of a sharded run (v1.2; nil when not
	// sharded). Sessions, Rate, Count and Sources are then the shard's
	// share; a merged report has the totals and no Shard.
	Shard *Shard `json:"shard,omitempty"`
	// Seed seeded the random choices (v1.2; nil: seeded from the clock).
	Seed *uint64 `json:"seed,omitempty"`
	// TLS is the run's FTPS configuration (v1.3; nil: plain FTP).
	TLS *TLSSettings `json:"tls,omitempty"`
}

// ExhaustSummary is what the exhaust scenario found.
type ExhaustSummary struct {
	DeclaredRange string `json:"declared_range,omitempty"`
	RangeSize     int    `json:"range_size,omitempty"`
	// Capacity is the number of passive listeners held in range when the
	// server first refused or misbehaved. When CapacityReached is false the
	// run stopped first (cap, duration, client limit) and Capacity is only
	// a lower bound.
	Capacity        int    `json:"capacity"`
	CapacityReached bool   `json:"capacity_reached"`
	StoppedBy       string `json:"stopped_by"`
	// BusyBefore counts ports of the declared range some socket on this
	// machine was already listening on before the ramp (-1: unknown or not
	// a local target): they lower the capacity without being the server's.
	BusyBefore  int `json:"busy_before"` // failure, max-sessions, duration, client-limit, canceled
	MaxSessions int `json:"max_sessions"`
	Attempts    int `json:"attempts"`

	// FailureMode is one of reply-4xx, reply-5xx, out-of-range,
	// session-dropped, timeout, address-mismatch; "none" if never reached.
	FailureMode    string `json:"failure_mode"`
	FailurePhase   string `json:"failure_phase,omitempty"`
	FailureCode    int    `json:"failure_code,omitempty"`
	FailureReply   string `json:"failure_reply,omitempty"`
	FailureError   string `json:"failure_error,omitempty"`
	FailurePort    int    `json:"failure_port,omitempty"`
	SessionSurvive *bool  `json:"session_survives,omitempty"` // the failing session still answers NOOP
	SurviveReply   string `json:"session_survives_reply,omitempty"`
	HeldChecked    int    `json:"held_checked"`
	HeldAlive      int    `json:"held_alive"` // held sessions answering NOOP after the failure

	TimeToExhaust float64 `json:"time_to_exhaust_s"`

	Recovered        bool    `json:"recovered"`
	RecoveryTime     float64 `json:"recovery_s"` // release of all sessions to the first in-range PASV
	RecoveryAttempts int     `json:"recovery_attempts"`
	RecoveryLast     string  `json:"recovery_last,omitempty"` // last probe outcome when not recovered

	ClientLimit string `json:"client_limit,omitempty"` // a client-side limit met during the ramp
	Banner      string `json:"banner,omitempty"`
}

// Reporter writes a report somewhere.
type Reporter func(io.Writer) error

// ReadReport reads a JSON report and checks its schema.
func ReadReport(r io.Reader) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if !strings.HasPrefix(rep.Schema, "ftpload.report/v1.") {
		return nil, fmt.Errorf("report: unsupported schema %q (want ftpload.report/v1.*)", rep.Schema)
	}
	return &rep, nil
}

// NewJSONReporter writes rep as indented JSON.
func NewJSONReporter(rep *Report) Reporter {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
}

// NewCSVReporter writes the per-second timeline as CSV.
func NewCSVReporter(rep *Report) Reporter {
	return func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"second", "ops", "errors", "bytes", "mean_ms", "max_ms", "active"})
		for _, s := range rep.Timeline {
			cw.Write([]string{
				strconv.Itoa(s.Second),
				strconv.FormatUint(s.Ops, 10),
				strconv.FormatUint(s.Errors, 10),
				strconv.FormatInt(s.Bytes, 10),
				strconv.FormatFloat(s.MeanMs, 'f', 3, 64),
				strconv.FormatFloat(s.MaxMs, 'f', 3, 64),
				strconv.Itoa(s.Active),
			})
		}
		cw.Flush()
		return cw.Error()
	}
}

// NewTextReporter renders rep for people.
func NewTextReporter(rep *Report) Reporter {
	return func(w io.Writer) error {
		t := &textReport{w: w, tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0), rep: rep}
		t.settings()
		t.totals()
		t.latency()
		t.ports()
		t.exhaustSummary()
		t.errorClasses()
		return nil
	}
}

// textReport writes one report as text: sections of aligned columns (tw,
// flushed after each) separated by blank lines written to w.
type textReport struct {
	w   io.Writer
	tw  *tabwriter.Writer
	rep *Report
}

// settings writes what was run against what: scenario, target, shard or
// merge, banner, range, sources and duration (aligned with the totals).
func (t *textReport) settings() {
	tw, rep := t.tw, t.rep
	s := rep.Settings
	fmt.Fprintf(tw, "Scenario\t%s (%s loop", s.Scenario, s.Model)
	if s.Model == "open" {
		fmt.Fprintf(tw, ", %.6g/s", s.Rate)
	}
	fmt.Fprintf(tw, ", %d sessions", s.Sessions)
	if s.EPSV {
		fmt.Fprint(tw, ", EPSV")
	} else {
		fmt.Fprint(tw, ", PASV")
	}
	fmt.Fprintln(tw, ")")
	target := s.Target
	if s.Server != "" {
		target += " (" + serverKind(s.Server) + ")"
	}
	// every string below may come from a server (a banner, a reply)
	// or a saved report: TermSafe keeps escape sequences off the terminal
	fmt.Fprintf(tw, "Target\t%s as %s\n", TermSafe(target), TermSafe(s.User))
	if s.Shard != nil {
		fmt.Fprintf(tw, "Shard\t%s (this run's share of a sharded run; ftpload merge combines the shards)\n", s.Shard)
	}
	if mi := rep.Merged; mi != nil {
		fmt.Fprintf(tw, "Merged\t%s\n", mi)
	}
	if s.Banner != "" {
		fmt.Fprintf(tw, "Banner\t%s\n", TermSafe(s.Banner))
	}
	if s.TLS != nil {
		fmt.Fprintf(tw, "TLS\t%s\n", TermSafe(s.TLS.String()))
	}
	if s.PasvRange != "" {
		fmt.Fprintf(tw, "Passive range\t%s\n", s.PasvRange)
	}
	if len(s.Sources) > 0 {
		fmt.Fprintf(tw, "Sources\t%s\n", TermSafe(strings.Join(s.Sources, " ")))
	}
	fmt.Fprintf(tw, "Duration\t%.3fs", rep.Duration)
	if rep.Interrupted {
		fmt.Fprint(tw, " (interrupted)")
	}
	fmt.Fprintln(tw)
}

// totals writes the operation counts, rate, bytes and the count of each
// operation, then flushes the first section.
func (t *textReport) totals() {
	tw, rep := t.tw, t.rep
	tot := rep.Totals
	fmt.Fprintf(tw, "Operations\ttotal %d, ok %d, errors %d, success %.2f%%\n", tot.Count, tot.OK, tot.Errors, 100*tot.SuccessRatio)
	fmt.Fprintf(tw, "Rate\t%.1f ops/s (logins excluded)\n", tot.Rate)
	if tot.Bytes > 0 {
		fmt.Fprintf(tw, "Bytes\t%d (%.1f MB/s aggregate)\n", tot.Bytes, tot.Throughput/1e6)
		if ps := rep.PerSession; ps != nil {
			fmt.Fprintf(tw, "Per session\t%d sessions, min %.1f, mean %.1f, max %.1f MB/s\n", ps.Sessions, ps.MinBps/1e6, ps.MeanBps/1e6, ps.MaxBps/1e6)
		}
	}
	if ts := rep.TLS; ts != nil && ts.DataHandshakes > 0 {
		fmt.Fprintf(tw, "TLS data\t%d handshakes, %d resumed the control session (%.1f%%)%s\n", ts.DataHandshakes, ts.Resumed, 100*ts.ResumptionRate, suiteList(ts.Suites))
	}
	var names []string
	for k := range rep.Ops {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		o := rep.Ops[k]
		fmt.Fprintf(tw, "  %s\t%d (ok %d, errors %d)\n", k, o.Count, o.OK, o.Errors)
	}
	tw.Flush()
}

// latency writes the latency percentiles: of the operations, corrected
// (open model) and of each phase.
func (t *textReport) latency() {
	tw, rep := t.tw, t.rep
	fmt.Fprintln(t.w)
	fmt.Fprintln(tw, "Latency (ms)\tcount\tp50\tp90\tp99\tp99.9\tp99.99\tmax")
	row := func(name string, l LatencyStats) {
		if l.Count == 0 {
			return
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", name, l.Count, l.P50, l.P90, l.P99, l.P999, l.P9999, l.Max)
	}
	row("operation", rep.Latency)
	if rep.Settings.Model == "open" {
		row("  corrected", rep.LatencyCorrected)
	}
	for p := Phase(0); p < NumPhases; p++ {
		row("  "+p.String(), rep.Phases[p.String()])
	}
	tw.Flush()
}

// ports writes the passive-port advertisements, if any were seen.
func (t *textReport) ports() {
	tw := t.tw
	pst := t.rep.Ports
	if pst.Seen == 0 {
		return
	}
	fmt.Fprintln(t.w)
	fmt.Fprintf(tw, "Passive ports\t%d advertised, %d distinct, %d-%d", pst.Seen, pst.Distinct, pst.Min, pst.Max)
	if pst.Range != "" {
		fmt.Fprintf(tw, ", %d outside %s", pst.OutOfRange, pst.Range)
	}
	fmt.Fprintf(tw, ", %d address mismatches\n", pst.AddrMismatch)
	tw.Flush()
}

// exhaustSummary writes the exhaust summary, if the scenario was exhaust.
func (t *textReport) exhaustSummary() {
	tw := t.tw
	ex := t.rep.Exhaust
	if ex == nil {
		return
	}
	fmt.Fprintln(t.w)
	fmt.Fprintf(tw, "Capacity\t%s\n", capacityText(ex))
	if ex.BusyBefore > 0 {
		fmt.Fprintf(tw, "Busy before the run\t%d ports of the range were already listening (other sockets)\n", ex.BusyBefore)
	}
	fmt.Fprintf(tw, "Failure mode\t%s", ex.FailureMode)
	if ex.FailurePhase != "" {
		fmt.Fprintf(tw, " at %s", ex.FailurePhase)
	}
	fmt.Fprintln(tw)
	if ex.FailureReply != "" {
		fmt.Fprintf(tw, "Failure reply\t%s\n", TermSafe(ex.FailureReply))
	} else if ex.FailureError != "" {
		fmt.Fprintf(tw, "Failure\t%s\n", TermSafe(ex.FailureError))
	}
	if ex.FailurePort != 0 {
		fmt.Fprintf(tw, "Failure port\t%d\n", ex.FailurePort)
	}
	if ex.SessionSurvive != nil {
		fmt.Fprintf(tw, "Session survives\t%s\n", TermSafe(surviveText(ex)))
	}
	if ex.HeldChecked > 0 {
		fmt.Fprintf(tw, "Held sessions alive\t%d of %d\n", ex.HeldAlive, ex.HeldChecked)
	}
	fmt.Fprintf(tw, "Time to exhaust\t%.3fs (%d sessions started)\n", ex.TimeToExhaust, ex.Attempts)
	if ex.Recovered {
		fmt.Fprintf(tw, "Recovery\t%.3fs after release (%d probes)\n", ex.RecoveryTime, ex.RecoveryAttempts)
	} else {
		fmt.Fprintf(tw, "Recovery\tnot recovered (%d probes; last: %s)\n", ex.RecoveryAttempts, TermSafe(ex.RecoveryLast))
	}
	if ex.ClientLimit != "" {
		fmt.Fprintf(tw, "Client limit\t%s (a limit of this machine, not the server's)\n", TermSafe(ex.ClientLimit))
	}
	tw.Flush()
}

// capacityText is the exhaust capacity, a lower bound when not reached,
// with the declared range.
func capacityText(ex *ExhaustSummary) string {
	cap := strconv.Itoa(ex.Capacity)
	if !ex.CapacityReached {
		cap = "≥ " + cap + " (not reached: stopped by " + ex.StoppedBy + ")"
	}
	if ex.DeclaredRange != "" {
		cap += fmt.Sprintf(" of %d declared (%s)", ex.RangeSize, ex.DeclaredRange)
	}
	return cap
}

// surviveText says whether the failing session survived, with its NOOP
// reply; ex.SessionSurvive is set.
func surviveText(ex *ExhaustSummary) string {
	v := "no, the session died"
	if *ex.SessionSurvive {
		v = "yes"
	}
	if ex.SurviveReply != "" {
		v += " (NOOP: " + ex.SurviveReply + ")"
	}
	return v
}

// errorClasses writes the error classes with their first occurrence and example.
func (t *textReport) errorClasses() {
	tw, rep := t.tw, t.rep
	if len(rep.Errors) == 0 {
		return
	}
	fmt.Fprintln(t.w)
	fmt.Fprintln(tw, "Errors\tcount\tfirst\tphase\texample")
	for _, e := range rep.Errors {
		ex := e.FirstReply
		if ex == "" {
			ex = e.FirstError
		}
		cls := string(e.Class)
		if e.ClientSide {
			cls += " (client)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3fs\t%s\t%s\n", TermSafe(cls), e.Count, e.First, TermSafe(e.FirstPhase), TermSafe(truncate(ex, 100)))
	}
	tw.Flush()
}

// serverKind says what the server ftpload started was: one running in
// its own process (ftpserverlib, goftp, the sink) is embedded; a daemon
// (vsftpd, proftpd, ...) is not.
func serverKind(server string) string {
	name, _, _ := strings.Cut(server, " ")
	switch name {
	case "ftpserverlib", "goftp", "sink":
		return "embedded " + server
	}
	return server + ", started by ftpload"
}

// suiteList is the data handshakes' version and cipher suite for the
// text report: ", TLS 1.3 TLS_AES_128_GCM_SHA256" (counts when several).
func suiteList(s map[string]uint64) string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) == 1 {
		return ", " + names[0]
	}
	for i, k := range names {
		names[i] = fmt.Sprintf("%s (%d)", k, s[k])
	}
	return strings.Join(append([]string{""}, names...), ", ")
}
