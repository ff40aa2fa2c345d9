package framework

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/ftp"
)

// Sanitize makes text fit for any output: the configured password and
// every PASS argument are masked (ftp.Redact) and bytes a server chose
// cannot drive a terminal (ftp.Printable). Every failure message, warning,
// observation and report entry passes through it.
func Sanitize(s string) string {
	return ftp.Printable(ftp.Redact(s, Config().Password))
}

// FailHandler is Ginkgo's Fail behind Tidy and Sanitize; register it with
// gomega.RegisterFailHandler so a failure message is one readable line
// (no Go value dump) and never carries the password or a server's escape
// sequences to the terminal or the reports.
func FailHandler(message string, callerSkip ...int) {
	skip := 1
	if len(callerSkip) > 0 {
		skip += callerSkip[0]
	}
	Fail(Sanitize(Tidy(message)), skip)
}

// FailNow is Ginkgo's Fail for a spec's own message, sanitized (Ginkgo's
// Fail does not pass through the Gomega fail handler).
func FailNow(message string) {
	GinkgoHelper()
	Fail(Sanitize(message))
}

// secrets registers the password with a session's transcript (a raw write
// may carry it anywhere); give it last among a Dial's options. Other
// connections' transcripts are shown through Sanitize (attachTranscript).
func secrets() ftp.Option { return ftp.WithSecrets(Config().Password) }
