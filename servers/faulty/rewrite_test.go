package faulty

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

func TestCommandRewrites(t *testing.T) {
	for _, c := range []struct {
		rw        cmdRewrite
		verb, arg string
		want      string // "" = unchanged
	}{
		{argsIgnored, "PASV", "x", "PASV\r\n"},
		{argsIgnored, "PASV", "", ""},
		{argsIgnored, "FEAT", "x", "FEAT\r\n"},
		{argsIgnored, "EPSV", "foo", "EPSV\r\n"},
		{argsIgnored, "EPSV", "2", ""},
		{argsIgnored, "EPSV", "all", ""},
		{argsIgnored, "RETR", "x", ""},
		{restGarbageZero, "REST", "abc", "REST 0\r\n"},
		{restGarbageZero, "REST", "-1", "REST 0\r\n"},
		{restGarbageZero, "REST", "100", ""},
		{restGarbageZero, "RETR", "abc", ""},
	} {
		got, ok := c.rw(c.verb, c.arg)
		if (c.want != "") != ok || got != c.want {
			t.Errorf("%s %s: got %q %v, want %q", c.verb, c.arg, got, ok, c.want)
		}
	}
}

func reply(t *testing.T, raw string) ftp.Reply {
	t.Helper()
	r, err := ftp.NewReplyReader(strings.NewReader(raw), 4096).ReadReply()
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return r
}

func TestReplyRewrites(t *testing.T) {
	port := refusedAs("PORT EPRT", []int{500, 501}, "200 PORT command successful.")
	for _, c := range []struct {
		rw              replyRewrite
		verb, arg, resp string
		want            string // "" = unchanged
	}{
		{port, "PORT", "1,2,3,4,0,80", "501 Rejected.\r\n", "200 PORT command successful.\r\n"},
		{port, "EPRT", "|1|1.2.3.4|80|", "500 Bad.\r\n", "200 PORT command successful.\r\n"},
		{port, "PORT", "1,2,3,4,0,80", "530 Not logged in.\r\n", ""},
		{port, "PASV", "", "501 x\r\n", ""},
		{unknownUser530, "USER", "nosuch", "331 Password please.\r\n", "530 Login incorrect: no such user.\r\n"},
		{unknownUser530, "USER", "ftpuser", "331 Password please.\r\n", ""},
		{pwd250, "PWD", "", "257 \"/\" is current.\r\n", "250 \"/\" is current.\r\n"},
		{pwd250, "MKD", "x", "257 \"/x\" created.\r\n", ""},
		{unquoted257, "MKD", `q"uote`, "257 \"/q\"\"uote\" created.\r\n", "257 /q\"uote created.\r\n"},
		{unquoted257, "PWD", "", "257 \"/\"\r\n", "257 /\r\n"},
		{unquoted257, "PWD", "", "257 no quotes\r\n", ""},
	} {
		got := c.rw(call{verb: c.verb, arg: c.arg, r: reply(t, c.resp), account: "ftpuser"})
		if string(got) != c.want {
			t.Errorf("%s %s answered %q: got %q, want %q", c.verb, c.arg, c.resp, got, c.want)
		}
	}
}

func TestRewritesThroughProxy(t *testing.T) {
	_, tg := withFault(t, "seq-rnfr-missing-350")
	c := login(t, tg)
	if r, err := c.Cmd(tctx(t), "RNFR", "no-such-file"); err != nil || r.Code != 350 {
		t.Errorf("RNFR of a missing file: %s %v, want 350", r, err)
	}
	_, tg = withFault(t, "seq-pass-refusal-230")
	c = dial(t, tg)
	c.Cmd(tctx(t), "USER", tg.User)
	if r, err := c.Cmd(tctx(t), "PASS", "wrong"); err != nil || r.Code != 230 {
		t.Errorf("wrong PASS: %s %v, want 230", r, err)
	}
	_, tg = withFault(t, "seq-user-unknown-530")
	c = dial(t, tg)
	if r, err := c.Cmd(tctx(t), "USER", "nosuchuser"); err != nil || r.Code != 530 {
		t.Errorf("USER nosuchuser: %s %v, want 530", r, err)
	}
	login(t, tg) // the proxy's own account still logs in
}

func TestGreetingRepeated(t *testing.T) {
	_, tg := withFault(t, "seq-greeting-repeated")
	c := dial(t, tg)
	r, err := c.ReadReply(tctx(t))
	if err != nil || r.Code != 220 {
		t.Fatalf("after a silent 300ms: %s %v, want a second 220", r, err)
	}
	login(t, tg) // a client that speaks at once never sees it
}

func TestQuitKeepsOpen(t *testing.T) {
	_, tg := withFault(t, "seq-quit-keeps-open")
	c := login(t, tg)
	if r, err := c.Cmd(tctx(t), "QUIT"); err != nil || r.Code != 221 {
		t.Fatalf("QUIT: %s %v", r, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.ReadEOF(ctx); err == nil {
		t.Error("the connection closed after 221; want it held open")
	}
}

func TestMoreRewrites(t *testing.T) {
	if typeParams504("TYPE", "A N", true) == nil || typeParams504("TYPE", "I", true) != nil {
		t.Error("seq-type-params-504: TYPE A N must be refused, TYPE I let through")
	}
	for _, c := range []struct{ verb, resp, want string }{
		{"SITE", "502 Not implemented.\r\n", "200 Command okay.\r\n"},
		{"ACCT", "500 Command \"ACCT\" not understood.\r\n", "200 Command okay.\r\n"},
		{"XYZZ", "500 Unknown command.\r\n", ""},
		{"CWD", "550 No such directory.\r\n", ""},
	} {
		if got := unimplemented200(call{verb: c.verb, r: reply(t, c.resp)}); string(got) != c.want {
			t.Errorf("seq-unimplemented-200, %s answered %q: got %q, want %q", c.verb, c.resp, got, c.want)
		}
	}
	if got := failedTransfer226(call{verb: "LIST", r: reply(t, "425 Can't open data connection.\r\n")}); string(got) != "226 Transfer complete.\r\n" {
		t.Errorf("data-failure-226: got %q", got)
	}
	if got := failedTransfer226(call{verb: "CWD", r: reply(t, "425 x\r\n")}); got != nil {
		t.Errorf("data-failure-226 on CWD: got %q", got)
	}
}
