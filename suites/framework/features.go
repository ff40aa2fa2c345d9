package framework

import (
	"context"
	"fmt"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/ftp"
)

// Features is the server's FEAT answer: upper-case feature name to its
// parameters ("MLST" -> "type*;size*;...", "REST" -> "STREAM").
type Features map[string]string

var (
	featOnce sync.Once
	feats    Features
	featErr  error
)

// Feat probes FEAT once per process (after login) and caches the answer.
func Feat(ctx context.Context) Features {
	featOnce.Do(func() {
		c, err := rawLogin(ctx)
		if err != nil {
			featErr = err
			return
		}
		defer c.Close()
		octx, cancel := Ctx(ctx)
		defer cancel()
		r, err := c.Cmd(octx, "FEAT")
		if err != nil {
			featErr = err
			return
		}
		feats = ParseFeat(r)
	})
	return feats
}

// ParseFeat reads a 211 FEAT reply (RFC 2389 §3.2). Anything else means no
// features.
func ParseFeat(r ftp.Reply) Features {
	f := Features{}
	if r.Code != 211 {
		return f
	}
	for i, l := range r.Lines {
		if i == 0 || i == len(r.Lines)-1 {
			continue
		}
		l = strings.TrimSpace(l)
		name, params, _ := strings.Cut(l, " ")
		f[strings.ToUpper(name)] = params
	}
	return f
}

// Has reports whether FEAT lists name (MLSD counts as listed when MLST is,
// RFC 3659 §7.8; "REST STREAM" checks the parameter).
func (f Features) Has(name string) bool {
	name = strings.ToUpper(name)
	switch name {
	case "MLSD":
		_, ok := f["MLST"]
		return ok
	case "REST STREAM":
		return strings.EqualFold(strings.TrimSpace(f["REST"]), "STREAM")
	case "AUTH TLS":
		return strings.Contains(strings.ToUpper(f["AUTH"]), "TLS")
	case "UTF8":
		_, ok := f["UTF8"]
		return ok
	}
	_, ok := f[name]
	return ok
}

// Require skips the spec unless the server advertises feature in FEAT.
func Require(ctx context.Context, feature string) {
	if !Feat(ctx).Has(feature) {
		Skip("server does not advertise " + feature + " in FEAT (RFC 2389): the check needs it")
	}
}

// RequireRange skips unless --ftp.pasv-range was given, and returns it.
func RequireRange() (lo, hi int) {
	r, ok := Config().PasvPorts()
	if !ok {
		Skip("needs --ftp.pasv-range (the passive range the server is configured with)")
	}
	return r.Lo, r.Hi
}

// SkipUnimplemented skips when a command the RFCs do not make mandatory
// got 500/502 and FEAT does not list it (a listed feature answering 502 is
// left for the check to fail).
func SkipUnimplemented(ctx context.Context, r ftp.Reply, feature string) {
	if r.Is(500, 502) && !Feat(ctx).Has(feature) {
		Skip(fmt.Sprintf("%s is not implemented (%s) and FEAT does not list it: optional (RFC 2428)", feature, r))
	}
}
