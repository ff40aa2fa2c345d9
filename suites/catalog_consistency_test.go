package suites_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/suites/catalog"
)

// spec is one Check/Planned registration found in a spec file.
type spec struct {
	id, pos string
	cites   []string // RFC sections the comment above it cites, as "959§4.1.2"
	noRule  bool     // the comment starts "No RFC rule" (a row citing no RFC)
}

// TestCatalogConsistency parses the spec files: every catalog row has
// exactly one spec (Check or Planned), no spec names an unknown ID, and
// the RFC sections cited in the comment above each spec are the row's. A
// row that cites no RFC may say why in a comment starting "No RFC rule",
// whose RFC references are context, not citations.
func TestCatalogConsistency(t *testing.T) {
	specs := parseSpecs(t)
	seen := map[string][]string{}
	for _, s := range specs {
		seen[s.id] = append(seen[s.id], s.pos)
		c, ok := catalog.Get(s.id)
		if !ok {
			t.Errorf("%s: spec for %s, which is not a catalog row", s.pos, s.id)
			continue
		}
		want := normCites(c.RFCs)
		if len(want) == 0 && s.noRule {
			continue // "No RFC rule: ..." cites RFCs only as context
		}
		if !slices.Equal(s.cites, want) {
			t.Errorf("%s: %s: the comment above the spec cites %v, the catalog row %v", s.pos, s.id, s.cites, want)
		}
	}
	for _, c := range catalog.All() {
		switch n := len(seen[c.ID]); {
		case n == 0:
			t.Errorf("%s has no spec (write one, or framework.Planned(%q) so it still gets a verdict)", c.ID, c.ID)
		case n > 1:
			t.Errorf("%s has %d specs: %v", c.ID, n, seen[c.ID])
		}
	}
}

func parseSpecs(t *testing.T) []spec {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []spec
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := specOf(fset, f, n); ok {
				out = append(out, s)
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatal("no Check/Planned calls found in suites/*.go")
	}
	return out
}

// specOf recognises Check("ID", ...) and Planned("ID") and reads the
// comment group that ends on the line above.
func specOf(fset *token.FileSet, f *ast.File, n ast.Node) (spec, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return spec{}, false
	}
	fn, ok := call.Fun.(*ast.Ident)
	if !ok || (fn.Name != "Check" && fn.Name != "Planned") {
		return spec{}, false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return spec{}, false
	}
	id, _ := strconv.Unquote(lit.Value)
	p := fset.Position(call.Pos())
	s := spec{id: id, pos: p.String()}
	for _, g := range f.Comments {
		if fset.Position(g.End()).Line == p.Line-1 {
			s.cites = citations(g.Text())
			s.noRule = strings.HasPrefix(g.Text(), "No RFC rule")
		}
	}
	return s, true
}

var (
	rfcRef     = regexp.MustCompile(`RFC\s+(\d+)`)
	sectionRef = regexp.MustCompile(`§\s*(\d+(?:\.\d+)*)|RFC\s+\d+\s+(Appendix\s+[IVX]+)`)
)

// citations lists the RFC sections a comment cites: "RFC 959 §4.1.2",
// "RFC 3659 §3.3/§4.3", "RFC 959 Appendix II"; a § without an RFC number
// ("its §3", "; §3.2:") belongs to the RFC named last; an RFC named with no
// section anywhere counts as the whole RFC ("2389").
func citations(text string) []string {
	text = strings.Join(strings.Fields(text), " ")
	set := map[string]bool{}
	withSection := map[string]bool{}
	rfcs := rfcRef.FindAllStringSubmatchIndex(text, -1)
	for _, m := range sectionRef.FindAllStringSubmatchIndex(text, -1) {
		rfc := ""
		for _, r := range rfcs {
			if r[0] <= m[0] {
				rfc = text[r[2]:r[3]]
			}
		}
		if rfc == "" {
			continue
		}
		sec := ""
		if m[2] >= 0 {
			sec = text[m[2]:m[3]]
		} else {
			sec = strings.Join(strings.Fields(text[m[4]:m[5]]), " ")
		}
		set[rfc+"§"+sec] = true
		withSection[rfc] = true
	}
	for _, r := range rfcs {
		if n := text[r[2]:r[3]]; !withSection[n] {
			set[n] = true
		}
	}
	var out []string
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func normCites(rfcs []string) []string {
	out := append([]string{}, rfcs...)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}
