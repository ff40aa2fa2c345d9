package faulty

import (
	"fmt"
	"sort"
	"strings"
)

// Fault is one named way of breaking one rule. What it must do to the
// checks is declared outside the proxy (fixtures/mutations.yaml, read by
// matrix). A Conformant fault bends the protocol in a way the RFCs allow:
// nothing the RFCs require may break because of it.
type Fault struct {
	Name       string
	Doc        string
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
	pasvV6Address bool // over IPv6, PASV is answered 227 with the IPv6 address (pyftpdlib's)
	// passive listeners
	foreignAccept bool // relay foreign data peers as if they were the control peer
	keepOld       bool // a new PASV/EPSV does not close the previous listener
	leakUnused    bool // listeners never connected to are never closed
	// exhaustion
	exhaust  exhaustMode
	cooldown bool // a port stays unusable for cfg.cooldown after its data connection closed
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
	host          hostFault
	// rewrites (rewrite.go)
	commands      []cmdRewrite   // what the server gets instead of a command
	answers       []localAnswer  // commands the proxy answers itself
	replies       []replyRewrite // what the client gets instead of a reply
	greetAgain    bool           // the greeting is repeated to a silent client
	quitKeepsOpen bool           // the client's connection outlives the 221 to QUIT
	quitDrops     bool           // QUIT during a download: 221 at once, then close
	// FTPS (tls_faults.go)
	tlsDataClear    bool   // PROT P accepted, the client's data leg stays cleartext
	tlsFreshHang    bool   // a data TLS session that is not resumed hangs, no reply
	authNoHandshake bool   // AUTH answered 234 by the proxy, which then talks cleartext
	pbszIgnored     bool   // PBSZ in cleartext answered 200; PROT without PBSZ accepted
	legacyTLS       bool   // the client-facing TLS accepts TLS 1.0 and 1.1
	loginSurvives   bool   // after AUTH, PWD answered 257 without a new login
	reauth200       bool   // AUTH inside TLS answered 200
	protLevel200    bool   // PROT S, E or anything but C/P answered 200
	ccc200          bool   // CCC answered 200 by the proxy, TLS (if any) kept
	reinClear       bool   // REIN under TLS answered outside TLS
	userClear       bool   // USER before AUTH answered 331 by the proxy
	badCert         string // the client-facing certificate is bad in this way (tlscert)
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
		b.cooldown = b.cooldown || x.cooldown
		b.epsvBadDelims = b.epsvBadDelims || x.epsvBadDelims
		b.pasvV6Address = b.pasvV6Address || x.pasvV6Address
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
		b.host |= x.host
		b.commands = append(b.commands, x.commands...)
		b.answers = append(b.answers, x.answers...)
		b.replies = append(b.replies, x.replies...)
		b.greetAgain = b.greetAgain || x.greetAgain
		b.quitKeepsOpen = b.quitKeepsOpen || x.quitKeepsOpen
		b.quitDrops = b.quitDrops || x.quitDrops
		b.tlsDataClear = b.tlsDataClear || x.tlsDataClear
		b.tlsFreshHang = b.tlsFreshHang || x.tlsFreshHang
		b.authNoHandshake = b.authNoHandshake || x.authNoHandshake
		b.pbszIgnored = b.pbszIgnored || x.pbszIgnored
		b.legacyTLS = b.legacyTLS || x.legacyTLS
		b.loginSurvives = b.loginSurvives || x.loginSurvives
		b.reauth200 = b.reauth200 || x.reauth200
		b.protLevel200 = b.protLevel200 || x.protLevel200
		b.ccc200 = b.ccc200 || x.ccc200
		b.reinClear = b.reinClear || x.reinClear
		b.userClear = b.userClear || x.userClear
		if x.badCert != "" {
			b.badCert = x.badCert
		}
	}
	return b
}

