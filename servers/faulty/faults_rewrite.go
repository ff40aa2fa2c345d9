package faulty

// Rewriting faults (rewrite.go): each lets through what one rule says a
// server must refuse, or answers a command with a code its reply row does
// not list. Each rewrites one command or one reply; none dials anything.
func init() {
	register(Fault{Name: "seq-args-ignored",
		Doc: "an argument PASV or FEAT do not take, and an EPSV argument that is neither a protocol number nor ALL, is dropped before the server sees it (PASV x is answered 227)",
		b:   behaviour{commands: []cmdRewrite{argsIgnored}}})
	register(Fault{Name: "seq-rest-garbage-zero",
		Doc: "a REST marker that is not all digits reaches the server as REST 0 (REST abc is answered 350)",
		b:   behaviour{commands: []cmdRewrite{restGarbageZero}}})
	register(Fault{Name: "seq-port-refusal-200",
		Doc: "a PORT or EPRT the server refuses (500, 501, 504, 522: a third-party address, a privileged port, a malformed argument) is answered 200; the server still has no data address",
		b:   behaviour{replies: []replyRewrite{refusedAs("PORT EPRT", []int{500, 501, 504, 522}, "200 PORT command successful.")}}})
	register(Fault{Name: "active-port-dropped",
		Doc: "once logged in, PORT and EPRT are answered 200 by the proxy and never reach the server: the transfer that follows has no data address",
		b:   behaviour{answers: []localAnswer{portDropped}}})
	register(Fault{Name: "seq-pass-refusal-230",
		Doc: "a PASS the server refuses (503 without USER, 530 wrong password) is answered 230 (the server itself is still not logged in)",
		b:   behaviour{replies: []replyRewrite{refusedAs("PASS", []int{503, 530}, "230 User logged in, proceed.")}}})
	register(Fault{Name: "seq-user-unknown-530",
		Doc: "USER naming another account than the one the proxy was started for is answered 530 instead of the server's 331 (user names can be enumerated)",
		b:   behaviour{replies: []replyRewrite{unknownUser530}}})
	register(Fault{Name: "seq-greeting-repeated",
		Doc: "the greeting is sent a second time when the client has sent no command 150ms after it (an unsolicited second reply)",
		b:   behaviour{greetAgain: true}})
	register(Fault{Name: "seq-quit-keeps-open",
		Doc: "after 221 to QUIT the control connection stays open until the client closes it",
		b:   behaviour{quitKeepsOpen: true}})
	register(Fault{Name: "seq-type-refusal-200",
		Doc: "a TYPE, MODE or STRU the server refuses (500, 501, 504) is answered 200 (the server keeps its old setting)",
		b:   behaviour{replies: []replyRewrite{refusedAs("TYPE MODE STRU", []int{500, 501, 504}, "200 Command okay.")}}})
	register(Fault{Name: "seq-rnfr-missing-350",
		Doc: "RNFR the server refuses with 450/550 (no such file) is answered 350",
		b:   behaviour{replies: []replyRewrite{refusedAs("RNFR", []int{450, 550}, "350 Requested file action pending further information.")}}})
	register(Fault{Name: "seq-opts-refusal-200",
		Doc: "an OPTS the server refuses (500, 501, 502, 504: an unknown command or option) is answered 200",
		b:   behaviour{replies: []replyRewrite{refusedAs("OPTS", []int{500, 501, 502, 504}, "200 OPTS command successful.")}}})
	register(Fault{Name: "seq-unimplemented-200",
		Doc: "a known command the server does not implement (502, or 500 not understood) is answered 200",
		b:   behaviour{replies: []replyRewrite{unimplemented200}}})
	register(Fault{Name: "seq-type-params-504",
		Doc: "TYPE with a second parameter (TYPE A N, TYPE L 8) is answered 504 by the proxy, as by a server that knows only TYPE A and TYPE I",
		b:   behaviour{answers: []localAnswer{typeParams504}}})
	register(Fault{Name: "data-failure-226",
		Doc: "a transfer the server reports failed (425 no data connection, 426 connection closed) is answered 226",
		b:   behaviour{replies: []replyRewrite{failedTransfer226}}})
	register(Fault{Name: "xfer-quit-drops-transfer",
		Doc: "QUIT while a download runs is answered 221 by the proxy at once and the connection closed, with no reply for the transfer",
		b:   behaviour{quitDrops: true}})
	register(Fault{Name: "reply-pwd-250",
		Doc: "a successful PWD/XPWD is answered 250 instead of 257 (same text)",
		b:   behaviour{replies: []replyRewrite{pwd250}}})
	register(Fault{Name: "reply-257-unquoted",
		Doc: "257 replies (PWD, MKD) carry the path without its quotes and with embedded quotes single",
		b:   behaviour{replies: []replyRewrite{unquoted257}}})
}
