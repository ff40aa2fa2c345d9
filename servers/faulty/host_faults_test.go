package faulty

import (
	"testing"

	"github.com/ftpharness/ftpharness/ftp"
)

func TestHostLocal(t *testing.T) {
	cases := []struct {
		f        hostFault
		arg      string
		loggedIn bool
		seen     int
		want     string // "" = forwarded
	}{
		{hostAfterLogin, "127.0.0.1", true, 0, "220"},
		{hostAfterLogin, "127.0.0.1", false, 0, ""},
		{hostPortOK, "192.0.2.1:21", false, 0, "220"},
		{hostPortOK, "[::1]:21", false, 0, "220"},
		{hostPortOK, "[::1]", false, 0, ""},
		{hostPortOK, "2001:db8::1", false, 0, ""},
		{hostPortOK, "ftp.example.com", false, 0, ""},
		{hostRepeat503, "127.0.0.1", false, 0, ""},
		{hostRepeat503, "127.0.0.1", false, 1, "503"},
		{hostRepeat503, "127.0.0.1", true, 1, ""},
	}
	for _, c := range cases {
		got := hostLocal(c.f, c.arg, c.loggedIn, c.seen)
		if code := string(got[:min(3, len(got))]); code != c.want {
			t.Errorf("fault %d, HOST %s (logged in %v, %d before): got %q, want %q", c.f, c.arg, c.loggedIn, c.seen, got, c.want)
		}
	}
}

func TestHostReply(t *testing.T) {
	ok := ftp.Reply{Code: 220, Raw: []byte("220 HOST command successful\r\n")}
	unknown := ftp.Reply{Code: 504, Raw: []byte("504 x.invalid: Unknown hostname provided\r\n")}
	if got := string(hostReply(hostOK200, ok)); got != "200 HOST command successful\r\n" {
		t.Errorf("host-ok-200: %q", got)
	}
	if got := hostReply(hostOK200, unknown); got != nil {
		t.Errorf("host-ok-200 changed a 504: %q", got)
	}
	if got := string(hostReply(hostUnknownOK, unknown)); got != "220 x.invalid: Unknown hostname provided\r\n" {
		t.Errorf("host-unknown-accepted: %q", got)
	}
}
