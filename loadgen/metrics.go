package loadgen

import (
	"crypto/tls"
	"sort"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: microseconds from 1 µs to 1 hour, 3 significant digits.
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histSigFig = 3
)

func newHist() *hdr.Histogram { return hdr.New(histMin, histMax, histSigFig) }

func recordDur(h *hdr.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < histMin {
		us = histMin
	}
	if us > histMax {
		us = histMax
	}
	_ = h.RecordValue(us)
}

// Metrics accumulates Results. Add them as they come, then Close once and
// read a Report from it. Safe for concurrent use.
type Metrics struct {
	mu sync.Mutex

	begin, first, last time.Time
	origin             time.Time // second 0 of the timeline
	align              bool      // origin on a whole wall-clock second
	closed             bool

	ops       map[string]*OpStats
	total     Totals
	latency   *hdr.Histogram // uncorrected, every operation except login
	corrected *hdr.Histogram // from the intended start
	phases    [NumPhases]*hdr.Histogram

	errors map[ErrorClass]*ErrorStats

	ports      [65536 / 64]uint64
	portStats  PortStats
	portCounts map[int]uint64 // advertisements per port: at most one entry per port

	tls TLSStats

	sessionBytes map[int]int64
	sessionSpan  map[int][2]time.Time

	timeline []Second

	exhaust *ExhaustSummary
}

// NewMetrics returns empty metrics. begin, if not zero, is the run's start:
// the per-second timeline counts from it (otherwise from the first result).
func NewMetrics(begin time.Time) *Metrics {
	m := &Metrics{
		begin:        begin,
		ops:          map[string]*OpStats{},
		latency:      newHist(),
		corrected:    newHist(),
		errors:       map[ErrorClass]*ErrorStats{},
		portCounts:   map[int]uint64{},
		sessionBytes: map[int]int64{},
		sessionSpan:  map[int][2]time.Time{},
	}
	for i := range m.phases {
		m.phases[i] = newHist()
	}
	m.setOrigin()
	return m
}

// AlignTimeline starts the per-second timeline on the whole wall-clock
// second the run began in (its second 0 is then partial), so that the
// timelines of shards run on different machines share their second
// boundaries and merge exactly. Call it before Add.
func (m *Metrics) AlignTimeline() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.align = true
	m.setOrigin()
}

func (m *Metrics) setOrigin() {
	m.origin = m.begin
	if m.align {
		m.origin = m.begin.Truncate(time.Second)
	}
}

