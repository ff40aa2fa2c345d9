package suites

import (
	"bytes"
	"path"
	"regexp"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/fixtures"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

// mlsxEntry is an RFC 3659 §7.2 entry: facts ("name=value;" each, names
// without SP, values without ";") then exactly one SP and the pathname.
var mlsxEntry = regexp.MustCompile(`^((?:[!-:<>-~]+=[^;\r\n]*;)*) ([^ \r\n][^\r\n]*)$`)

var _ = Describe("LIST", Label("listing"), func() {

	// RFC 959 §4.1.3 LIST: "This command causes a list to be sent from the
	// server to the passive DTP ... If the pathname specifies a directory
	// or other group of files, the server should transfer a list of files
	// in the specified directory. If the pathname specifies a file then
	// the server should send current information on the file. A null
	// argument implies the user's current working or default directory."
	// §5.4: LIST answers 125/150 then 226/250.
	Check("LIST-001", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "list001")
		base := path.Base(name)
		s.Put(ctx, name, []byte("listed\n"))
		for i, cmd := range []string{"LIST " + Scratch(ctx), "LIST", "LIST -la"} {
			if i == 1 {
				Expect(s.Do(ctx, "CWD", Scratch(ctx))).To(HaveClass(2))
			}
			res, data := xferRun(ctx, s, cmd, nil)
			Expect(res).To(Complete(), cmd)
			Expect(string(data)).To(ContainSubstring(base), "%s must list %s: %q", cmd, base, xferHead(data))
		}
	})

	// RFC 1123 §4.1.2.7: "the NLST command ... a list of file names ...
	// can be used as arguments to subsequent commands": each returned name
	// must work with RETR (and SIZE when advertised).
	Check("LIST-002", func(ctx SpecContext) {
		s := Login(ctx)
		dir := Name(ctx, "list002")
		Expect(s.Do(ctx, "MKD", dir)).To(HaveCode(257))
		files := map[string][]byte{"a.bin": fixtures.Bytes(22, 100), "with space.txt": []byte("spaced\n")}
		for n, b := range files {
			s.Put(ctx, path.Join(dir, n), b)
		}
		Expect(s.Do(ctx, "CWD", dir)).To(HaveClass(2))
		s.Do(ctx, "TYPE", "A")
		res, data := xferRun(ctx, s, "NLST", nil)
		Expect(res).To(Complete())
		var names []string
		for _, l := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
			switch l {
			case "":
			case ".", "..":
				// Directory names (valid CWD arguments); some servers
				// (pure-ftpd) include them.
				Observe("NLST lists", l)
			default:
				names = append(names, l)
			}
		}
		sort.Strings(names)
		Expect(names).To(Equal([]string{"a.bin", "with space.txt"}), "NLST in a directory holding exactly these files: %q", data)
		for _, n := range names {
			got := s.Get(ctx, n)
			Expect(got).To(Equal(files[n]), "RETR %q (a name NLST returned)", n)
			if Feat(ctx).Has("SIZE") {
				Expect(s.Do(ctx, "SIZE", n)).To(HaveCode(213), "SIZE %q (a name NLST returned)", n)
			}
		}
	})

	// RFC 3659 §7.2: "entry = [ facts ] SP pathname", "Implementations MUST
	// NOT vary the format by ... including header or title lines, or
	// inserting blank lines"; the data connection is "as if the "TYPE L 8"
	// ... commands had been given ... and without causing those settings to
	// be altered for future commands."
	Check("LIST-003", func(ctx SpecContext) {
		Require(ctx, "MLSD")
		s := Login(ctx)
		dir := Name(ctx, "list003")
		Expect(s.Do(ctx, "MKD", dir)).To(HaveCode(257))
		text := path.Join(dir, "text.txt")
		s.Put(ctx, text, fixtures.TextLF(20))
		s.Put(ctx, path.Join(dir, "b.bin"), fixtures.Bytes(23, 10))

		Expect(s.Do(ctx, "TYPE", "A")).To(HaveCode(200))
		res, before := xferRun(ctx, s, "RETR "+text, nil)
		Expect(res).To(Complete(), "RETR in TYPE A before MLSD")

		res, data := xferRun(ctx, s, "MLSD "+dir, nil)
		Expect(res).To(Complete())
		Expect(bytes.HasSuffix(data, []byte("\r\n"))).To(BeTrue(), "MLSD data must end with CRLF: %q", data)
		seen := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
			m := mlsxEntry.FindStringSubmatch(l)
			Expect(m).NotTo(BeNil(), "MLSD line is not \"fact=value;...; name\" (no headers, blank lines or bare LF): %q\nlisting: %q", l, data)
			seen[path.Base(m[2])] = true
		}
		Expect(seen).To(HaveKey("text.txt"), "MLSD %s: %q", dir, data)
		Expect(seen).To(HaveKey("b.bin"), "MLSD %s: %q", dir, data)

		res, after := xferRun(ctx, s, "RETR "+text, nil)
		Expect(res).To(Complete(), "RETR after MLSD")
		Expect(xferSame(after, before)).To(BeEmpty(), "MLSD must not change the TYPE: a TYPE A RETR differs before and after it")
	})

	// RFC 3659 §7.1: "If a directory name is given then MLSD must return a
	// listing of the contents of the named directory, otherwise it issues a
	// 501 reply, and does not open a data connection." §7.2.1: "Giving a
	// pathname that exists but is not a directory as the argument to a
	// MLSD command generates a 501 reply."
	Check("LIST-004", func(ctx SpecContext) {
		Require(ctx, "MLSD")
		s := Login(ctx)
		name := Name(ctx, "list004")
		s.Put(ctx, name, []byte("a file, not a directory\n"))
		nc := s.Data(ctx, false)
		r := s.Do(ctx, "MLSD", name)
		if r.Preliminary() {
			nc.Close()
			final := s.Next(ctx)
			Fail("MLSD of a file opened a data transfer: " + r.String() + " then " + final.String() + " (expected 501 without a data connection)")
		}
		Expect(r).To(HaveCode(501), "MLSD of a file")
		nc.Close()
		Expect(s.Do(ctx, "NOOP")).To(HaveCode(200))
	})

	// RFC 3659 §7.2: control-response = "250-" [ response-message ] CRLF
	// 1*( SP entry CRLF ) "250" ...; "Normally exactly one entry would be
	// returned"; "Exactly one space exists between the set of facts and the
	// pathname."
	Check("LIST-005", func(ctx SpecContext) {
		Require(ctx, "MLST")
		s := Login(ctx)
		name := Name(ctx, "list005")
		s.Put(ctx, name, []byte("mlst me\n"))
		r := s.Do(ctx, "MLST", name)
		Expect(r).To(And(HaveCode(250), BeWellFormed()))
		Expect(r.Lines).To(HaveLen(3), "MLST reply must be 250-, one entry line, 250: %q", r.Raw)
		Expect(r.Lines[0]).To(HavePrefix("250-"), "%q", r.Raw)
		entry := r.Lines[1]
		Expect(entry).To(HavePrefix(" "), "the entry line must begin with one space: %q", r.Raw)
		m := mlsxEntry.FindStringSubmatch(entry[1:])
		Expect(m).NotTo(BeNil(), "entry must be \"fact=value;...; pathname\": %q", entry)
		Expect(path.Base(m[2])).To(Equal(path.Base(name)), "MLST entry names the file asked for: %q", entry)
		Expect(r.Lines[2]).To(HavePrefix("250 "), "%q", r.Raw)
	})

	// RFC 3659 §7.2.1: "Giving a name that does not exist, or for which
	// access permission ... is not granted will elicit a 550 reply. Other
	// replies (530, 553, 503, 504, and any of the 4xy replies) are also
	// possible"; RFC 959 §5.4: LIST answers 450 (550 is common) when the file
	// is unavailable. RFC 959 does not forbid LIST from listing nothing for a
	// missing path; sending error text as listing data only warns (INTEROP).
	Check("LIST-006", func(ctx SpecContext) {
		s := Login(ctx)
		missing := path.Join(Scratch(ctx), "no-such-dir-list006")
		if Feat(ctx).Has("MLSD") {
			By("MLSD of a missing path")
			nc := s.Data(ctx, false)
			r := s.Do(ctx, "MLSD", missing)
			if r.Preliminary() {
				nc.Close()
				final := s.Next(ctx)
				Fail("MLSD of a missing path started a transfer: " + r.String() + " then " + final.String())
			}
			nc.Close()
			Expect(r.Code == 550 || r.Class() == 4).To(BeTrue(), "sent MLSD %s (no such path), got %q; RFC 3659 §7.2.1 wants 550 (or a 4xy); fix: answer 550", missing, r.Raw)
		}
		By("LIST of a missing path")
		res, data := xferRun(ctx, s, "LIST "+missing, nil)
		Expect(res.Replies).NotTo(BeEmpty(), "LIST %s: %s", missing, res)
		if res.Replies[0].Preliminary() {
			// Started anyway: acceptable if it lists nothing, or ends
			// with the not-found error (ProFTPD: 150 then 450; the
			// sequence itself is REPLY-003's business).
			Expect(res.Replies).To(HaveLen(2), "LIST %s: %s", missing, res)
			if res.Final().Is(450, 550) {
				Observe("LIST of a missing path", res.String())
			} else {
				Expect(res).To(Complete())
				if len(data) > 0 {
					Warn("LIST-006 (INTEROP): LIST %s (no such path) answered %s and sent %d bytes of listing data (%.80q); clients parse that as directory entries; fix: answer 450 or 550 without a transfer", missing, res, len(data), data)
				}
			}
		} else {
			first := res.Replies[0]
			Expect(first.Is(450, 550) || first.Class() == 4).To(BeTrue(), "sent LIST %s (no such path), got %q; RFC 959 §5.4 refuses with 450 (550 and other 4xy are common); fix: answer 450 or 550", missing, first.Raw)
		}
		Expect(s.Do(ctx, "NOOP")).To(HaveCode(200))
	})
})
