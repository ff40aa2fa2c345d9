package report_test

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/ftpharness/ftpharness/suites/report"
)

// TestReportersEscapeServerBytes: a reason, observation and transcript
// carrying a server's ANSI/OSC sequences, a raw C1 CSI and invalid UTF-8
// reach neither the terminal summary nor the HTML page raw.
func TestReportersEscapeServerBytes(t *testing.T) {
	const evil = "\x1b[31mred \x1b]8;;http://x\x07l\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07 \x9b2J \xff \u009b"
	run := report.Run{Schema: report.Schema, Target: "127.0.0.1:21 " + evil, Verdicts: []report.Verdict{
		{ID: "REPLY-001", Severity: "must", Title: "t", Result: report.Fail, Reason: "220 " + evil, Transcript: "< 220 " + evil + "\n"},
		{ID: "SEC-001", Severity: "observe", Title: "t", Result: report.Observe, Reason: evil, Observations: []string{evil}},
	}}
	var text, page bytes.Buffer
	if err := run.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{"text summary": text.Bytes(), "HTML": page.Bytes()} {
		if !utf8.Valid(b) {
			t.Errorf("%s is not valid UTF-8", what)
		}
		for _, r := range string(b) {
			if (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r <= 0x9f) {
				t.Errorf("%s holds control %U:\n%q", what, r, b)
				break
			}
		}
	}
}
