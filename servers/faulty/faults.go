package faulty

import (
	"fmt"
	"sort"
	"strings"
)

// Fault is one named way of breaking one rule. Kills lists the catalog
// check IDs whose verdict the fault is expected to change (fail for
// MUST/SHOULD checks, warn for INTEROP ones) when the suites run through
// the proxy; the mutation matrix confirms or corrects it. A Conformant
// fault bends the protocol in a way the RFCs allow: no MUST/SHOULD check
// may fail because of it.
type Fault struct {
	Name       string
	Doc        string
	Kills      []string
	Conformant bool
	b          behaviour
}

// behaviour is what the proxy does differently; the zero value is the
// transparent proxy.
type behaviour struct {
	// PASV/EPSV replies
	advertiseIP   string // address put in every 227
	unbound       bool   // the proxy does not listen on advertiseIP (only at its own address)
	unpublished   bool   // every other passive port of a session refuses connections
	shift         bool   // advertised ports are a shadow range nothing listens on
	alloc         allocMode
	pasvFormat    pasvFormat
	epsvBadDelims bool
	// passive listeners
	foreignAccept bool // relay foreign data peers as if they were the control peer
	keepOld       bool // a new PASV/EPSV does not close the previous listener
	leakUnused    bool // listeners never connected to are never closed
	// exhaustion
	exhaust exhaustMode
	// sequencing
	pasvBeforeLogin  bool
	unknown200       bool
	rntoNoRnfr       bool
	pasvAfterEpsvAll bool
	forgetEpsvAll    bool
	// replies
	multilineCode bool
	missingCR     bool
	split         bool
	stallNOOP     bool
	doubleError   bool
	// data
	truncate bool
	flipByte bool
	early226 bool
	no226    bool
	doubleCR bool // TYPE A RETR: CR LF becomes CR CR LF
	// transfers
	aborPlainHeld bool // a plain ABOR (no Telnet IAC) waits for the running download to end
	aborDrops     bool // ABOR during (or right after) a transfer closes the control connection
	aborHeld      bool // every ABOR, Telnet IP + Synch or not, waits for the running download to end
	statPath211   bool // STAT <path> answered 212/213 is passed on as 211
	epsvAllRefuse bool // EPSV ALL is answered 502 by the proxy
}

type allocMode int

const (
	allocMirror     allocMode = iota // mirror the server's port offset, else random in range
	allocOutside                     // kernel-chosen port outside the range
	allocLow                         // a port below 1024
	allocSequential                  // lo, lo+1, lo+2, ...
	allocShared                      // every session gets the same port
	allocEven                        // a random free port at an even offset in the range
	allocOdd                         // a random free port at an odd offset in the range
)

type pasvFormat int

const (
	formatAsServer pasvFormat = iota // keep the server's text, numbers replaced
	formatFive                       // (h1,h2,h3,h4,p1)
	formatOver255                    // (h1,h2,h3,h4,0,port)
	formatNoParens                   // h1,h2,h3,h4,p1,p2 without parentheses
	format229                        // PASV answered with 229 (|||port|)
)

type exhaustMode int

const (
	exhaust4xx     exhaustMode = iota // 425, as a conformant server does
	exhaustOutside                    // a port outside the range
	exhaustStall                      // no reply at all
)

var registry = map[string]Fault{}

func register(f Fault) {
	if _, dup := registry[f.Name]; dup {
		panic("faulty: duplicate fault " + f.Name)
	}
	registry[f.Name] = f
}

// Lookup returns the named fault.
func Lookup(name string) (Fault, bool) {
	f, ok := registry[name]
	return f, ok
}

// MustLookup is Lookup that panics on an unknown name.
func MustLookup(name string) Fault {
	f, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("faulty: unknown fault %q (known: %s)", name, strings.Join(Names(), ", ")))
	}
	return f
}

// Names lists the registered faults, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns every registered fault, sorted by name.
func All() []Fault {
	var out []Fault
	for _, n := range Names() {
		out = append(out, registry[n])
	}
	return out
}

