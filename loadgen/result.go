package loadgen

import (
	"time"
)

// Phase is one timed step of an FTP exchange.
type Phase int

// Phases, in the order an exchange goes through them.
const (
	PhaseConnect          Phase = iota // TCP connect of the control connection
	PhaseGreeting                      // connect to the 220 greeting
	PhaseTLSHandshake                  // FTPS: AUTH TLS to the end of the control TLS handshake (implicit: the handshake, before the greeting)
	PhaseLogin                         // USER/PASS to 230 (FTPS: and PBSZ/PROT P), TYPE I
	PhasePasv                          // PASV/EPSV to 227/229
	PhaseDataConnect                   // TCP connect of the data connection
	PhaseDataTLSHandshake              // PROT P: the data connection's TLS handshake (after the 150)
	PhaseFirstByte                     // RETR/LIST sent to the first data byte, the data handshake excluded (STOR: to the 150)
	PhaseTransfer                      // first byte to data EOF (STOR: data written and closed)
	PhaseFinalReply                    // data EOF to the 226
	PhaseCommand                       // a command without data (CWD, PWD, NOOP)
	NumPhases
)

var phaseNames = [NumPhases]string{"connect", "greeting", "tls-handshake", "login", "pasv", "data-connect", "data-tls-handshake", "first-byte", "transfer", "final-reply", "command"}

func (p Phase) String() string {
	if p >= 0 && p < NumPhases {
		return phaseNames[p]
	}
	return "none"
}

// ParsePhase reads a phase name.
func ParsePhase(s string) (Phase, bool) {
	for i, n := range phaseNames {
		if n == s {
			return Phase(i), true
		}
	}
	return -1, false
}

// Result is one operation of a scenario: a login, a passive cycle, a
// transfer, a command, a held passive listener. FTP failures are results:
// they carry their class, the reply and the phase they happened in.
type Result struct {
	Op      string // "login", "cycle", "retr", "stor", "list", "cwd", "pwd", "noop", "hold", "recover"
	Session int    // session index (0-based)
	Source  string // local source address of the session

	// Intended is when the operation should have started (open loop); it
	// equals Start in closed loop. Latency from Intended is corrected for
	// coordinated omission.
	Intended time.Time
	Start    time.Time
	End      time.Time

	phases [NumPhases]time.Duration
	has    uint16

	Bytes int64 // payload bytes moved over the data connection

	// DataTLS says the operation's data connection completed a TLS
	// handshake (PROT P); Resumed that the handshake resumed a TLS session
	// (tls.ConnectionState.DidResume) instead of a full handshake;
	// TLSVersion and TLSSuite what it negotiated.
	DataTLS, Resumed     bool
	TLSVersion, TLSSuite uint16

	Port         int    // advertised passive port (0 if none)
	PasvIP       string // advertised passive address
	OutOfRange   bool   // Port outside the declared range
	AddrMismatch bool   // PasvIP differs from the expected address

	Class       ErrorClass // "" on success
	FailedPhase Phase      // valid when Class != ""
	Code        int        // reply code of the failure (0 if none)
	Reply       string     // raw reply of the failure, one line
	Err         string     // error text

	Active int // sessions open (exhaust: listeners held) when the result was made

	// Exhaust is set on the one summary result of the exhaust scenario.
	Exhaust *ExhaustSummary
}

// SetPhase records the duration of a phase.
func (r *Result) SetPhase(p Phase, d time.Duration) {
	if d < 0 {
		d = 0
	}
	r.phases[p] = d
	r.has |= 1 << p
}

// PhaseDur is the duration of phase p and whether it was measured.
func (r *Result) PhaseDur(p Phase) (time.Duration, bool) {
	return r.phases[p], r.has&(1<<p) != 0
}

// OK reports a successful operation.
func (r *Result) OK() bool { return r.Class == "" }

// Latency is the service time: End - Start (uncorrected).
func (r *Result) Latency() time.Duration { return r.End.Sub(r.Start) }

// CorrectedLatency is End - Intended: the latency a user arriving on
// schedule would have seen (coordinated omission corrected).
func (r *Result) CorrectedLatency() time.Duration {
	if r.Intended.IsZero() {
		return r.Latency()
	}
	return r.End.Sub(r.Intended)
}

// fail records err as the result's failure in phase p.
func (r *Result) fail(p Phase, err error) {
	c := Classify(err)
	r.Class = c.Class
	r.FailedPhase = p
	r.Code = c.Code
	r.Reply = c.Reply
	r.Err = err.Error()
}
