package main

import (
	"fmt"
	"strings"
)

// commands are ftpconform's subcommands, each the flag it stands for
// (today's flags keep working as aliases): `ftpconform matrix all` is
// `ftpconform --matrix=all`. arg names the required argument, "" when none.
var commands = []struct {
	name, flag, arg, doc string
}{
	{"run", "", "", "run the checks against a server (the default)"},
	{"list", "list-checks", "", "print the check catalog (ID, severity, RFC, title)"},
	{"labels", "list-labels", "", "print every label usable with --ginkgo.label-filter and what it means"},
	{"expect", "expect", "FILES", "run (or with --verdicts, read) and compare the verdicts with expectation file(s): exit 4 on a difference"},
	{"matrix", "matrix", "SERVERS", "run the suites against local servers (comma list or all), write matrix.md/json"},
	{"mutation", "mutation", "SERVERS", "run the mutation matrix through the fault proxy against local servers (comma list), write mutation-SERVER.md/json"},
}

// commandArgs rewrites a leading subcommand into the flag it stands for;
// arguments that start with a flag are returned as they are.
func commandArgs(args []string) ([]string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return args, nil
	}
	for _, c := range commands {
		if args[0] != c.name {
			continue
		}
		rest := args[1:]
		switch {
		case c.flag == "":
			return rest, nil
		case c.arg == "":
			return append([]string{"--" + c.flag}, rest...), nil
		case len(rest) == 0 || strings.HasPrefix(rest[0], "-"):
			return nil, fmt.Errorf("%s needs %s (e.g. ftpconform %s %s)", c.name, c.arg, c.name, example(c.name))
		}
		return append([]string{"--" + c.flag + "=" + rest[0]}, rest[1:]...), nil
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return nil, fmt.Errorf("unknown command %q (commands: %s; flags start with --)", args[0], strings.Join(names, ", "))
}

func example(cmd string) string {
	switch cmd {
	case "expect":
		return "fixtures/expectations/vsftpd.yaml --ftp.addr=127.0.0.1:2121"
	case "matrix":
		return "all"
	}
	return "pyftpdlib"
}

// commandHelp lists the commands for --help.
func commandHelp() string {
	var b strings.Builder
	for _, c := range commands {
		name := c.name
		if c.arg != "" {
			name += " " + c.arg
		}
		fmt.Fprintf(&b, "  %-17s %s\n", name, c.doc)
	}
	return b.String()
}