func init() {
	// --- PASV/EPSV replies ---
	register(Fault{Name: "pasv-wrong-address",
		Doc: "227 advertises 127.0.0.2 instead of the address the client dialled (data still works there)",
		b:   behaviour{advertiseIP: "127.0.0.2"}})
	// The NAT / container faults: what a client meets when the server runs
	// in a container behind port publishing (suites/framework/passive_nat.go
	// names the problem and the server setting in the verdicts).
	register(Fault{Name: "pasv-advertise-foreign",
		Doc: "227 advertises 127.77.88.99, an address nothing listens on (a container's own address behind NAT); the port works at the control address",
		b:   behaviour{advertiseIP: "127.77.88.99", unbound: true}})
	register(Fault{Name: "pasv-port-unpublished",
		Doc: "half the passive range is not published: a session's 2nd, 4th, ... passive reply advertises a port that refuses connections",
		b:   behaviour{unpublished: true}})
	register(Fault{Name: "pasv-port-shift",
		Doc: "advertised ports are shifted by a constant offset (container ports published as other host ports): nothing listens on them, and they lie outside the declared range",
		b:   behaviour{shift: true}})
	register(Fault{Name: "pasv-port-outside-range",
		Doc: "every 227/229 advertises a working port outside the declared passive range",
		b:   behaviour{alloc: allocOutside}})
	register(Fault{Name: "pasv-low-port",
		Doc: "every 227/229 advertises a working port below 1024 (needs root to listen there)",
		b:   behaviour{alloc: allocLow}})
	register(Fault{Name: "pasv-five-numbers",
		Doc: "227 carries five numbers (h1,h2,h3,h4,p1): no port",
		b:   behaviour{pasvFormat: formatFive}})
	register(Fault{Name: "pasv-number-over-255",
		Doc: "227 carries a number above 255 (h1,h2,h3,h4,0,port)",
		b:   behaviour{pasvFormat: formatOver255}})
	register(Fault{Name: "pasv-no-parens",
		Doc:        "227 without parentheses around the numbers (RFC 1123 allows it; only the INTEROP warning fires)",
		Conformant: true,
		b:          behaviour{pasvFormat: formatNoParens}})
	register(Fault{Name: "epsv-bad-delimiters",
		Doc: "229 with the wrong delimiter count: (||port|)",
		b:   behaviour{epsvBadDelims: true}})
	register(Fault{Name: "pasv-answers-229",
		Doc: "PASV is answered with 229 (|||port|) instead of 227",
		b:   behaviour{pasvFormat: format229}})
	register(Fault{Name: "pasv-v6-malformed-227",
		Doc: "over an IPv6 control connection PASV is answered as pyftpdlib does, 227 Entering passive mode (::1,p1,p2). (the proxy asks the server for EPSV; the port works); inert over IPv4",
		b:   behaviour{pasvV6Address: true}})

	// --- passive listeners ---
	register(Fault{Name: "pasv-accept-foreign",
		Doc: "a data connection from a foreign address is relayed as if it came from the control peer",
		b:   behaviour{foreignAccept: true}})
	register(Fault{Name: "pasv-keep-old-listener",
		Doc: "a second PASV/EPSV leaves the first listener open (connections to it are reset)",
		b:   behaviour{keepOld: true}})
	register(Fault{Name: "pasv-shared-port",
		Doc: "every session's passive listener is the same port (the first of the range)",
		b:   behaviour{alloc: allocShared}})
	// Leaked listeners fill the range: every later PASV gets 425, so the
	// PASV checks that run after that fail too (confirmed on pyftpdlib).
	register(Fault{Name: "pasv-leak-unused",
		Doc: "a passive listener nobody connected to is never closed (superseded, aborted or session gone)",
		b:   behaviour{leakUnused: true}})
	register(Fault{Name: "pasv-sequential-ports",
		Doc: "passive ports are handed out sequentially (lo, lo+1, ...), predictable across sessions",
		b:   behaviour{alloc: allocSequential}})

	// --- exhaustion ---
	register(Fault{Name: "exhaust-outside-range",
		Doc: "when the passive pool is full, PASV/EPSV answer with a port outside the range instead of 425/421",
		b:   behaviour{exhaust: exhaustOutside}})
	register(Fault{Name: "exhaust-stall",
		Doc: "when the passive pool is full, PASV/EPSV get no reply at all",
		b:   behaviour{exhaust: exhaustStall}})

	// --- sequencing ---
	register(Fault{Name: "seq-pasv-before-login",
		Doc: "PASV/EPSV before login are answered 227/229 (by the proxy) instead of 530",
		b:   behaviour{pasvBeforeLogin: true}})
	register(Fault{Name: "seq-unknown-200",
		Doc: "an unknown command is answered 200 instead of 500",
		b:   behaviour{unknown200: true}})
	register(Fault{Name: "seq-rnto-without-rnfr",
		Doc: "RNTO not directly preceded by RNFR is answered 250 instead of 503",
		b:   behaviour{rntoNoRnfr: true}})
	register(Fault{Name: "seq-pasv-after-epsv-all",
		Doc: "after EPSV ALL, PASV is still accepted (the proxy asks the server for EPSV and answers 227)",
		b:   behaviour{pasvAfterEpsvAll: true}})
	register(Fault{Name: "seq-epsv-all-forgotten",
		Doc: "EPSV ALL is forgotten after an ABOR or a failed transfer: PASV is accepted again",
		b:   behaviour{forgetEpsvAll: true}})

	// --- replies ---
	register(Fault{Name: "reply-multiline-code",
		Doc: "the last line of every multi-line reply carries a different code",
		b:   behaviour{multilineCode: true}})
	register(Fault{Name: "reply-missing-cr",
		Doc: "reply lines end in LF without CR",
		b:   behaviour{missingCR: true}})
	register(Fault{Name: "reply-split-segments",
		Doc:        "every reply is written in many small TCP segments with short delays (conformant)",
		Conformant: true,
		b:          behaviour{split: true}})
	register(Fault{Name: "reply-stall",
		Doc: "the reply to NOOP stalls after its first bytes for longer than the client's timeout",
		b:   behaviour{stallNOOP: true}})
	register(Fault{Name: "reply-double-500",
		Doc: "every 500/501 reply is sent twice (a server seen answering malformed commands twice)",
		b:   behaviour{doubleError: true}})

	// --- data ---
	register(Fault{Name: "data-truncate",
		Doc: "downloads lose their last byte, yet the server's 226 is passed on",
		b:   behaviour{truncate: true}})
	register(Fault{Name: "data-flip-byte",
		Doc: "the last byte of every download has its low bit flipped",
		b:   behaviour{flipByte: true}})
	register(Fault{Name: "data-early-226",
		Doc: "the completion reply reaches the client before the data connection is closed",
		b:   behaviour{early226: true}})
	register(Fault{Name: "data-no-226",
		Doc: "the completion reply (226/250) of a transfer is never sent",
		b:   behaviour{no226: true}})
}

