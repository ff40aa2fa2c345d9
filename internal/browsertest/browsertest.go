// Package browsertest renders the project's self-contained HTML pages in
// headless Chromium for tests: it reports which elements are present and
// visible, the page's text, and keeps a full-page screenshot as an
// artifact. It drives the chromium command line (--dump-dom, --screenshot)
// under a timeout; the pages themselves have no scripts: only the copy the
// probe loads gets a small script that measures the elements.
//
// Without a browser the tests skip (naming the package to install), or
// fail when the environment variable CI is set.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Timeout bounds one browser run.
var Timeout = 90 * time.Second

// Chromium returns the browser to use: $CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH. It skips the test when there
// is none, or fails it when CI is set.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := "headless Chromium not found: apt-get install chromium (or set CHROMIUM=/path/to/chrome)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Element is what the probe found for one CSS selector.
type Element struct {
	Count   int    `json:"count"`   // elements matching
	Visible int    `json:"visible"` // of which laid out, not hidden, with a non-empty box (SVG: width or height)
	Text    string `json:"text"`    // text of the first visible one
	Width   int    `json:"width"`   // its box
	Height  int    `json:"height"`
}

// Result is one probed page.
type Result struct {
	Elements map[string]Element `json:"elements"`
	Title    string             `json:"title"`
	Height   int                `json:"height"` // document height in CSS pixels
	Scripts  int                `json:"scripts"`
	External []string           `json:"external"` // src/href attributes pointing off the page
}

const probeJS = `<script id="ftph-probe-script">
(function(){
  var sels = %s, out = {elements:{}, title: document.title,
    height: Math.ceil(document.documentElement.scrollHeight),
    scripts: document.querySelectorAll('script').length - 1, external: []};
  sels.forEach(function(s){
    var els = document.querySelectorAll(s), e = {count: els.length, visible: 0, text: "", width: 0, height: 0};
    els.forEach(function(el){
      var r = el.getBoundingClientRect(), cs = getComputedStyle(el);
      // an SVG line has a box of zero width or height: one side is enough
      var boxed = (el instanceof SVGElement) ? (r.width > 0 || r.height > 0) : (r.width > 0 && r.height > 0);
      if (boxed && cs.visibility !== 'hidden' && cs.display !== 'none' && el.getClientRects().length > 0) {
        if (e.visible === 0) { e.text = (el.textContent || '').trim().slice(0, 2000); e.width = Math.round(r.width); e.height = Math.round(r.height); }
        e.visible++;
      }
    });
    out.elements[s] = e;
  });
  document.querySelectorAll('[src],[href],link').forEach(function(el){
    var v = el.getAttribute('src') || el.getAttribute('href') || '';
    if (v && v.charAt(0) !== '#') out.external.push(v);
  });
  var pre = document.createElement('pre'); pre.id = 'ftph-probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

var probeRE = regexp.MustCompile(`(?s)<pre id="ftph-probe">(.*?)</pre>`)

// Probe loads page in headless Chromium and reports, for each CSS
// selector, how many elements match and how many are visible.
func Probe(t testing.TB, page []byte, selectors ...string) Result {
	t.Helper()
	bin := Chromium(t)
	dir := t.TempDir()
	sels, _ := json.Marshal(selectors)
	s := string(page)
	script := fmt.Sprintf(probeJS, sels)
	if i := strings.LastIndex(s, "</body>"); i >= 0 {
		s = s[:i] + script + s[i:]
	} else {
		s += script
	}
	path := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, bin, dir, "--dump-dom", "--window-size=1280,1000", "file://"+path)
	m := probeRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("chromium: no probe output in the dumped DOM (%d bytes)", len(out))
	}
	var res Result
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &res); err != nil {
		t.Fatalf("probe output: %v", err)
	}
	return res
}

// Screenshot renders page (as is) at width × height CSS pixels and saves
// the PNG as name under $FTPH_ARTIFACTS (created if needed) or the test's
// temporary directory. It returns the PNG's path.
func Screenshot(t testing.TB, page []byte, name string, width, height int) string {
	t.Helper()
	bin := Chromium(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "page.html")
	if err := os.WriteFile(src, page, 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := os.Getenv("FTPH_ARTIFACTS")
	if outDir == "" {
		outDir = t.TempDir()
	} else if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := filepath.Abs(filepath.Join(outDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if height > 16000 {
		height = 16000
	}
	run(t, bin, dir, "--screenshot="+png, fmt.Sprintf("--window-size=%d,%d", width, height), "file://"+src)
	st, err := os.Stat(png)
	if err != nil || st.Size() < 1000 {
		t.Fatalf("chromium wrote no screenshot at %s (%v)", png, err)
	}
	t.Logf("screenshot: %s", png)
	return png
}

// run starts the browser with a fresh profile under dir and returns its
// standard output; the whole process group is killed at Timeout.
func run(t testing.TB, bin, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
		"--user-data-dir=" + filepath.Join(dir, "profile")}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	setGroup(cmd)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("chromium timed out after %s: %s", Timeout, tail(stderr.String()))
	}
	if err != nil {
		t.Fatalf("chromium: %v: %s", err, tail(stderr.String()))
	}
	return stdout.String()
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