// merge combines the behaviours of several faults (later ones win where
// they conflict).
func merge(fs []Fault) behaviour {
	var b behaviour
	for _, f := range fs {
		x := f.b
		if x.advertiseIP != "" {
			b.advertiseIP = x.advertiseIP
		}
		if x.alloc != allocMirror {
			b.alloc = x.alloc
		}
		if x.pasvFormat != formatAsServer {
			b.pasvFormat = x.pasvFormat
		}
		if x.exhaust != exhaust4xx {
			b.exhaust = x.exhaust
		}
		b.unbound = b.unbound || x.unbound
		b.unpublished = b.unpublished || x.unpublished
		b.shift = b.shift || x.shift
		b.epsvBadDelims = b.epsvBadDelims || x.epsvBadDelims
		b.foreignAccept = b.foreignAccept || x.foreignAccept
		b.keepOld = b.keepOld || x.keepOld
		b.leakUnused = b.leakUnused || x.leakUnused
		b.pasvBeforeLogin = b.pasvBeforeLogin || x.pasvBeforeLogin
		b.unknown200 = b.unknown200 || x.unknown200
		b.rntoNoRnfr = b.rntoNoRnfr || x.rntoNoRnfr
		b.pasvAfterEpsvAll = b.pasvAfterEpsvAll || x.pasvAfterEpsvAll
		b.forgetEpsvAll = b.forgetEpsvAll || x.forgetEpsvAll
		b.multilineCode = b.multilineCode || x.multilineCode
		b.missingCR = b.missingCR || x.missingCR
		b.split = b.split || x.split
		b.stallNOOP = b.stallNOOP || x.stallNOOP
		b.doubleError = b.doubleError || x.doubleError
		b.truncate = b.truncate || x.truncate
		b.flipByte = b.flipByte || x.flipByte
		b.early226 = b.early226 || x.early226
		b.no226 = b.no226 || x.no226
		b.doubleCR = b.doubleCR || x.doubleCR
		b.aborPlainHeld = b.aborPlainHeld || x.aborPlainHeld
		b.aborDrops = b.aborDrops || x.aborDrops
		b.aborHeld = b.aborHeld || x.aborHeld
		b.statPath211 = b.statPath211 || x.statPath211
		b.epsvAllRefuse = b.epsvAllRefuse || x.epsvAllRefuse
	}
	return b
}

// Checks of the pasv, port-range and transfer areas that use a passive
// data connection over PASV (the suites' default), so a PASV reply no
// client can parse fails them all (confirmed on pyftpdlib by the mutation
// matrix). Checks of other areas that transfer data over PASV (LIST-*,
// FEAT-003, SEQ-016, ...) fail too; the matrix reports them as collateral.
var overPASV = []string{"PASV-001", "PASV-003", "PASV-004", "PASV-005", "PASV-006", "PASV-007", "PASV-010", "PASV-013", "PASV-014", "PASV-018",
	"RANGE-001", "RANGE-002", "RANGE-004", "RANGE-006", "RANGE-007", "RANGE-008",
	"XFER-001", "XFER-002", "XFER-003", "XFER-005", "XFER-006", "XFER-007", "XFER-012", "XFER-013", "XFER-014", "XFER-015", "XFER-016",
	"XFER-018", "XFER-019", "XFER-020", "XFER-021", "XFER-022", "XFER-024", "XFER-025"}

// Checks of the pasv and transfer areas that compare transferred bytes
// with what was stored (confirmed on pyftpdlib by the mutation matrix;
// EPSV-002, RANGE-007, SEQ-016, FEAT-003, LIST-002 and LIST-003 compare
// bytes too and are reported as collateral).
var byteExact = []string{"PASV-004", "XFER-001", "XFER-002", "XFER-003", "XFER-005", "XFER-006", "XFER-015", "XFER-018", "XFER-020", "XFER-021", "XFER-025"}

