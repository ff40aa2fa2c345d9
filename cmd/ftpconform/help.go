package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/framework"
)

// flagGroups order --help: the project's flags by what they are about;
// a flag in no group is listed under "Other".
var flagGroups = []struct {
	title string
	names []string
}{
	{"Target (flags, then FTPH_* variables, then a --ftp.profile file)", []string{
		"ftp.url", "ftp.addr", "ftp.user", "ftp.password", "ftp.profile", "ftp.embedded-server",
		"ftp.pasv-range", "ftp.pasv-ephemeral", "ftp.pasv-address", "ftp.features", "ftp.foreign-source", "ftp.third-party",
		"ftp.scratch-dir", "ftp.timeout"}},
	{"TLS", []string{"ftp.tls", "ftp.tls-ca", "ftp.tls-insecure"}},
	{"Output", []string{"verbose", "report-dir", "list-checks", "list-labels", "help-ginkgo"}},
	{"Speed", []string{"workers"}},
	{"Selection (Ginkgo's filters; labels: ftpconform labels)", []string{
		"ginkgo.label-filter", "ginkgo.focus", "ginkgo.skip"}},
	{"Expectations", []string{"expect", "verdicts"}},
	{"Matrix and mutation", []string{"matrix", "matrix-out", "matrix-expect", "matrix-parallel",
		"mutation", "mutation-faults", "mutation-focused", "mutation-reuse", "mutation-timeout"}},
}

func usage() {
	w := os.Stderr
	fmt.Fprint(w, `Usage:
  ftpconform [run] [flags]         check a server (no --ftp.* flag: the embedded ftpserverlib server)
  ftpconform list | labels
  ftpconform expect FILES [--verdicts=verdicts.json] [flags]
  ftpconform matrix SERVERS [--matrix-out=docs] [--matrix-expect=fixtures/expectations] [-- ftpconform args]
  ftpconform mutation SERVERS [--mutation-faults=a,b] [--mutation-focused] [--matrix-out=docs]

ftpconform — RFC-cited conformance checks for an FTP server's passive mode,
port ranges and command sequencing.
`)
	writeFlagGroups(w)
	fmt.Fprint(w, `
Commands:
`+commandHelp()+`
Each command is also a flag (list = --list-checks, labels = --list-labels,
expect FILES = --expect=FILES, matrix S = --matrix=S, mutation S = --mutation=S).

Examples:
  ftpconform                                   # test the embedded ftpserverlib server
  ftpconform --ftp.url=ftp://ftpuser:ftppass@127.0.0.1:2121 --ftp.pasv-range=30000-30019
  ftpconform --ftp.url=ftp://ftpuser:ftppass@[::1]:2121   # over IPv6: data connections by EPSV/EPRT
  ftpconform --ftp.profile=vsftpd.yaml --ginkgo.label-filter='star && must'
  ftpconform --ftp.addr=127.0.0.1:2121 --ftp.user=u --ftp.password=p --report-dir=out/
  ftpconform expect fixtures/expectations/vsftpd.yaml --ftp.addr=127.0.0.1:2121   # CI: fail on change

Settings come from flags, then FTPH_* environment variables (FTPH_ADDR,
FTPH_USER, FTPH_PASSWORD, FTPH_PASV_RANGE, ...), then a --ftp.profile file.
Checks that need a setting you did not give (e.g. RANGE-* without
--ftp.pasv-range) or a feature the server does not advertise are skipped
with the reason. The checks that hold a download open (ABOR, STAT, QUIT
mid-transfer) upload a 64 MiB file per worker; FTPH_BIG_FILE_MIB=16 is
enough, and faster, when no proxy (docker-proxy, NAT) is on the path.

Output: on a terminal a one-line progress, then (alone into a file or a
pipe) the failures (MUST, then SHOULD), blocked checks and warnings one
line each, the counts and where the reports are. -v adds Ginkgo's own
stream and lists the observations and skips; transcripts are in the reports.

Verdicts: MUST/SHOULD rules fail, INTEROP rules warn, OBSERVE rules record;
a check another check's defect kept from testing its own rule is blocked
(the reason names that check; never a failure on its own).
Exit status: 0 no failures, 1 a check failed, 2 bad command line or
configuration (also: a filter that selects no check, a report path that
cannot be written), 3 server unreachable, login refused, or the server
stopped answering mid-run (the remaining checks are skipped), 4 (with
--expect) a verdict differs from the expectation file (known failures
listed there then exit 0), 130 interrupted by SIGINT/SIGTERM (the running
check and the rest are skips; the reports are still written).

Ginkgo's other flags (--ginkgo.*, e.g. --ginkgo.junit-report): ftpconform --help-ginkgo
`)
}

// writeFlagGroups lists the project's flags (and Ginkgo's selection
// flags) by group.
func writeFlagGroups(w io.Writer) {
	placed := map[string]bool{}
	for _, g := range flagGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		placed["v"] = true // with --verbose
		for _, name := range g.names {
			if f := flag.Lookup(name); f != nil {
				placed[name] = true
				writeFlag(w, f)
			}
		}
	}
	var other []*flag.Flag
	flag.VisitAll(func(f *flag.Flag) {
		if !placed[f.Name] && !strings.HasPrefix(f.Name, "ginkgo.") && !strings.HasPrefix(f.Name, "test.") {
			other = append(other, f)
		}
	})
	if len(other) > 0 {
		fmt.Fprintf(w, "\nOther:\n")
		for _, f := range other {
			writeFlag(w, f)
		}
	}
}