// Transfer faults: a plain ABOR held back, CR LF doubled in TYPE A.
// Holding a plain ABOR back is what RFC 959 §4.1 allows (clients are to
// send Telnet IP and Synch first), so that fault is conformant; doubling
// the CR of every CR LF also breaks TYPE A downloads of LF text.
func init() {
	register(Fault{Name: "ascii-double-cr",
		Doc: "TYPE A downloads (RETR) turn every CR LF into CR CR LF, as a literal LF-to-CRLF conversion of a file that already holds CRLF does",
		b:   behaviour{doubleCR: true}})
	register(Fault{Name: "abor-plain-ignored",
		Doc:        "a plain ABOR (no Telnet IP/Synch before it) is held back until the running download has ended, as by a server that reads the control connection only on urgent data",
		Conformant: true,
		b:          behaviour{aborPlainHeld: true}})
	// RFC 959 §4.1.3 ABOR: the control connection stays open; this one
	// drops it.
	register(Fault{Name: "abor-drops-session",
		Doc: "ABOR while a transfer runs (or right after a transfer command) closes the control connection (no 426/226)",
		b:   behaviour{aborDrops: true}})
	// RFC 1123 §4.1.3.3: a minimal server "must be prepared to accept and
	// defer a STAT or ABOR command that arrives during data transfer", so
	// deferring even the ABOR behind Telnet IP + Synch is conformant: the
	// ABOR checks warn.
	register(Fault{Name: "abor-deferred",
		Doc:        "every ABOR, with or without Telnet IP and Synch before it, is held back until the running download has ended, as by a server that never watches the control connection during a transfer",
		Conformant: true,
		b:          behaviour{aborHeld: true}})
	// RFC 959 §5.4 lists 211, 212 and 213 for STAT without tying a code to
	// the kind of path: conformant, no check may fail.
	register(Fault{Name: "stat-path-211",
		Doc:        "STAT of a file or directory is answered 211 (system status) instead of the server's 212/213 (RFC 959 §5.4 allows all three)",
		Conformant: true,
		b:          behaviour{statPath211: true}})
	// RFC 2428 §4 EPSV ALL refused (EPSV itself works).
	register(Fault{Name: "epsv-all-refused",
		Doc: "EPSV ALL is answered '502 EPSV ALL not implemented.' by the proxy (EPSV itself still works)",
		b:   behaviour{epsvAllRefuse: true}})
}
