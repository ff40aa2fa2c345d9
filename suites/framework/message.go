package framework

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/onsi/gomega/format"
)

// Gomega renders the values of a failed expectation for a Go programmer
// (`<[]string | len:2, cap:2>: [...]`, `<*net.OpError | 0xc000...>: {...}`);
// a verdict reason is read by whoever runs the server. These formatters
// render the values the specs compare as text (a problem list as "a; b",
// an error as its message, a reply as its text, a string quoted), and Tidy
// drops Gomega's framing.
func init() {
	format.RegisterCustomFormatter(func(v any) (string, bool) {
		switch x := v.(type) {
		case string:
			return strconv.Quote(x), true
		case []string:
			return strings.Join(x, "; "), true
		case error:
			return x.Error(), true
		case fmt.Stringer:
			return x.String(), true
		}
		return "", false
	})
}

// gomegaTag is the type Gomega prints before a value, "<[]string | len:2,
// cap:2>: " or "<*ftp.OpError | 0xc000123>: ".
var gomegaTag = regexp.MustCompile(`^<[^<>]*>: ?`)

// Tidy turns a Gomega failure message into one line in the verdict
// reason's shape: the spec's description (what was sent, what came back,
// the rule, the fix), then what Gomega compared, without Go types,
// pointers or lengths:
//
//	desc\nExpected\n    <[]string | len:2, cap:2>: a; b\nto be empty  →  desc: a; b
//	desc\nUnexpected error:\n    <*ftp.OpError | 0x...>: \n    EOF\n    EOF\noccurred  →  desc: error: EOF
//	desc\nExpected success, but got an error:\n    <*ftp.OpError | 0x...>: EOF  →  desc: error: EOF
//	desc\nExpected\n    <string>: "500 x"\nto have prefix\n    <string>: "200"  →  desc: got "500 x", expected to have prefix "200"
//
// A description followed by a matcher of suites/matchers ("want reply
// code 501, got ...") becomes "desc: want ...". Any other message (one
// in no Gomega shape, Problem's) is returned as it is.
func Tidy(msg string) string {
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	for i, l := range lines {
		switch t := strings.TrimSpace(l); {
		case t == "Expected":
			return tidyExpected(lines[:i], lines[i+1:], msg)
		case t == "Unexpected error:":
			return tidyError(lines[:i], lines[i+1:], msg)
		case t == "Expected success, but got an error:": // Succeed()
			return join(oneLine(lines[:i]), "error: "+valueText(lines[i+1:]))
		case i > 0 && strings.HasPrefix(l, "want "):
			return join(oneLine(lines[:i]), oneLine(lines[i:]))
		}
	}
	return msg
}

// tidyExpected renders "desc Expected <actual> phrase [<expected>]".
func tidyExpected(desc, rest []string, msg string) string {
	actual, rest := values(rest)
	if len(rest) == 0 {
		return msg
	}
	phrase := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rest[0]), "|"))
	expected, after := values(rest[1:])
	d := oneLine(desc)
	got, want := valueText(actual), valueText(expected)
	var out string
	switch {
	case phrase == "to be empty" && got != "" && coveredBy(d, actual):
		out = d
	case phrase == "to be empty":
		out = join(d, got)
	case (phrase == "to be true" || phrase == "to be false") && d != "":
		out = d
	case got != "" && strings.Contains(d, got):
		out = join(d, strings.TrimSpace(fmt.Sprintf("expected %s %s", phrase, want)))
	default:
		out = join(d, strings.TrimSpace(fmt.Sprintf("got %s, expected %s %s", got, phrase, want)))
	}
	if len(after) > 0 {
		out += " " + oneLine(after)
	}
	return out
}

// tidyError renders "desc Unexpected error: <err> occurred".
func tidyError(desc, rest []string, msg string) string {
	v, after := values(rest)
	if len(after) == 0 || strings.TrimSpace(after[0]) != "occurred" {
		return msg
	}
	out := join(oneLine(desc), "error: "+valueText(v))
	if len(after) > 1 {
		out += " " + oneLine(after[1:])
	}
	return out
}

// values splits off the indented lines that start lines (a value Gomega
// printed) from the rest.
func values(lines []string) (value, rest []string) {
	i := 0
	for i < len(lines) && (strings.HasPrefix(lines[i], " ") || strings.HasPrefix(lines[i], "\t")) {
		i++
	}
	return lines[:i], lines[i:]
}

// valueText is a value Gomega printed, on one line, without its type tag
// and with a line repeated right after itself (an error's message, printed
// once by Gomega and once by the formatter) once.
func valueText(lines []string) string {
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(gomegaTag.ReplaceAllString(strings.TrimSpace(l), ""))
		if l == "" || (len(out) > 0 && out[len(out)-1] == l) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, " ")
}

// coveredBy reports whether the description already quotes every item of
// a problem list (specs often print the list into it).
func coveredBy(desc string, actual []string) bool {
	if desc == "" {
		return false
	}
	for _, item := range strings.Split(valueText(actual), "; ") {
		if !strings.Contains(desc, strings.Join(strings.Fields(item), " ")) {
			return false
		}
	}
	return true
}

func oneLine(lines []string) string {
	return strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
}

func join(desc, what string) string {
	switch {
	case desc == "":
		return what
	case what == "":
		return desc
	case strings.HasSuffix(desc, ":"):
		return desc + " " + what
	}
	return desc + ": " + what
}