// Add accounts one result.
func (m *Metrics) Add(r *Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.Exhaust != nil {
		m.exhaust = r.Exhaust
		return
	}
	if m.begin.IsZero() {
		m.begin = r.Start
		if !r.Intended.IsZero() && r.Intended.Before(m.begin) {
			m.begin = r.Intended
		}
		m.setOrigin()
	}
	if m.first.IsZero() || r.Start.Before(m.first) {
		m.first = r.Start
	}
	if r.End.After(m.last) {
		m.last = r.End
	}
	op := m.ops[r.Op]
	if op == nil {
		op = &OpStats{}
		m.ops[r.Op] = op
	}
	op.Count++
	m.total.Count++
	ok := r.OK()
	if ok {
		op.OK++
		m.total.OK++
	} else {
		op.Errors++
		m.total.Errors++
		e := m.errors[r.Class]
		if e == nil {
			e = &ErrorStats{Class: r.Class, ClientSide: r.Class.ClientSide(), First: r.End.Sub(m.begin).Seconds(),
				FirstError: r.Err, FirstReply: r.Reply, FirstPhase: r.FailedPhase.String(), Codes: map[int]uint64{}, Phases: map[string]uint64{}}
			m.errors[r.Class] = e
		}
		e.Count++
		if r.Code != 0 {
			e.Codes[r.Code]++
		}
		e.Phases[r.FailedPhase.String()]++
	}
	m.total.Bytes += r.Bytes
	op.Bytes += r.Bytes
	m.tls.add(r)
	if r.Op != "login" && r.Op != "hold" && r.Op != "recover" {
		recordDur(m.latency, r.Latency())
		recordDur(m.corrected, r.CorrectedLatency())
	}
	for p := Phase(0); p < NumPhases; p++ {
		if d, ok := r.PhaseDur(p); ok {
			recordDur(m.phases[p], d)
		}
	}
	if r.Port > 0 && r.Port < 65536 {
		ps := &m.portStats
		w, b := r.Port/64, uint(r.Port%64)
		if m.ports[w]&(1<<b) == 0 {
			m.ports[w] |= 1 << b
			ps.Distinct++
		}
		if len(m.portCounts) < maxPortCounts || m.portCounts[r.Port] > 0 {
			m.portCounts[r.Port]++
		}
		if ps.Seen == 0 || r.Port < ps.Min {
			ps.Min = r.Port
		}
		if r.Port > ps.Max {
			ps.Max = r.Port
		}
		ps.Seen++
		if r.OutOfRange {
			ps.OutOfRange++
		}
		if r.AddrMismatch {
			ps.AddrMismatch++
		}
	}
	if r.Bytes > 0 {
		m.sessionBytes[r.Session] += r.Bytes
		sp := m.sessionSpan[r.Session]
		if sp[0].IsZero() || r.Start.Before(sp[0]) {
			sp[0] = r.Start
		}
		if r.End.After(sp[1]) {
			sp[1] = r.End
		}
		m.sessionSpan[r.Session] = sp
	}
	// timeline, by completion second
	sec := int(r.End.Sub(m.origin) / time.Second)
	if sec < 0 {
		sec = 0
	}
	for len(m.timeline) <= sec {
		m.timeline = append(m.timeline, Second{Second: len(m.timeline)})
	}
	t := &m.timeline[sec]
	t.Ops++
	if !ok {
		t.Errors++
		if t.ErrorsByClass == nil {
			t.ErrorsByClass = map[ErrorClass]uint64{}
		}
		t.ErrorsByClass[r.Class]++
	}
	t.Bytes += r.Bytes
	lat := r.CorrectedLatency()
	t.latSum += lat
	if ms := durMs(lat); ms > t.MaxMs {
		t.MaxMs = ms
	}
	if r.Active > t.Active {
		t.Active = r.Active
	}
}

// Close finishes the accounting; Add must not be called afterwards.
func (m *Metrics) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
}

func durMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Totals are the whole run's counters.
type Totals struct {
	Count        uint64  `json:"count"`
	OK           uint64  `json:"ok"`
	Errors       uint64  `json:"errors"`
	SuccessRatio float64 `json:"success_ratio"`
	Rate         float64 `json:"rate_per_s"` // operations (logins excluded) per second
	Bytes        int64   `json:"bytes"`
	Throughput   float64 `json:"throughput_bytes_per_s"`
}

// OpStats counts one kind of operation.
type OpStats struct {
	Count  uint64 `json:"count"`
	OK     uint64 `json:"ok"`
	Errors uint64 `json:"errors"`
	Bytes  int64  `json:"bytes,omitempty"`
}

// ErrorStats is one error class: how often, when first, and what it said.
type ErrorStats struct {
	Class      ErrorClass        `json:"class"`
	ClientSide bool              `json:"client_side,omitempty"`
	Count      uint64            `json:"count"`
	First      float64           `json:"first_s"` // seconds from the run's start
	FirstPhase string            `json:"first_phase"`
	FirstError string            `json:"first_error"`
	FirstReply string            `json:"first_reply,omitempty"`
	Codes      map[int]uint64    `json:"codes,omitempty"`
	Phases     map[string]uint64 `json:"phases,omitempty"`
}

// maxPortCounts bounds PortStats.Counts; the port space bounds it anyway
// (ports are 1..65535), so the map never costs more than one entry per port,
// whatever the number of sessions.
const maxPortCounts = 65536

// PortStats describes the passive ports advertised.
type PortStats struct {
	Seen         uint64 `json:"seen"`
	Distinct     int    `json:"distinct"`
	Min          int    `json:"min,omitempty"`
	Max          int    `json:"max,omitempty"`
	OutOfRange   uint64 `json:"out_of_range"`
	AddrMismatch uint64 `json:"address_mismatch"`
	Range        string `json:"declared_range,omitempty"`
	// Counts is how many times each port was advertised (v1.1; nil in
	// v1.0 reports). Its values add up to Seen and it has Distinct keys.
	Counts map[int]uint64 `json:"counts,omitempty"`
}

