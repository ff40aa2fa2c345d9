package suites

import (
	. "github.com/onsi/ginkgo/v2"

	. "github.com/ftpharness/ftpharness/suites/framework"
)

// Catalog rows whose checks are not written yet: each skips with "planned:
// not implemented yet", so every row gets a verdict in every run. The FTPS
// work replaces them one by one with Check(id, ...) in their own area file.
var _ = Describe("FTPS (planned)", Label("ftps"), func() {

	// RFC 4217 §4: "Once the client wishes to secure the session, the AUTH
	// command is sent and the server MAY then allow TLS negotiation to take
	// place"; §4.2: "'234' is the server response to an 'AUTH TLS' command
	// that it will honour".
	Planned("TLS-001")

	// RFC 2228 §8.2 lists AUTH's replies as "234 334 / 502, 504, 534, 431 /
	// 500, 501, 421" (no 503), and RFC 2228 §3 says "Some servers will allow
	// the AUTH command to be reissued": the row's 503 for a second AUTH TLS
	// is to be re-graded against that when the check is written.
	Planned("TLS-002")

	// RFC 4217 §9: "the PROT command MUST be preceded by a PBSZ command, and
	// a PBSZ command MUST be preceded by a successful security data
	// exchange"; RFC 2228: "If the server has not completed a security data
	// exchange with the client, it should respond with a 503 reply code".
	Planned("TLS-003")

	// RFC 4217 §9: "Once a PROT command has been issued by the client and
	// accepted by the server returning the '200' reply, the security of
	// subsequent data connections MUST be at that level until another PROT
	// command is issued and accepted".
	Planned("TLS-004")

	// RFC 2228 §8.2: PROT "200; 504, 536, 503, 534, 431; 500, 501, 421,
	// 530" — "536 Requested PROT level not supported by mechanism".
	Planned("TLS-005")

	// RFC 4217 §6: "If a server supports the FEAT command, then it MUST
	// advertise supported AUTH, PBSZ, and PROT commands in the reply".
	Planned("TLS-006")

	// RFC 4217 §4.2: "the user must reauthorize (that is, reissue some or
	// all of the USER, PASS, and ACCT commands) following an AUTH command".
	Planned("TLS-007")

	// RFC 4217 §4.2: a server wanting a secured session refuses "to accept
	// certain FTP commands until the session is secured"; §10.2: "The reply
	// to indicate that the PROT setting is incorrect is '521 data
	// connection cannot be opened with this PROT setting'".
	Planned("TLS-008")

	// No RFC rule (OBSERVE): whether a data connection's TLS handshake may
	// resume the control connection's session is server policy.
	Planned("TLS-009")

	// RFC 4217 §5 CCC: "if the control connection is not protected with
	// TLS, then a 533 reply should be sent".
	Planned("TLS-010")

	// RFC 4217 §13: "the reply to the REIN command MUST be sent in a
	// protected session prior to the session(s) being cleared".
	Planned("TLS-011")

	// RFC 8996 §2 and §3: TLS 1.0 and TLS 1.1 "MUST NOT be used"; the
	// handshake offering only them is refused.
	Planned("TLS-012")

	// RFC 4217 §15.1.1: "it is recommended that certificates used for
	// server authentication of the TLS session contain the server
	// identification information in a similar manner to those used for
	// http servers"; RFC 6125 says how a client verifies that identity.
	Planned("TLS-013")

	// RFC 4217 §4: "The server listens on the normal FTP control port
	// {FTP-PORT} and the session initiation is not secured at all":
	// implicit FTPS (TLS before the greeting) is outside it, de-facto
	// practice (FileZilla, curl ftps://), so it is only recorded.
	Planned("TLS-014")

	// RFC 4217 §10.2: "Should the server not like the TLS negotiation, then
	// it will close the data port immediately and follow the '150' command
	// with a '522' reply": a data connection whose TLS session the server
	// refuses gets a reply, never a silent hang or a clear-text transfer.
	Planned("TLS-015")
})