func ids(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, id := range l {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	sort.Strings(out)
	return out
}

func init() {
	// --- PASV/EPSV replies ---
	register(Fault{Name: "pasv-wrong-address",
		Doc:   "227 advertises 127.0.0.2 instead of the address the client dialled (data still works there)",
		Kills: []string{"MASQ-001", "PASV-003"},
		b:     behaviour{advertiseIP: "127.0.0.2"}})
	// The NAT / container faults: what a client meets when the server runs
	// in a container behind port publishing (suites/framework/nat_advice.go
	// names the problem and the server setting in the verdicts).
	register(Fault{Name: "pasv-advertise-foreign",
		Doc:   "227 advertises 127.77.88.99, an address nothing listens on (a container's own address behind NAT); the port works at the control address",
		Kills: []string{"MASQ-001", "MASQ-004", "PASV-003"},
		b:     behaviour{advertiseIP: "127.77.88.99", unbound: true}})
	register(Fault{Name: "pasv-port-unpublished",
		Doc:   "half the passive range is not published: a session's 2nd, 4th, ... passive reply advertises a port that refuses connections",
		Kills: unpublishedKills,
		b:     behaviour{unpublished: true}})
	register(Fault{Name: "pasv-port-shift",
		Doc:   "advertised ports are shifted by a constant offset (container ports published as other host ports): nothing listens on them, and they lie outside the declared range",
		Kills: shiftKills,
		b:     behaviour{shift: true}})
	register(Fault{Name: "pasv-port-outside-range",
		Doc:   "every 227/229 advertises a working port outside the declared passive range",
		Kills: []string{"MASQ-005", "PASV-007", "RANGE-001", "RANGE-002", "RANGE-005", "RANGE-006", "RANGE-007", "RANGE-008"},
		b:     behaviour{alloc: allocOutside}})
	register(Fault{Name: "pasv-low-port",
		Doc:   "every 227/229 advertises a working port below 1024 (needs root to listen there)",
		Kills: []string{"MASQ-005", "PASV-007", "PASV-018", "RANGE-001", "RANGE-002", "RANGE-005", "RANGE-006", "RANGE-007", "RANGE-008"},
		b:     behaviour{alloc: allocLow}})
	register(Fault{Name: "pasv-five-numbers",
		Doc:   "227 carries five numbers (h1,h2,h3,h4,p1): no port",
		Kills: ids(overPASV, []string{"PASV-002"}),
		b:     behaviour{pasvFormat: formatFive}})
	register(Fault{Name: "pasv-number-over-255",
		Doc:   "227 carries a number above 255 (h1,h2,h3,h4,0,port)",
		Kills: ids(overPASV, []string{"PASV-002"}),
		b:     behaviour{pasvFormat: formatOver255}})
	register(Fault{Name: "pasv-no-parens",
		Doc:        "227 without parentheses around the numbers (RFC 1123 allows it; only the INTEROP warning fires)",
		Kills:      []string{"PASV-002"},
		Conformant: true,
		b:          behaviour{pasvFormat: formatNoParens}})
	register(Fault{Name: "epsv-bad-delimiters",
		Doc:   "229 with the wrong delimiter count: (||port|)",
		Kills: []string{"EPSV-001", "EPSV-002", "EPSV-003", "EPSV-007", "MASQ-005", "PASV-006", "PASV-013", "PASV-018", "RANGE-001"},
		b:     behaviour{epsvBadDelims: true}})
	register(Fault{Name: "pasv-answers-229",
		Doc:   "PASV is answered with 229 (|||port|) instead of 227",
		Kills: ids(overPASV, []string{"PASV-002", "PASV-017"}),
		b:     behaviour{pasvFormat: format229}})

	// --- passive listeners ---
	register(Fault{Name: "pasv-accept-foreign",
		Doc:   "a data connection from a foreign address is relayed as if it came from the control peer",
		Kills: []string{"PASV-010"},
		b:     behaviour{foreignAccept: true}})
	register(Fault{Name: "pasv-keep-old-listener",
		Doc:   "a second PASV/EPSV leaves the first listener open (connections to it are reset)",
		Kills: []string{"PASV-006"},
		b:     behaviour{keepOld: true}})
	register(Fault{Name: "pasv-shared-port",
		Doc:   "every session's passive listener is the same port (the first of the range)",
		Kills: []string{"RANGE-002", "RANGE-003", "RANGE-004"},
		b:     behaviour{alloc: allocShared}})
	// Leaked listeners fill the range: every later PASV gets 425, so the
	// PASV checks that run after that fail too (confirmed on pyftpdlib).
	register(Fault{Name: "pasv-leak-unused",
		Doc:   "a passive listener nobody connected to is never closed (superseded, aborted or session gone)",
		Kills: []string{"PASV-001", "PASV-002", "PASV-004", "PASV-005", "PASV-006", "PASV-007", "PASV-010", "PASV-013", "PASV-014", "PASV-018", "RANGE-008"},
		b:     behaviour{leakUnused: true}})
	register(Fault{Name: "pasv-sequential-ports",
		Doc:   "passive ports are handed out sequentially (lo, lo+1, ...), predictable across sessions",
		Kills: []string{"RANGE-004"},
		b:     behaviour{alloc: allocSequential}})

	// --- exhaustion ---
	register(Fault{Name: "exhaust-outside-range",
		Doc:   "when the passive pool is full, PASV/EPSV answer with a port outside the range instead of 425/421",
		Kills: []string{"RANGE-005"},
		b:     behaviour{exhaust: exhaustOutside}})
	register(Fault{Name: "exhaust-stall",
		Doc:   "when the passive pool is full, PASV/EPSV get no reply at all",
		Kills: []string{"RANGE-005"},
		b:     behaviour{exhaust: exhaustStall}})

	// --- sequencing ---
	register(Fault{Name: "seq-pasv-before-login",
		Doc:   "PASV/EPSV before login are answered 227/229 (by the proxy) instead of 530",
		Kills: []string{"SEQ-006"},
		b:     behaviour{pasvBeforeLogin: true}})
	register(Fault{Name: "seq-unknown-200",
		Doc:   "an unknown command is answered 200 instead of 500",
		Kills: []string{"REPLY-003", "SEQ-011", "SEQ-020"},
		b:     behaviour{unknown200: true}})
	register(Fault{Name: "seq-rnto-without-rnfr",
		Doc:   "RNTO not directly preceded by RNFR is answered 250 instead of 503",
		Kills: []string{"SEQ-017", "SEQ-019"},
		b:     behaviour{rntoNoRnfr: true}})
	register(Fault{Name: "seq-pasv-after-epsv-all",
		Doc:   "after EPSV ALL, PASV is still accepted (the proxy asks the server for EPSV and answers 227)",
		Kills: []string{"EPSV-006", "EPSV-007"},
		b:     behaviour{pasvAfterEpsvAll: true}})
	register(Fault{Name: "seq-epsv-all-forgotten",
		Doc:   "EPSV ALL is forgotten after an ABOR or a failed transfer: PASV is accepted again",
		Kills: []string{"EPSV-007"},
		b:     behaviour{forgetEpsvAll: true}})

	// --- replies ---
	register(Fault{Name: "reply-multiline-code",
		Doc:   "the last line of every multi-line reply carries a different code",
		Kills: []string{"FEAT-001", "LIST-005", "REPLY-002", "XFER-016"},
		b:     behaviour{multilineCode: true}})
	register(Fault{Name: "reply-missing-cr",
		Doc:   "reply lines end in LF without CR",
		Kills: []string{"FEAT-001", "FEAT-005", "FEAT-006", "LIST-005", "REPLY-001", "XFER-016"},
		b:     behaviour{missingCR: true}})
	register(Fault{Name: "reply-split-segments",
		Doc:        "every reply is written in many small TCP segments with short delays (conformant)",
		Conformant: true,
		b:          behaviour{split: true}})
	register(Fault{Name: "reply-stall",
		Doc:   "the reply to NOOP stalls after its first bytes for longer than the client's timeout",
		Kills: []string{"SEQ-007", "SEQ-011", "SEQ-015", "SEQ-020", "SEQ-021", "SEQ-022", "SEQ-024", "XFER-011", "XFER-012", "XFER-013", "XFER-015", "XFER-024"},
		b:     behaviour{stallNOOP: true}})
	register(Fault{Name: "reply-double-500",
		Doc:   "every 500/501 reply is sent twice (a server seen answering malformed commands twice)",
		Kills: []string{"REPLY-006", "SEQ-020"},
		b:     behaviour{doubleError: true}})

	// --- data ---
	register(Fault{Name: "data-truncate",
		Doc:   "downloads lose their last byte, yet the server's 226 is passed on",
		Kills: byteExact,
		b:     behaviour{truncate: true}})
	register(Fault{Name: "data-flip-byte",
		Doc:   "the last byte of every download has its low bit flipped",
		Kills: byteExact,
		b:     behaviour{flipByte: true}})
	register(Fault{Name: "data-early-226",
		Doc:   "the completion reply reaches the client before the data connection is closed",
		Kills: []string{"XFER-013", "XFER-018"},
		b:     behaviour{early226: true}})
	register(Fault{Name: "data-no-226",
		Doc: "the completion reply (226/250) of a transfer is never sent",
		Kills: ids(byteExact, []string{"PASV-005", "PASV-006", "PASV-007", "PASV-010", "PASV-013", "PASV-014",
			"XFER-007", "XFER-012", "XFER-013", "XFER-014", "XFER-016", "XFER-017", "XFER-019", "XFER-022"}),
		b: behaviour{no226: true}})
}

// Transfer faults aimed at the INTEROP checks XFER-024 and XFER-025.
// Holding a plain ABOR back is what RFC 959 §4.1 allows (clients are to
// send Telnet IP and Synch first), so that fault is conformant; doubling
// the CR of every CR LF also breaks TYPE A downloads of LF text.
func init() {
	register(Fault{Name: "ascii-double-cr",
		Doc:   "TYPE A downloads (RETR) turn every CR LF into CR CR LF, as a literal LF-to-CRLF conversion of a file that already holds CRLF does",
		Kills: []string{"XFER-002", "XFER-003", "XFER-025"},
		b:     behaviour{doubleCR: true}})
	register(Fault{Name: "abor-plain-ignored",
		Doc:        "a plain ABOR (no Telnet IP/Synch before it) is held back until the running download has ended, as by a server that reads the control connection only on urgent data",
		Kills:      []string{"XFER-024"},
		Conformant: true,
		b:          behaviour{aborPlainHeld: true}})
	// XFER-012's rule ("control stays open") broken: EPSV-007, which
	// aborts a transfer to see EPSV ALL survive it, must be blocked by
	// XFER-012, not fail (one defect, one failure).
	register(Fault{Name: "abor-drops-session",
		Doc:   "ABOR while a transfer runs (or right after a transfer command) closes the control connection (no 426/226)",
		Kills: []string{"XFER-012", "XFER-013", "XFER-024"},
		b:     behaviour{aborDrops: true}})
	// RFC 1123 §4.1.3.3: a minimal server "must be prepared to accept and
	// defer a STAT or ABOR command that arrives during data transfer", so
	// deferring even the ABOR behind Telnet IP + Synch is conformant: the
	// ABOR checks warn.
	register(Fault{Name: "abor-deferred",
		Doc:        "every ABOR, with or without Telnet IP and Synch before it, is held back until the running download has ended, as by a server that never watches the control connection during a transfer",
		Kills:      []string{"XFER-012", "XFER-013", "XFER-024"},
		Conformant: true,
		b:          behaviour{aborHeld: true}})
	// RFC 959 §5.4 lists 211, 212 and 213 for STAT without tying a code to
	// the kind of path: conformant, no check may fail.
	register(Fault{Name: "stat-path-211",
		Doc:        "STAT of a file or directory is answered 211 (system status) instead of the server's 212/213 (RFC 959 §5.4 allows all three)",
		Conformant: true,
		b:          behaviour{statPath211: true}})
	// EPSV-007 tests a state this fault never enters: it must skip, so
	// only EPSV-006 fails (one defect, one failure).
	register(Fault{Name: "epsv-all-refused",
		Doc:   "EPSV ALL is answered '502 EPSV ALL not implemented.' by the proxy (EPSV itself still works)",
		Kills: []string{"EPSV-006"},
		b:     behaviour{epsvAllRefuse: true}})
}

// Checks that dial a session's second (fourth, ...) passive port and so
// meet an unpublished one under pasv-port-unpublished (confirmed on
// pyftpdlib by the focused mutation matrix).
var unpublishedKills = []string{"PASV-004", "PASV-006", "PASV-007", "PASV-013", "RANGE-007"}

// Checks that meet shifted ports under pasv-port-shift: every data
// connection is refused and every advertised port lies outside the declared
// range (confirmed on pyftpdlib by the focused mutation matrix). PASV-001,
// PASV-003, PASV-018 and RANGE-004 only read the replies or ignore
// refusals, so they survive it.
var shiftKills = []string{"MASQ-004", "MASQ-005",
	"PASV-004", "PASV-005", "PASV-006", "PASV-007", "PASV-010", "PASV-013", "PASV-014",
	"RANGE-001", "RANGE-002", "RANGE-006", "RANGE-007", "RANGE-008",
	"XFER-001", "XFER-002", "XFER-003", "XFER-005", "XFER-006", "XFER-007", "XFER-012", "XFER-013", "XFER-014",
	"XFER-015", "XFER-016", "XFER-018", "XFER-019", "XFER-020", "XFER-021", "XFER-022", "XFER-024", "XFER-025"}