func writeFlag(w io.Writer, f *flag.Flag) {
	dash := "--"
	if f.Name == "verbose" {
		dash = "-v, --"
	}
	def := ""
	if f.DefValue != "" && f.DefValue != "false" {
		def = fmt.Sprintf(" (default %q)", f.DefValue)
	}
	fmt.Fprintf(w, "  %s%s\n      %s%s\n", dash, f.Name, f.Usage, def)
}

// ginkgoUsage lists Ginkgo's own flags (--help-ginkgo).
func ginkgoUsage(w io.Writer) {
	fmt.Fprintln(w, "Ginkgo's flags, accepted by ftpconform as they are (its selection flags are in ftpconform --help):")
	flag.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "ginkgo.") {
			writeFlag(w, f)
		}
	})
}

// labelDoc says what the labels that are not an area mean.
var labelDoc = map[string]string{
	"star":         "the most important checks: what a client breaks on first (ftpconform --ginkgo.label-filter=star)",
	"must":         "severity: an RFC MUST/SHALL; a breach fails the check (exit 1)",
	"should":       "severity: an RFC SHOULD; a breach fails the check (exit 1)",
	"interop":      "severity: what clients rely on beyond the RFC text; a breach warns",
	"observe":      "severity: policy or behaviour recorded, never a failure",
	"slow":         "waits on purpose (the server's wrong-password delays, ABOR or STAT while a transfer streams, stalls, idle timeouts); --workers starts them first; '!slow' makes a quick run",
	"alone":        "needs the server to itself (passive pool exhaustion, the port range area, ports a session gave up); with --workers they run after the others",
	"control-only": "a slow check on one control session, no passive port or data connection (SEC-001); with --workers it runs on beside the alone ones",
}

// areaDoc says what each area label covers.
var areaDoc = map[string]string{
	"pasv":       "passive mode: PASV, the 227 reply, the listener it opens",
	"epsv":       "extended passive mode: EPSV, EPSV ALL (RFC 2428)",
	"active":     "active mode: PORT and EPRT",
	"port-range": "the configured passive port range: bounds, reuse, exhaustion",
	"masquerade": "the public address a server behind NAT advertises",
	"sequencing": "command order and login: USER/PASS, RNFR/RNTO, REST, TYPE/MODE/STRU",
	"reply":      "reply syntax: codes, multi-line replies, one reply per command",
	"transfer":   "data transfers: RETR, STOR, APPE, REST, ABOR, TYPE A",
	"listing":    "directory listings: LIST, NLST, MLSD, MLST",
	"feat":       "FEAT and OPTS (RFC 2389)",
	"security":   "security: wrong passwords, CR/LF/NUL and Telnet IAC in commands, bounce",
	"ftps":       "FTPS (AUTH TLS, RFC 4217)",
	"host":       "HOST (RFC 7151)",
}

// writeLabels lists every label with what it means and how many checks
// carry it (ftpconform labels).
func writeLabels(out io.Writer) {
	count := map[string]int{}
	for _, c := range catalog.All() {
		for _, l := range c.Labels() {
			count[l]++
		}
	}
	var severities, areas, rfcs []string
	for _, l := range catalog.Labels() {
		switch {
		case strings.HasPrefix(l, "RFC:"):
			rfcs = append(rfcs, l)
		case labelDoc[l] != "":
			severities = append(severities, l)
		default:
			areas = append(areas, l)
		}
	}
	sort.Slice(severities, func(i, j int) bool { return severityOrder(severities[i]) < severityOrder(severities[j]) })
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "LABEL\tCHECKS\tMEANING")
	for _, l := range severities {
		fmt.Fprintf(w, "%s\t%d\t%s\n", l, count[l], labelDoc[l])
	}
	for _, l := range []string{framework.LabelSlow, framework.LabelAlone, framework.LabelControlOnly} {
		// set where the checks are written, not in the catalog
		fmt.Fprintf(w, "%s\t-\t%s\n", l, labelDoc[l])
	}
	for _, l := range areas {
		doc := areaDoc[l]
		if doc == "" {
			doc = "area"
		}
		fmt.Fprintf(w, "%s\t%d\tarea: %s\n", l, count[l], doc)
	}
	for _, l := range rfcs {
		fmt.Fprintf(w, "%s\t%d\tchecks citing RFC %s\n", l, count[l], strings.TrimPrefix(l, "RFC:"))
	}
	w.Flush()
	fmt.Fprintln(out, "\nCombine them with --ginkgo.label-filter, e.g. 'star && must', 'pasv || epsv', '!observe', 'RFC:2428'.")
}

func severityOrder(l string) int {
	for i, s := range []string{"star", "must", "should", "interop", "observe"} {
		if s == l {
			return i
		}
	}
	return 99
}
