package framework

import (
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/ftp"
)

func transcript(entries ...ftp.Entry) *ftp.Transcript {
	tr := ftp.NewTranscript()
	for _, e := range entries {
		tr.Add(e.Dir, e.Text)
	}
	return tr
}

// The breaker counts checks that failed waiting for the server; any reply
// resets, and a passing check's trailing timeout (a deliberate wait for
// silence) does not count.
func TestLivenessCountsChecksThatEndWaiting(t *testing.T) {
	greetingTimeout := transcript(
		ftp.Entry{Dir: ftp.Note, Text: "connect 127.0.0.1:21"},
		ftp.Entry{Dir: ftp.Note, Text: "read failed: read tcp 127.0.0.1:5->127.0.0.1:21: i/o timeout"})
	answeredThenSilent := transcript(
		ftp.Entry{Dir: ftp.Received, Text: "220 hi"},
		ftp.Entry{Dir: ftp.Sent, Text: "NOOP"},
		ftp.Entry{Dir: ftp.Note, Text: "read failed: context deadline exceeded"})
	silentThenAnswered := transcript(
		ftp.Entry{Dir: ftp.Note, Text: "read failed: i/o timeout"},
		ftp.Entry{Dir: ftp.Received, Text: "220 hi"})
	refused := transcript(ftp.Entry{Dir: ftp.Note, Text: "connect failed: dial tcp 127.0.0.1:21: connect: connection refused"})
	dataTimeout := transcript(
		ftp.Entry{Dir: ftp.Received, Text: "227 Entering Passive Mode (127,0,0,1,1,2)"},
		ftp.Entry{Dir: ftp.Note, Text: "data connect 127.0.0.1:258 failed: i/o timeout"})

	cases := []struct {
		name     string
		trs      []*ftp.Transcript
		failed   bool
		from, to int
	}{
		{"failed on the greeting", []*ftp.Transcript{greetingTimeout}, true, 2, 3},
		{"passed waiting for silence", []*ftp.Transcript{answeredThenSilent}, false, 2, 0},
		{"failed after replies", []*ftp.Transcript{answeredThenSilent}, true, 2, 1},
		{"reply after the timeout", []*ftp.Transcript{silentThenAnswered}, true, 2, 0},
		{"second session answers", []*ftp.Transcript{greetingTimeout, silentThenAnswered}, true, 2, 0},
		{"refused is not a timeout", []*ftp.Transcript{refused}, true, 2, 2},
		{"data connection timeout is not the server going silent", []*ftp.Transcript{dataTimeout}, true, 2, 0},
		{"no session at all", nil, true, 2, 2},
	}
	for _, tc := range cases {
		replied, trailing := lastExchange(tc.trs)
		if got := countTimeouts(tc.from, tc.failed, replied, trailing); got != tc.to {
			t.Errorf("%s: count %d -> %d, want %d", tc.name, tc.from, got, tc.to)
		}
	}
}

// The streak names the checks the count stands for, so the report can keep
// the first one's failure and skip the others (they only waited too).
func TestLivenessStreakNamesTheCountedChecks(t *testing.T) {
	var streak []string
	n := 0
	step := func(id string, failed, replied, trailing bool) {
		n = countTimeouts(n, failed, replied, trailing)
		streak = extendStreak(streak, id, failed && trailing, n)
		if len(streak) != n {
			t.Fatalf("after %s: count %d but streak %v", id, n, streak)
		}
	}
	step("A", true, false, true) // failed waiting: A
	step("B", false, false, false)
	step("C", true, false, true)
	if got := strings.Join(streak, " "); got != "A C" {
		t.Errorf("streak %q, want \"A C\" (B neither replied nor timed out)", got)
	}
	step("D", true, true, true) // replies, then a timeout: starts again
	step("E", true, false, true)
	if got := strings.Join(streak, " "); got != "D E" {
		t.Errorf("streak %q, want \"D E\"", got)
	}
	step("F", false, true, false)
	if streak != nil {
		t.Errorf("a reply ends the streak, got %v", streak)
	}
}
