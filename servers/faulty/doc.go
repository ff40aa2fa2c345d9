// Package faulty is an FTP-aware proxy that sits in front of a real server
// and injects named faults, to prove that each conformance check fails
// when the rule it enforces is broken.
//
// The proxy relays the control connection reply by reply and terminates
// the data connections itself: every 227/229 is rewritten to point at a
// proxy listener (in the proxy's own passive range), whose connections are
// relayed to the server's advertised endpoint, dialled lazily when the
// client connects and from the client's own source address. With no fault
// it is transparent — the suites give the same verdicts through it as
// directly — because it mirrors what the client could observe:
//
//   - ports: with the server's range declared (StartFor / UpstreamRange)
//     the server's port lo+k becomes the proxy's lo'+k, ports outside the
//     range stay outside;
//   - listener lifetime: a proxy listener stays open exactly as long as
//     the server's (probed with NETLINK_SOCK_DIAG before each reply is
//     forwarded, and every 100ms), so stale, reused or leaked listeners
//     behave as they do on the server;
//   - ordering: a reply the server sent after closing a data connection
//     reaches the client after the proxy closed its side; a client's close
//     of one session reaches the server before its next session;
//   - peers: control and data connections are made from the client's
//     addresses, so foreign-peer checks are judged by the server.
//
// FTPS (tls.go): in front of an FTPS server (StartFor takes the target's
// TLS mode and trust, or WithTLS) the proxy terminates TLS on both sides:
// a TLS server to the client with a certificate from its own test CA
// (CAFile; Target names it as the target's TLS CA), a TLS client to the
// server. Explicit (AUTH TLS: the server's side is secured first, then
// the 234 forwarded and the client's side) and implicit (both before the
// greeting); under PROT P both legs of every data connection are TLS, the
// server's resuming the proxy's control session exactly when the client
// resumed its own (vsftpd's require_ssl_reuse sees what the client did).
// Active mode under TLS goes through the proxy too (a PORT/EPRT naming
// the client is pointed at a proxy listener), so the client meets the
// proxy's certificate on every connection.
// A CCC the server accepts takes TLS down on both sides; REIN keeps it (a
// limit: a server that clears TLS after REIN breaks the session; pyftpdlib,
// the one on tap that accepts REIN under TLS, keeps it). Without TLS the
// proxy is byte for byte as before.
//
// IPv6: in front of a server on an IPv6 address the proxy listens on ::1
// (ListenOn chooses), its passive listeners bind the session's address
// family and data connections go to the server over IPv6; only
// pasv-v6-malformed-227 acts on IPv6 sessions alone. Over IPv4 the proxy
// is byte for byte as before.
//
// Faults are registered by name (Lookup, Names, All); each has a one-line
// Doc. The proxy knows no check: what each fault must kill is declared in
// fixtures/mutations.yaml and judged by package matrix.
//
//	p, err := faulty.StartFor(ctx, srv.Target(), faulty.WithFaults(faulty.MustLookup("pasv-wrong-address")))
//	target := p.Target(srv.Target()) // address and passive range to test
package faulty
