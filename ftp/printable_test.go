package ftp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"220 plain ASCII\tok\n", "220 plain ASCII\tok\n"},
		{"220 caf\u00e9 \u65e5\u672c", "220 caf\u00e9 \u65e5\u672c"},
		{"220 \x1b[31mred\x1b[0m", `220 \x1b[31mred\x1b[0m`},
		{"220 \x1b]8;;http://evil\x07link\x1b]8;;\x07", `220 \x1b]8;;http://evil\x07link\x1b]8;;\x07`},
		{"220 \x1b]52;c;ZXZpbA==\x1b\\", `220 \x1b]52;c;ZXZpbA==\x1b\`},
		{"220 \x9b31m raw C1 byte", `220 \x9b31m raw C1 byte`},
		{"220 \u009b31m C1 rune", `220 \u009b31m C1 rune`},
		{"220 over\rwrite\x00\x7f", `220 over\x0dwrite\x00\x7f`},
		{"220 bad \xff\xfe utf8", `220 bad \xff\xfe utf8`},
	} {
		if got := Printable(c.in); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// assertTerminalSafe fails when s holds a byte a terminal would act on.
func assertTerminalSafe(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s is not valid UTF-8: %q", what, s)
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			t.Errorf("%s holds control %U: %q", what, r, s)
			return
		}
	}
}

func TestRedact(t *testing.T) {
	const pw = "Zq7-secret-pw-9Xk"
	for _, c := range []struct{ in, want string }{
		{"PASS " + pw, "PASS ****"},
		{"pass short", "pass ****"},
		{"PASS", "PASS"},
		{"PASS \r\n", "PASS \r\n"},
		{"USER u\r\nPASS x\r\n", "USER u\r\nPASS ****\r\n"},
		{"USER u\nPASS x\r\n", "USER u\nPASS ****\r\n"},
		{"USER u\rPASS x", "USER u\rPASS ****"},
		{"USER u\x00PASS x y\r\nNOOP\r\n", "USER u\x00PASS ****\r\nNOOP\r\n"},
		{"PASS\tx", "PASS\t****"},
		{"login failed for " + pw + " (" + pw + ")", "login failed for **** (****)"},
		{"the PASS after USER", "the PASS after USER"},
	} {
		if got := MaskPASS(Redact(c.in, pw)); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// A short password is masked after PASS only: masking "ftp" everywhere
	// would mangle "ftp://" and every FTP reply.
	if got := Redact("step PASS ftp: ftp server said no", "ftp"); got != "step PASS ****: ftp server said no" {
		t.Errorf("short secret: %q", got)
	}
	// Messages are not commands: a message starting with the verb keeps
	// its words.
	if got := Redact("PASS after login: 503", pw); got != "PASS after login: 503" {
		t.Errorf("message mangled: %q", got)
	}
}

// TestTranscriptMasksRawPASS sends SEC-005's raw lines and the password
// from the configured secret through a Conn: nothing of it may reach the
// transcript, including a server that echoes the argument back.
func TestTranscriptMasksRawPASS(t *testing.T) {
	const pw = "Zq7-secret-pw-9Xk"
	addr := fakeServer(t, func(c net.Conn) {
		fmt.Fprintf(c, "220 ready\r\n")
		br := bufio.NewReader(c)
		for i := 0; i < 4; i++ {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			fmt.Fprintf(c, "501 bad argument '%s'\r\n", strings.TrimRight(l, "\r\n"))
		}
	})
	ctx := ctxFor(t, 5*time.Second)
	conn, err := Dial(ctx, addr, WithSecrets(pw))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, raw := range []string{"USER u\nPASS " + pw + "\r\n", "USER u\rPASS " + pw + "\r\n", "USER u\x00PASS " + pw + "\r\n"} {
		if err := conn.WriteRaw(ctx, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ReadReply(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Cmd(ctx, "PASS", pw); err != nil {
		t.Fatal(err)
	}
	tr := conn.Transcript().String()
	if strings.Contains(tr, pw) || strings.Contains(tr, "Zq7") {
		t.Errorf("transcript holds the password:\n%s", tr)
	}
	if strings.Count(tr, "PASS ****") < 4 {
		t.Errorf("transcript should show the masked PASS lines:\n%s", tr)
	}
}

// TestHostileBytesRenderedEscaped: a server's banner and replies carry
// ANSI colour, OSC 8 and OSC 52 sequences, a raw C1 CSI and invalid
// UTF-8; the transcript and Reply.String must render none of them raw.
func TestHostileBytesRenderedEscaped(t *testing.T) {
	const evil = "\x1b[31mred\x1b[0m \x1b]8;;http://x\x07l\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07 \x9b2J \xff\xfe \u009b"
	addr := fakeServer(t, func(c net.Conn) {
		fmt.Fprintf(c, "220 %s\r\n", evil)
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
		fmt.Fprintf(c, "200-%s\r\n %s\r\n200 %s\r\n", evil, evil, evil)
		hold(c)
	})
	ctx := ctxFor(t, 5*time.Second)
	conn, err := Dial(ctx, addr, WithStrictReplies(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, err := conn.Cmd(ctx, "NOOP")
	if err != nil {
		t.Fatal(err)
	}
	assertTerminalSafe(t, "greeting", conn.Greeting().String())
	assertTerminalSafe(t, "reply", r.String())
	assertTerminalSafe(t, "reply error", (&ReplyError{Cmd: "NOOP", Reply: r}).Error())
	assertTerminalSafe(t, "transcript", conn.Transcript().String())
}

// A password with a quote, a backslash or non-ASCII bytes is masked in
// the quoted form a raw write is recorded in, too.
func TestRedactQuotedSecret(t *testing.T) {
	const pw = "Zq7\"\\p\u00e4ss"
	addr := fakeServer(t, func(c net.Conn) {
		fmt.Fprintf(c, "220 ready\r\n")
		hold(c)
	})
	ctx := ctxFor(t, 5*time.Second)
	conn, err := Dial(ctx, addr, WithSecrets(pw))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteRaw(ctx, []byte("USER u\x00PASS "+pw+"\r\nSITE "+pw+"\r\n")); err != nil {
		t.Fatal(err)
	}
	if tr := conn.Transcript().String(); strings.Contains(tr, "Zq7") {
		t.Errorf("transcript holds the password:\n%s", tr)
	}
	if got := Redact(fmt.Sprintf("sent %q", "x "+pw), pw); strings.Contains(got, "Zq7") {
		t.Errorf("quoted message holds the password: %s", got)
	}
}