// Second is one second of the timeline (by completion time).
type Second struct {
	Second int     `json:"second"`
	Ops    uint64  `json:"ops"`
	Errors uint64  `json:"errors"`
	Bytes  int64   `json:"bytes"`
	MeanMs float64 `json:"mean_ms"` // corrected latency
	MaxMs  float64 `json:"max_ms"`
	Active int     `json:"active"` // most sessions (exhaust: held listeners) seen
	// ErrorsByClass splits Errors by class (v1.1; nil in v1.0 reports and
	// in seconds without errors). Its values add up to Errors.
	ErrorsByClass map[ErrorClass]uint64 `json:"errors_by_class,omitempty"`

	latSum time.Duration
}

// LatencyStats summarises one histogram, in milliseconds.
type LatencyStats struct {
	Count  int64   `json:"count"`
	Min    float64 `json:"min_ms"`
	Mean   float64 `json:"mean_ms"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P95    float64 `json:"p95_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p99_9_ms"`
	P9999  float64 `json:"p99_99_ms"`
	Max    float64 `json:"max_ms"`
	HDR    string  `json:"hdr,omitempty"` // HdrHistogram V2 base64, values in µs
	hidden bool
}

func usMs(v int64) float64 { return float64(v) / 1000 }

func summarize(h *hdr.Histogram) LatencyStats {
	if h.TotalCount() == 0 {
		return LatencyStats{}
	}
	s := LatencyStats{
		Count: h.TotalCount(),
		Min:   usMs(h.Min()),
		Mean:  h.Mean() / 1000,
		P50:   usMs(h.ValueAtQuantile(50)),
		P90:   usMs(h.ValueAtQuantile(90)),
		P95:   usMs(h.ValueAtQuantile(95)),
		P99:   usMs(h.ValueAtQuantile(99)),
		P999:  usMs(h.ValueAtQuantile(99.9)),
		P9999: usMs(h.ValueAtQuantile(99.99)),
		Max:   usMs(h.Max()),
	}
	if b, err := h.Encode(hdr.V2CompressedEncodingCookieBase); err == nil {
		s.HDR = string(b)
	}
	return s
}

// Quantile returns the p-th percentile (0..100) of the stats' histogram
// when it was kept, else the nearest summarised value.
func (s LatencyStats) Quantile(p float64) float64 {
	switch p {
	case 50:
		return s.P50
	case 90:
		return s.P90
	case 95:
		return s.P95
	case 99:
		return s.P99
	case 99.9:
		return s.P999
	case 99.99:
		return s.P9999
	case 100:
		return s.Max
	}
	if s.HDR != "" {
		if h, err := hdr.Decode([]byte(s.HDR)); err == nil {
			return usMs(h.ValueAtQuantile(p))
		}
	}
	return s.Max
}

// Report builds the report of what was added so far. settings and banner
// describe the run.
func (m *Metrics) Report(settings Settings) *Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	rep := &Report{
		Schema:           SchemaVersion,
		Tool:             "ftpload",
		Settings:         settings,
		Ops:              map[string]OpStats{},
		Latency:          summarize(m.latency),
		LatencyCorrected: summarize(m.corrected),
		Phases:           map[string]LatencyStats{},
		Ports:            m.portStats,
		Exhaust:          m.exhaust,
	}
	rep.Ports.Range = settings.PasvRange
	if settings.TLS != nil || m.tls.DataHandshakes > 0 {
		ts := m.tls
		ts.finish()
		rep.TLS = &ts
	}
	if len(m.portCounts) > 0 {
		rep.Ports.Counts = make(map[int]uint64, len(m.portCounts))
		for p, n := range m.portCounts {
			rep.Ports.Counts[p] = n
		}
	}
	if !m.first.IsZero() {
		rep.Start = m.begin
		rep.End = m.last
		rep.TimelineStart = m.origin
		rep.Duration = m.last.Sub(m.begin).Seconds()
	}
	var opsNoLogin uint64
	for k, v := range m.ops {
		rep.Ops[k] = *v
		if k != "login" && k != "recover" {
			opsNoLogin += v.Count
		}
	}
	rep.Totals = m.total
	if rep.Totals.Count > 0 {
		rep.Totals.SuccessRatio = float64(m.total.OK) / float64(m.total.Count)
	}
	if rep.Duration > 0 {
		rep.Totals.Rate = float64(opsNoLogin) / rep.Duration
		rep.Totals.Throughput = float64(m.total.Bytes) / rep.Duration
	}
	for p := Phase(0); p < NumPhases; p++ {
		if m.phases[p].TotalCount() > 0 {
			rep.Phases[p.String()] = summarize(m.phases[p])
		}
	}
	for _, e := range m.errors {
		c := *e
		rep.Errors = append(rep.Errors, c)
	}
	sort.Slice(rep.Errors, func(i, j int) bool {
		if rep.Errors[i].Count != rep.Errors[j].Count {
			return rep.Errors[i].Count > rep.Errors[j].Count
		}
		return rep.Errors[i].Class < rep.Errors[j].Class
	})
	// per-session throughput: bytes over the session's transfer span
	if n := len(m.sessionBytes); n > 0 {
		ss := SessionStats{Sessions: n}
		var sum float64
		first := true
		for s, b := range m.sessionBytes {
			sp := m.sessionSpan[s]
			d := sp[1].Sub(sp[0]).Seconds()
			if d <= 0 {
				continue
			}
			bps := float64(b) / d
			sum += bps
			if first || bps < ss.MinBps {
				ss.MinBps = bps
			}
			if bps > ss.MaxBps {
				ss.MaxBps = bps
			}
			first = false
		}
		ss.MeanBps = sum / float64(n)
		rep.PerSession = &ss
	}
	rep.Timeline = make([]Second, len(m.timeline))
	for i, t := range m.timeline {
		if t.Ops > 0 {
			t.MeanMs = durMs(t.latSum / time.Duration(t.Ops))
		}
		if t.ErrorsByClass != nil {
			byClass := make(map[ErrorClass]uint64, len(t.ErrorsByClass))
			for c, n := range t.ErrorsByClass {
				byClass[c] = n
			}
			t.ErrorsByClass = byClass
		}
		rep.Timeline[i] = t
	}
	return rep
}

// TLSStats counts the TLS handshakes of data connections (FTPS runs; the
// handshake latencies are the phases tls-handshake and
// data-tls-handshake).
type TLSStats struct {
	DataHandshakes uint64  `json:"data_handshakes"` // completed
	Resumed        uint64  `json:"resumed"`         // of them, resumed a session (DidResume)
	ResumptionRate float64 `json:"resumption_rate"` // Resumed / DataHandshakes (0..1)
	// Suites counts them by protocol version and cipher suite ("TLS 1.3
	// TLS_AES_128_GCM_SHA256"): another client's figures on the same
	// server compare only under the same suite.
	Suites map[string]uint64 `json:"suites,omitempty"`
	suites map[uint32]uint64 // version<<16 | suite, named by finish
}

func (s *TLSStats) add(r *Result) {
	if r.DataTLS {
		s.DataHandshakes++
		if r.Resumed {
			s.Resumed++
		}
		if s.suites == nil {
			s.suites = map[uint32]uint64{}
		}
		s.suites[uint32(r.TLSVersion)<<16|uint32(r.TLSSuite)]++
	}
}

func (s *TLSStats) finish() {
	s.ResumptionRate = 0
	if s.DataHandshakes > 0 {
		s.ResumptionRate = float64(s.Resumed) / float64(s.DataHandshakes)
	}
	if len(s.suites) > 0 {
		s.Suites = make(map[string]uint64, len(s.suites))
		for k, n := range s.suites {
			s.Suites[tls.VersionName(uint16(k>>16))+" "+tls.CipherSuiteName(uint16(k))] += n
		}
	}
}

// SessionStats is per-session throughput (sessions that moved data).
type SessionStats struct {
	Sessions int     `json:"sessions"`
	MinBps   float64 `json:"min_bytes_per_s"`
	MeanBps  float64 `json:"mean_bytes_per_s"`
	MaxBps   float64 `json:"max_bytes_per_s"`
}
