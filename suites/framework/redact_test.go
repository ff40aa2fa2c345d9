package framework

import (
	"testing"

	"github.com/ftpharness/ftpharness/target"
)

// Sanitize masks the configured password and escapes what a server could
// use to drive a terminal (a file name from a listing, a reply).
func TestSanitize(t *testing.T) {
	old := Config()
	defer SetConfig(old)
	c := target.Defaults()
	c.Password = "Zq7-secret-pw-9Xk"
	SetConfig(c)
	in := "NLST listed \"\x1b]52;c;ZXZpbA==\x07evil\x9b.txt\" after PASS Zq7-secret-pw-9Xk\nsecond line"
	want := `NLST listed "\x1b]52;c;ZXZpbA==\x07evil\x9b.txt" after PASS ****` + "\nsecond line"
	if got := Sanitize(in); got != want {
		t.Errorf("Sanitize:\n got %q\nwant %q", got, want)
	}
}
