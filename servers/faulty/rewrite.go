package faulty

import (
	"bytes"
	"strings"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// Rewriting faults: a server that validates too little, emulated by
// changing what one command sends upstream (its argument) or what its
// reply says. The proxy dials nothing on the client's behalf: a PORT the
// server refused stays refused at the server, only its reply changes.

// cmdRewrite changes the command line the server gets: ok false leaves it.
type cmdRewrite func(verb, arg string) (line string, ok bool)

// localAnswer answers a command in the server's place (it never reaches
// the server): nil lets it through.
type localAnswer func(verb, arg string, loggedIn bool) []byte

// replyRewrite changes the server's reply to one command: nil leaves it.
type replyRewrite func(c call) []byte

// call is a reply with the command it answers, as a replyRewrite sees it.
type call struct {
	verb, arg string
	r         ftp.Reply
	account   string // the account the proxy was started for (StartFor)
}

// argsIgnored: arguments of PASV and FEAT (which take none) and an EPSV
// argument that is neither a protocol number nor ALL never reach the
// server, as a server that ignores what it does not parse.
func argsIgnored(verb, arg string) (string, bool) {
	a := strings.TrimSpace(arg)
	switch {
	case a == "":
		return "", false
	case verb == "PASV" || verb == "FEAT":
		return verb + "\r\n", true
	case verb == "EPSV" && !strings.EqualFold(a, "ALL") && !allDigits(a):
		return "EPSV\r\n", true
	}
	return "", false
}

// portDropped: once logged in, PORT and EPRT are answered 200 and never
// reach the server, which has no data address for the transfer that
// follows (the proxy connects nowhere).
func portDropped(verb, _ string, loggedIn bool) []byte {
	if !loggedIn || (verb != "PORT" && verb != "EPRT") {
		return nil
	}
	return []byte("200 " + verb + " command successful.\r\n")
}

// typeParams504: TYPE with a second parameter (TYPE A N, TYPE L 8) is
// refused 504 by the proxy, as a server that knows only TYPE A and TYPE I.
func typeParams504(verb, arg string, _ bool) []byte {
	if verb != "TYPE" || len(strings.Fields(arg)) < 2 {
		return nil
	}
	return []byte("504 Command not implemented for that parameter.\r\n")
}

// restGarbageZero: a REST marker that is not all digits reaches the server
// as REST 0, as a server that reads it with atoi.
func restGarbageZero(verb, arg string) (string, bool) {
	a := strings.TrimSpace(arg)
	if verb != "REST" || a == "" || allDigits(a) {
		return "", false
	}
	return "REST 0\r\n", true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigitByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// allVerbs makes refusedAs apply to every command.
const allVerbs = "*"

// refusedAs answers a refusal (one of codes) of one of verbs (a space
// separated list, or allVerbs) with line.
func refusedAs(verbs string, codes []int, line string) replyRewrite {
	vs := strings.Fields(verbs)
	return func(c call) []byte {
		if (verbs != allVerbs && !contains(vs, c.verb)) || c.verb == "" || !c.r.Is(codes...) {
			return nil
		}
		return []byte(line + "\r\n")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// failedTransfer226: a transfer the server reports failed (425 no data
// connection, 426 connection closed) is answered 226 instead.
func failedTransfer226(c call) []byte {
	if !transferVerbs[c.verb] || !c.r.Is(425, 426) {
		return nil
	}
	return []byte("226 Transfer complete.\r\n")
}

// unimplemented200: a known command the server does not implement (502,
// or 500 not understood) is answered 200.
func unimplemented200(c call) []byte {
	if !knownVerbs[c.verb] || !c.r.Is(500, 502) {
		return nil
	}
	return []byte("200 Command okay.\r\n")
}

// unknownUser530: USER naming another account than the proxy's is
// answered 530, as a server that tells which names exist.
func unknownUser530(c call) []byte {
	if c.verb != "USER" || c.account == "" || c.r.Code != 331 || strings.TrimSpace(c.arg) == c.account {
		return nil
	}
	return []byte("530 Login incorrect: no such user.\r\n")
}

// pwd250: a successful PWD is answered 250 (with the same text).
func pwd250(c call) []byte {
	if (c.verb != "PWD" && c.verb != "XPWD") || c.r.Code != 257 {
		return nil
	}
	return recode(c.r, 250)
}

// unquoted257: the path of a 257 reply loses its quotes: "a""b" → a"b.
func unquoted257(c call) []byte {
	if c.r.Code != 257 {
		return nil
	}
	raw := c.r.Raw
	i := bytes.IndexByte(raw, '"')
	if i < 0 {
		return nil
	}
	var path []byte
	j := i + 1
	for ; j < len(raw); j++ {
		if raw[j] != '"' {
			path = append(path, raw[j])
			continue
		}
		if j+1 < len(raw) && raw[j+1] == '"' {
			path = append(path, '"')
			j++
			continue
		}
		break
	}
	if j >= len(raw) {
		return nil
	}
	return append(append(append([]byte(nil), raw[:i]...), path...), raw[j+1:]...)
}

// rewriteReply applies the reply rewrites of the session's faults.
func (s *session) rewriteReply(verb, arg string, r ftp.Reply) []byte {
	c := call{verb: verb, arg: arg, r: r, account: s.p.cfg.account}
	for _, rw := range s.p.b.replies {
		if out := rw(c); out != nil {
			s.logf("rewrote %q to %q", r.Lines[0], bytes.TrimRight(out, "\r\n"))
			return out
		}
	}
	return nil
}

// answerLocally is the first local answer of the session's faults to a
// command, or nil.
func (s *session) answerLocally(verb, arg string, loggedIn bool) []byte {
	for _, a := range s.p.b.answers {
		if out := a(verb, arg, loggedIn); out != nil {
			s.logf("answered %s locally: %q", verb, bytes.TrimRight(out, "\r\n"))
			return out
		}
	}
	return nil
}

// rewriteCommand applies the command rewrites of the session's faults.
func (s *session) rewriteCommand(verb, arg string) ([]byte, bool) {
	for _, rw := range s.p.b.commands {
		if line, ok := rw(verb, arg); ok {
			s.logf("sent %q upstream instead", strings.TrimSpace(line))
			return []byte(line), true
		}
	}
	return nil, false
}

// greetAgainAfter is how long greeting-repeated waits for the client's
// first command before it repeats the greeting.
const greetAgainAfter = 150 * time.Millisecond

// greetAgain repeats the greeting raw when the client has sent nothing
// greetAgainAfter after it (a client that speaks at once never sees it).
func (s *session) greetAgain(raw []byte) {
	t := time.NewTimer(greetAgainAfter)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
		return
	}
	s.mu.Lock()
	quiet := s.commands == 0
	s.mu.Unlock()
	if quiet {
		s.logf("greeting-repeated: no command yet, greeting again")
		s.client().Write(raw)
	}
}

// holdAfterQuit keeps the client's control connection open after the
// server closed its own following a 221 to QUIT, until the client closes
// (or a minute passes).
func (s *session) holdAfterQuit() {
	s.mu.Lock()
	hold := s.quit221 && s.p.b.quitKeepsOpen
	s.mu.Unlock()
	if !hold {
		return
	}
	s.logf("quit-keeps-open: holding the client's connection after 221")
	select {
	case <-s.clientEOF:
	case <-time.After(time.Minute):
	}
}
