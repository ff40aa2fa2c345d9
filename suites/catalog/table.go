package catalog

// table is the check catalog: ID | star | area | severity | RFC sections |
// title. The IDs, areas, severities and sources follow the project's
// conformance catalog; titles are one-line summaries of what a conformant
// server does.
const table = `
PASV-001|*|pasv|must|959§4.1.2,1123§4.1.2.6|PASV answers 227 with six numbers 0-255 and a non-zero port
PASV-002||pasv|interop|959§4.2.1,1123§4.1.2.6|227 carries the numbers in parentheses on a single line
PASV-003|*|pasv|interop|1123§4.1.2.6|227 advertises the server's address of this connection, never 0.0.0.0 or ::ffff:
PASV-004|*|pasv|must|959§3.2,959§5.4|a data connection to the advertised endpoint carries LIST, RETR and STOR intact
PASV-005|*|pasv|interop|1123§4.1.2.6,959§3.3|a passive listener serves one data connection; a second transfer needs a new PASV
PASV-006|*|pasv|must|959§3.2|a second PASV or EPSV is answered and only the newest endpoint carries the transfer (old listener still open: warn)
PASV-007||pasv|interop|959§3.2|many PASVs in one session never exhaust the range
PASV-008||pasv|interop|959§5.3.1,959§5.4|PASV with an argument is refused with 501 (or 500)
PASV-009||pasv|observe||PASV/EPSV/PORT/EPRT while a transfer streams: record the server's answer
PASV-010|*|pasv/security|interop|2577§4,2577§8|a data connection from a foreign source address is not served
PASV-011||pasv/security|observe|2577§4|after a foreign peer was refused, record whether the real client still succeeds
PASV-012||pasv|observe||record what happens when a passive listener is never connected
PASV-013||pasv|must|959§4.1.3,959§5.4,2428§3|ABOR after PASV answers 225/226 and the next PASV transfer works (listener left open: warn)
PASV-014||pasv|interop|959§3.2|the server waits for a late data connection after the transfer command
PASV-015|*|pasv/sequencing|interop|959§3.2|a transfer command without PASV/PORT is refused with 425/503
PASV-016||pasv|observe|2428§1|record EPSV, PASV and PORT over an IPv6 control connection
PASV-017||pasv|interop|959§4.1.2,959§5.4|PASV is never answered with 229
PASV-018||pasv|interop||every advertised passive port is above 1023 (firewall rules assume high ports)
PASV-019||pasv|must|959§4.1.2,959§5.4,2428§1|over IPv6, PASV is refused or answered 227 with six numbers, never an IPv6 address in a 227 or another 2xx
EPSV-001|*|epsv|must|2428§3|EPSV answers 229 with (|||port|): one delimiter, empty fields, port 1-65535
EPSV-002||epsv|must|2428§3,959§3.2|the EPSV port accepts a data connection on the control connection's address
EPSV-003||epsv|should|2428§3|EPSV 1 on IPv4 answers 229
EPSV-004|*|epsv|must|2428§2,2428§3|EPSV with an unsupported protocol answers 522 naming the supported ones (501 for a non-IANA number)
EPSV-005||epsv|interop|2428§3|EPSV with a garbage argument answers 501 (or 500)
EPSV-006|*|epsv|must|2428§3|after EPSV ALL every data setup command but EPSV is refused
EPSV-007|*|epsv|must|2428§4|EPSV ALL, once accepted, stays in force after ABOR and failed transfers
EPSV-008||epsv|observe|959§4.1.1,2428§4|record whether REIN clears EPSV ALL
EPSV-009||epsv|interop|2389§3.2,2428|FEAT advertises EPSV and EPRT
ACT-001||active|must|959§4.1.2,959§5.4|PORT to the client answers 200 and LIST arrives over the active connection
ACT-002|*|active|must|959§5.3.2,959§5.4|malformed PORT arguments are refused with 501 or 500
ACT-003|*|active/security|interop|2577§2,2577§3|PORT/EPRT to a third-party address is refused and never connected
ACT-004|*|active/security|should|2577§3|PORT/EPRT to a privileged port (<1024) is refused
ACT-005||active|must|959§5.4|PORT to a closed port: the transfer fails with 425/426 and the session lives
ACT-006||active|must|2428§2|EPRT |1|addr|port| answers 200 and the transfer works
ACT-007||active|should|2428§2|EPRT with a delimiter other than | is accepted
ACT-008||active|must|2428§2|malformed EPRT arguments are refused with 500 or 501
ACT-009||active|must|2428§2|EPRT with an unsupported protocol answers 522 naming the supported ones
ACT-010||active|must|959§3.2,959§3.3|the last of PORT and PASV wins; the superseded endpoint is never used (passive listener left open: warn)
ACT-011||active|observe|1123§4.1.2.12|record the source address and port of active data connections
ACT-012||active/security|observe|959§5.2,2577§3|record whether FXP (PORT to another session's PASV) is allowed
RANGE-001|*|port-range|interop||every PASV and EPSV port lies inside the declared range
RANGE-002||port-range|interop||both ends of the declared range are used
RANGE-003|*|port-range|interop||concurrent sessions never share a pending passive port
RANGE-004||port-range/security|interop|2577§8|passive ports are not predictable (not constant, not +1)
RANGE-005|*|port-range|interop||range exhaustion answers 4xx, never a port outside the range
RANGE-006||port-range|interop||a port of the range held by another program is skipped
RANGE-007||port-range|interop||more sequential transfers than the range has ports all succeed in range
RANGE-008|*|port-range|must|959§4.1.1,959§4.1.3|ports held by sessions that quit or vanish are released (kept after ABOR: warn)
RANGE-009||port-range|observe||record port sharing across client addresses (multiplexing)
MASQ-001|*|masquerade|interop|1123§4.1.2.6|the declared public address appears in every 227
MASQ-002||masquerade|observe||record how a hostname masquerade address is resolved
MASQ-003||masquerade|observe||record which address each client network is given
MASQ-004||masquerade|interop||the advertised address is reachable by a non-loopback client
MASQ-005||masquerade|interop|2428§3|EPSV carries the externally reachable port
MASQ-006||masquerade/ftps|interop|1123§4.1.2.6|inside TLS, PASV still advertises the declared public address (a NAT helper cannot rewrite an encrypted 227)
SEQ-001||sequencing|must|959§5.4|the greeting is 220 (or 120 then 220), or 421 and close
SEQ-002||sequencing|must|959§4.1.1,959§5.4|USER then PASS logs in with 331 then 230
SEQ-003|*|sequencing|must|959§5.4,959§4.1.1|PASS without USER is refused with 503 or 530
SEQ-004||sequencing|interop|959§4.1.1|PASS not immediately after USER answers 503
SEQ-005||sequencing|must|959§5.4,959§4.2|a wrong password answers 530 and a retry can still log in
SEQ-006|*|sequencing|must|959§5.4,959§4.1.1|before login commands are refused with a code of their reply row, one reply each (accepted: warn)
SEQ-007||sequencing|interop|2389§3,7151§3,4217§4|FEAT, HELP, NOOP, SYST, STAT and QUIT work before login
SEQ-008||sequencing|observe|959§4.1.1|record PASS and USER after a completed login
SEQ-009||sequencing|must|959§4.1.1,959§5.4|REIN resets the session (PWD then 530) or answers 502
SEQ-010||sequencing|must|959§4.1.1,959§5.4|QUIT answers 221 and the server closes the connection
SEQ-011|*|sequencing|must|959§4.2.1,2389§3.2|an unknown verb answers 500 or 502 and the session continues
SEQ-012||sequencing|should|959§4.2.1,959§5.4|known but unimplemented commands answer a code of their reply row or 502
SEQ-013||sequencing|should|959§4.2.1,959§5.3.1,959§5.4|verbs missing a mandatory argument answer 501 or 500 (other replies: warn)
SEQ-014||sequencing|must|959§5.4,959§4.2.1|unimplemented TYPE/MODE/STRU parameters answer 504, garbage 500/501/504, never 200 or 502
SEQ-015||sequencing|must|959§5.3|verbs are case-insensitive
SEQ-016||sequencing|must|959§4.1.3,959§5.4|RNFR then RNTO renames with 350 then 250
SEQ-017|*|sequencing|must|959§5.4|RNTO without RNFR answers 503
SEQ-018||sequencing|must|959§5.4|RNFR of a missing file answers 550 (or 450)
SEQ-019||sequencing|interop|959§4.1.3|a command between RNFR and RNTO breaks the sequence: RNTO answers 503
SEQ-020|*|sequencing|must|1123§4.1.2.10|pipelined commands in one write get one reply each, in order
SEQ-021||sequencing|must|1123§4.1.2.10|a command split over many segments gets one reply after the CRLF
SEQ-022||sequencing|must|959§5.4,1123§4.1.2.13,959§4.1.3|NOOP, SYST and HELP answer their documented codes; ALLO 200/202 (refused: warn)
SEQ-023||sequencing|must|959§5.1|the session starts in TYPE A, MODE S, STRU F
SEQ-024||sequencing|should|1123§4.1.3.2|an idle session is closed with 421 after a timeout of at least 5 minutes
SEQ-025||sequencing|observe||record RNFR/DELE/MKD while a transfer streams
REPLY-001||reply|must|959§4.2,1123§4.1.2.11|every reply line is ddd<SP>text or ddd-text ending in CRLF
REPLY-002|*|reply|must|959§4.2|multi-line replies start ddd- and end ddd<SP> with the same code
REPLY-003||reply|should|959§5.4,1123§4.1.2.11|reply codes belong to the set RFC 959 §5.4 allows for the command
REPLY-004||reply|interop|959§4.2,854|echoed CR or LF in arguments never breaks reply framing
REPLY-005||reply|should|959§Appendix II|257 quotes the path and doubles embedded quotes
REPLY-006|*|reply|must|959§4.2,959§5.4|every command gets exactly one completion reply; an extra reply is reported once per run
FEAT-001||feat|must|2389§3.2|FEAT answers 211- ... lines with one leading space ... 211 End
FEAT-002||feat|should|2389§3.2,959§4.2.1|FEAT with an argument answers 501
FEAT-003||feat|must|2389§3.2,3659§3.3,3659§4.3,3659§5.4,3659§7.8,4217§6,7151§3.4|every extension that works is listed in FEAT
FEAT-004||feat|must|2389§4|OPTS naming no known command answers 501 (or 451); OPTS UTF8 ON recorded
FEAT-005||feat|must|3659§4.1,3659§4.2|SIZE answers 213 with the exact octet count, 550 (or 4xy) for a missing file
FEAT-006||feat|must|3659§3.1,3659§2.3|MDTM answers 213 YYYYMMDDHHMMSS; the reply for a directory is recorded
XFER-001|*|transfer|must|959§3.1.1.3,3659§4|TYPE I round trip is byte-exact
XFER-002||transfer|should|959§3.1.1.1|TYPE A download sends CRLF line ends
XFER-003||transfer|must|959§3.1.1.1|TYPE A text uploaded with CRLF split across segments round-trips without stray or doubled CR
XFER-004||transfer|must|1123§4.1.2.1,1123§4.1.2.13,959§5.3|TYPE L 8, TYPE A N and lower-case TYPE i answer 200
XFER-005|*|transfer|must|3659§5.3|REST n then RETR sends the file from byte n
XFER-006||transfer|must|3659§5.3,3659§5.2|REST then STOR completes a partial upload
XFER-007||transfer|should|3659§5.3|REST past the end: REST 350, the RETR is refused
XFER-008||transfer|must|3659§5.3,959§5.4|REST with a non-numeric or negative marker is refused with 501 or 500
XFER-009||transfer|observe|3659§5.3|record whether a failed STOR clears the REST marker
XFER-010||transfer|observe|3659§4,3659§5|record REST and SIZE under TYPE A
XFER-011||transfer|must|959§4.1.3,959§5.4,1123§4.1.5,1123§4.1.2.13|ABOR with nothing in progress answers 225 or 226 (ABOR not implemented: skip)
XFER-012|*|transfer|must|959§4.1.3,959§4.1,959§5.4,1123§4.1.3.3|ABOR during a transfer is answered 426 then 226 (or, deferred to the transfer's end, 226 then 225/226: warn) and the control stays in sync
XFER-013||transfer|must|959§4.1,959§4.1.3,959§5.4,1123§3.2.3,1123§4.1.3.3,1123§4.1.5|ABOR behind Telnet IP and Synch is answered legally during a transfer (deferred to its end: warn) and 225/226 with none, the control staying in sync (ABOR not implemented: skip)
XFER-014||transfer|must|959§5.4|a data connection closed by the client mid-RETR ends 426/451, not 226
XFER-015|*|transfer|must|959§4.1.3,1123§4.1.3.3|STAT during a transfer answers without disturbing it
XFER-016||transfer|must|959§4.1.3,959§5.4,959§4.2.1|STAT answers 211; STAT of a path 211/212/213, 450/550 for a missing one (a status reply for it: warn)
XFER-017|*|transfer|must|959§4.1.1|QUIT during a transfer: the transfer reply, then 221, then close
XFER-018||transfer|must|959§5.2|the data connection is closed before 226 arrives
XFER-019||transfer|must|959§5.4|an empty file transfers with 150 then 226 and zero bytes
XFER-020||transfer|must|959§4.1.3|APPE appends
XFER-021||transfer|must|1123§4.1.2.9|STOU names the file it created in FILE: <name>
XFER-022||transfer|must|959§5.1,959§5.3|MODE S answers 200
XFER-023||transfer|observe||record what a stalled data connection leads to
XFER-024||transfer|interop||a plain ABOR (no Telnet IP/Synch) during a transfer is recognised before the transfer ends
XFER-025||transfer|interop||TYPE A RETR of a file that already has CRLF line ends sends no CR CR LF
LIST-001||listing|must|959§4.1.3,959§5.4|LIST, LIST dir and LIST -la arrive over PASV with 150 then 226
LIST-002||listing|must|1123§4.1.2.7|NLST gives names usable with RETR and SIZE
LIST-003||listing|must|3659§7.2|MLSD lines are facts; one space; name, with no headers
LIST-004||listing|must|3659§7.1,3659§7.2.1|MLSD of a file answers 501 without a data connection
LIST-005||listing|must|3659§7.2|MLST answers 250- with one entry line starting with a space
LIST-006||listing|should|3659§7.2.1,959§5.4|MLSD and LIST of a missing path answer 550, 450 or another 4xy (a listing: warn)
SEC-001||security|should|2577§5|repeated wrong passwords end the session with 421
SEC-002||security|should|2577§7|USER of an unknown user answers 331 (no enumeration)
SEC-003||security|should|959§4.2.1,959§4.2|overlong command lines answer 500 (or close), never a crash
SEC-004||security|interop||unbounded bytes without CRLF lead to a disconnect, not unbounded memory
SEC-005||security|must|959§5.3.2|CR, LF or NUL inside an argument never splits a command
SEC-006||security|must|3659§2.2,1123§3.2.6|IAC IAC in a path is one 0xFF byte; a lone IAC does not crash
SEC-007||security|must|1123§4.1.2.12|Telnet option negotiation is refused or ignored and the next command answered
SEC-008||security|interop||CWD and RETR are confined to the user's root
SEC-009||security|interop||connect-and-reset bursts do not stop the server serving others
SEC-010||security|should|959§4.1.1|PORT, then a close of the control connection: no data connection arrives after the close
TLS-001||ftps|must|4217§4,4217§4.2|AUTH TLS answers 234 and a handshake follows
TLS-002||ftps|should|2228§3,2228§8.2|a second AUTH TLS gets an AUTH reply (RFC 2228 §8.2, or 503) and a refusal leaves the TLS session working
TLS-003||ftps|should|4217§9,2228|PBSZ before AUTH and PROT before PBSZ are refused (503)
TLS-004||ftps|must|4217§9|after PROT P the data connection is really TLS; after an accepted PROT C it is cleartext
TLS-005||ftps|should|2228§8.2,4217§9|PROT S, E and X answer 536/504 (or 501)
TLS-006||ftps|must|4217§6|FEAT lists AUTH TLS, PBSZ and PROT
TLS-007||ftps|must|4217§4.2|a login made before AUTH TLS does not survive it (PWD answers 530 until USER/PASS again)
TLS-008||ftps|should|4217§4.2,4217§10.2|a TLS-required policy refuses clear USER and PROT C transfers
TLS-009||ftps|observe||record data-channel TLS session resumption
TLS-010||ftps|should|4217§5|CCC answers 533 on plaintext; inside TLS 200 (then cleartext) or a refusal
TLS-011||ftps|must|4217§13|REIN under TLS is answered inside TLS (what follows is recorded)
TLS-012||ftps|must|8996§2,8996§3|TLS 1.0 and 1.1 are refused; TLS 1.2 or 1.3 is accepted
TLS-013||ftps|interop|4217§15.1.1,6125|the control-channel certificate chains to the declared CA (else subject, dates and name are reported)
TLS-014||ftps|observe|4217§4|record implicit FTPS (TLS before the greeting) and whether the passive checks hold under it
TLS-015||ftps|should|4217§10.2|PROT P data connections work with the control TLS session resumed and fresh, or refuse the fresh one naming session reuse
HOST-001||host|must|7151§3.1,7151§3.2,7151§3.3|HOST before USER answers 220 (or 500/502 when not implemented)
HOST-002||host|must|7151§3,7151§3.3|HOST after login answers 503
HOST-003||host|must|7151§3.1|HOST with a port answers 501
HOST-004||host|must|7151§3.1,7151§3.2,7151§3.3|HOST naming an unknown host or another address answers 504, then is ignored or the connection closed
HOST-005||host|must|7151§3,7151§3.2.1,7151§3.3|the last HOST wins, REIN resets it, and USER without HOST is accepted
`
