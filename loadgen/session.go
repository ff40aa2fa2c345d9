package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// ftpDriver is one FTP session of a loop scenario.
type ftpDriver struct {
	a    *Attacker
	idx  int
	src  net.IP
	c    *ctrl
	buf  []byte
	rbuf *bufio.Reader // under TLS data connections (wrapData)
	file string
	size int64
	stor string
}

func newFTPDriver(a *Attacker, idx int) driver {
	return &ftpDriver{a: a, idx: idx, src: a.source(idx)}
}

func (d *ftpDriver) alive() bool { return d.c != nil }

func (d *ftpDriver) close() {
	if d.c != nil {
		d.c.close()
		d.c = nil
	}
}

func (d *ftpDriver) now() time.Time { return time.Now() }

// open connects, reads the greeting, logs in and sets TYPE I (FTPS: with
// the control handshake before or after the greeting, and PBSZ 0, PROT P).
func (d *ftpDriver) open(hard context.Context) *Result {
	a := d.a
	r := &Result{Op: "login"}
	if d.src != nil {
		r.Source = d.src.String()
	}
	r.Start = d.now()
	c, err := dialCtrl(hard, hard, a.target.Addr, d.src, a.timeout, a.tlsOpts()...)
	t1 := d.now()
	r.SetPhase(PhaseConnect, t1.Sub(r.Start))
	if err != nil {
		r.End = t1
		r.fail(PhaseConnect, err)
		return r
	}
	if err := d.startTLS(c, false, r); err != nil { // implicit FTPS
		return d.openFailed(c, r, PhaseTLSHandshake, err)
	}
	t1 = d.now()
	g, err := c.greeting()
	t2 := d.now()
	r.SetPhase(PhaseGreeting, t2.Sub(t1))
	if err != nil {
		return d.openFailed(c, r, PhaseGreeting, err)
	}
	if a.Banner() == "" {
		a.banner.Store(replyLine(g))
	}
	if err := d.startTLS(c, true, r); err != nil { // explicit FTPS
		return d.openFailed(c, r, PhaseTLSHandshake, err)
	}
	t2 = d.now()
	err = c.login(a.target.User, a.target.Password)
	if err == nil {
		err = d.protect(c)
	}
	if err == nil {
		_, err = c.expect("TYPE I", 200)
	}
	t3 := d.now()
	r.SetPhase(PhaseLogin, t3.Sub(t2))
	if err != nil {
		d.openFailed(c, r, PhaseLogin, err)
		r.Reply, r.Err = a.hidePassword(r.Reply), a.hidePassword(r.Err)
		return r
	}
	r.End = t3
	d.c = c
	if d.buf == nil {
		d.buf = make([]byte, 256<<10)
	}
	return r
}

// openFailed closes the connection open could not finish and records why.
func (d *ftpDriver) openFailed(c *ctrl, r *Result, p Phase, err error) *Result {
	c.close()
	r.End = d.now()
	r.fail(p, err)
	return r
}

// do runs one operation: retr, list, stor (a passive cycle) or cwd, pwd,
// noop (a command).
func (d *ftpDriver) do(hard context.Context, op string) *Result {
	r := &Result{Op: op}
	if d.src != nil {
		r.Source = d.src.String()
	}
	r.Start = d.now()
	var err error
	var phase Phase
	switch op {
	case "cwd", "pwd", "noop":
		line := map[string]string{"cwd": "CWD /", "pwd": "PWD", "noop": "NOOP"}[op]
		ok := map[string]int{"cwd": 250, "pwd": 257, "noop": 200}[op]
		_, err = d.c.expect(line, ok, 200, 250)
		r.End = d.now()
		r.SetPhase(PhaseCommand, r.End.Sub(r.Start))
		phase = PhaseCommand
	default:
		phase, err = d.cycle(hard, op, r)
		r.End = d.now()
	}
	if err != nil {
		r.fail(phase, err)
		if !knownState(err) {
			// the control connection is in an unknown state: start over
			d.close()
		}
	}
	return r
}

// knownState: after err the control connection is where the dialogue
// expects it: a reply was read in full (a refusal, a reply refused for its
// content such as an address mismatch, a failed data handshake whose
// verdict came).
func knownState(err error) bool {
	var re *ftp.ReplyError
	var ce classError
	var te *tlsError
	if errors.As(err, &te) {
		return te.keep
	}
	return errors.As(err, &re) || errors.As(err, &ce)
}

func (d *ftpDriver) checkEndpoint(ep ftp.Endpoint, r *Result) {
	a := d.a
	r.Port = ep.Port
	if ep.IP != nil {
		r.PasvIP = ep.IP.String()
	}
	r.OutOfRange = !a.pasvRange.Contains(ep.Port)
	if !a.epsv && ep.IP != nil {
		want := a.pasvAddr
		if want == nil {
			want = d.c.remote()
		}
		r.AddrMismatch = !ep.IP.Equal(want)
	}
}

// cycle is PASV/EPSV, data connect, the transfer command, data, 226.
func (d *ftpDriver) cycle(hard context.Context, op string, r *Result) (Phase, error) {
	a, c := d.a, d.c
	t0 := r.Start
	ep, _, err := c.passive(a.epsv)
	t1 := d.now()
	r.SetPhase(PhasePasv, t1.Sub(t0))
	if err != nil {
		return PhasePasv, err
	}
	d.checkEndpoint(ep, r)
	addr, err := c.dataAddr(ep, a.strict, a.remoteData)
	if err != nil {
		return PhasePasv, err
	}
	dctx, cancel := context.WithTimeout(hard, a.timeout)
	dc, err := dialTCP(dctx, addr, d.src)
	cancel()
	t2 := d.now()
	r.SetPhase(PhaseDataConnect, t2.Sub(t1))
	if err != nil {
		return PhaseDataConnect, err
	}
	tcp := dc
	dc = d.wrapData(c, dc, d.a.tlsNoResume)
	defer dc.Close()
	var line string
	switch op {
	case "retr":
		line = "RETR " + a.File(a.current)
	case "list":
		line = "LIST"
	case "stor":
		line = "STOR " + a.storName(d.idx)
	}
	if err := c.send(line); err != nil {
		return PhaseFirstByte, err
	}
	if op == "stor" {
		a.markStored(d.idx) // the file may exist from here on
	}
	pre, err := c.read()
	if err != nil {
		return PhaseFirstByte, err
	}
	if pre.Code/100 != 1 {
		return PhaseFirstByte, &ftp.ReplyError{Cmd: verbOf(line), Reply: pre}
	}
	if err := d.dataHandshake(c, dc, d.a.tlsNoResume, r); err != nil {
		return PhaseDataTLSHandshake, err
	}
	hs, _ := r.PhaseDur(PhaseDataTLSHandshake)
	t2 = t2.Add(hs) // first-byte leaves the data handshake out
	dl := time.Now().Add(a.timeout)
	dc.SetDeadline(dl)
	var t3, t4 time.Time
	if op == "stor" {
		t3 = d.now()
		r.SetPhase(PhaseFirstByte, t3.Sub(t2))
		remaining := a.Size(a.current)
		for remaining > 0 {
			n := int64(len(d.buf))
			if n > remaining {
				n = remaining
			}
			if r.Bytes%(16<<20) == 0 {
				dc.SetWriteDeadline(time.Now().Add(a.timeout))
			}
			w, err := dc.Write(d.buf[:n])
			r.Bytes += int64(w)
			remaining -= int64(w)
			if err != nil {
				return PhaseTransfer, err
			}
		}
		if err := endUpload(dc, a.timeout); err != nil {
			return PhaseTransfer, err
		}
		t4 = d.now()
	} else {
		n, err := dc.Read(d.buf)
		t3 = d.now()
		r.SetPhase(PhaseFirstByte, t3.Sub(t2))
		r.Bytes += int64(n)
		if err == nil {
			err = d.readRest(dc, tcp, op, r)
		}
		if err != io.EOF {
			return PhaseTransfer, err
		}
		t4 = d.now()
		dc.Close()
	}
	r.SetPhase(PhaseTransfer, t4.Sub(t3))
	fin, err := c.read()
	t5 := d.now()
	r.SetPhase(PhaseFinalReply, t5.Sub(t4))
	if err != nil {
		return PhaseFinalReply, err
	}
	if fin.Code != 226 && fin.Code != 250 {
		return PhaseFinalReply, &ftp.ReplyError{Cmd: verbOf(line), Reply: fin}
	}
	return PhaseFinalReply, nil
}

// readRest reads a RETR or LIST data connection to its end (io.EOF)
// after the first bytes, counting into r.Bytes. A RETR of the generator's
// own file (its size checked by Prepare) waits for a buffer's worth at a
// time (rcvLowat on tcp, the TCP connection under any TLS): reading data
// as it trickles in costs a wake-up, a system call and a context switch
// each, which made a 1 GiB FTPS RETR cost ~30% more CPU than curl's
// (33,000 context switches against 15,000). The last stretch is read as
// it comes, so that a server waiting for our close_notify before it
// closes cannot leave the end below the mark.
func (d *ftpDriver) readRest(dc, tcp net.Conn, op string, r *Result) error {
	a := d.a
	size := a.Size(a.current)
	// below this many bytes left, the end may be in buffers above the
	// socket (bufferedConn, crypto/tls's record) or not sent yet
	tail := int64(rcvLowat + 2*dataReadBuffer)
	lowat := op == "retr" && a.file == "" && size-r.Bytes > tail && setRcvLowat(tcp, rcvLowat)
	for i := 0; ; i++ {
		if i&63 == 63 {
			dc.SetReadDeadline(time.Now().Add(a.timeout))
		}
		if lowat && size-r.Bytes <= tail {
			lowat = !setRcvLowat(tcp, 1)
		}
		n, err := dc.Read(d.buf)
		r.Bytes += int64(n)
		if err != nil {
			return err
		}
	}
}

// ErrUnreachable wraps a failure to connect to the target or to get its
// greeting.
var ErrUnreachable = errors.New("target unreachable")

// ErrLoginRefused wraps the target's refusal of the user and password.
var ErrLoginRefused = errors.New("login refused")

// hidePassword keeps the password out of a login failure's text, should
// a server echo the PASS command in its reply. Passwords of fewer than
// three characters are left alone: replacing every such letter would
// garble the text and hide nothing.
func (a *Attacker) hidePassword(s string) string {
	if p := a.target.Password; len(p) >= 3 {
		return strings.ReplaceAll(s, p, "****")
	}
	return s
}

// Prepare checks that the target answers and logs in, and for scenarios
// that RETR makes sure the file exists with the right size (uploading it
// when it does not and no file was named).
func (a *Attacker) Prepare(ctx context.Context, scenario string) error {
	if a.err != nil {
		return a.err
	}
	d := &ftpDriver{a: a, src: a.source(0)}
	r := d.open(a.hardCtx)
	if !r.OK() {
		if r.FailedPhase == PhaseLogin && r.Code != 0 {
			return fmt.Errorf("%w as %s: %s (check the user and password)", ErrLoginRefused, a.target.User, firstNonEmpty(r.Reply, r.Err))
		}
		if scenario == Exhaust && (r.Class == ClassReply4xx || r.Class == ClassReply5xx) {
			// a server already refusing sessions is something exhaust reports
			return nil
		}
		return fmt.Errorf("%w: %s: %s", ErrUnreachable, r.FailedPhase, firstNonEmpty(r.Reply, r.Err))
	}
	defer func() {
		d.c.send("QUIT")
		d.close()
	}()
	needRetr := scenario == Retr || (scenario == Churn && !a.list)
	if scenario == Mixed {
		for _, e := range a.mix {
			if e.Op == "retr" && e.Weight > 0 {
				needRetr = true
			}
		}
	}
	if !needRetr {
		return nil
	}
	name, size := a.File(scenario), a.Size(scenario)
	rep, err := d.c.cmd("SIZE " + name)
	if err != nil {
		return fmt.Errorf("%w: SIZE: %v", ErrUnreachable, err)
	}
	if rep.Code == 213 {
		if a.file != "" || rep.Text() == itoa(int(size)) {
			return nil
		}
	} else if a.file != "" {
		return fmt.Errorf("file %q: SIZE: %s", name, replyLine(rep))
	}
	if a.shard.Sharded() && a.shard.Index > 0 {
		// shard 0 uploads it: the others wait for it rather than all
		// rewriting the same file while some already read it
		return d.waitFile(ctx, name, size)
	}
	// upload it
	d.buf = make([]byte, 256<<10)
	saved := a.size
	a.size = size
	defer func() { a.size = saved }()
	up := &Result{Start: time.Now()}
	a.uploaded = name // created by this run from here on (Cleanup)
	ph, err := d.upload(ctx, "STOR "+name, size, up)
	if err != nil {
		if ph == PhasePasv || ph == PhaseDataConnect {
			a.uploaded = "" // STOR was never sent: nothing to clean up
		}
		var ce classError
		if errors.As(err, &ce) && ce.class == ClassAddrMismatch {
			// --strict-address, and the server advertises a host that is
			// not the control peer: the upload cannot be made without
			// dialling it, and every RETR cycle fails the same way at
			// PASV, before RETR, so the run goes on and records that
			return nil
		}
		return fmt.Errorf("uploading %s (%d bytes) for RETR: %s: %v", name, size, ph, err)
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// upload stores size bytes under cmdline's name through a passive cycle.
func (d *ftpDriver) upload(ctx context.Context, cmdline string, size int64, r *Result) (Phase, error) {
	c := d.c
	ep, _, err := c.passive(d.a.epsv)
	if err != nil {
		return PhasePasv, err
	}
	addr, err := c.dataAddr(ep, d.a.strict, d.a.remoteData)
	if err != nil {
		return PhasePasv, err
	}
	dctx, cancel := context.WithTimeout(ctx, d.a.timeout)
	dc, err := dialTCP(dctx, addr, d.src)
	cancel()
	if err != nil {
		return PhaseDataConnect, err
	}
	dc = d.wrapData(c, dc, false) // the file RETR reads: setup, not measured
	defer dc.Close()
	pre, err := c.cmd(cmdline)
	if err != nil {
		return PhaseFirstByte, err
	}
	if pre.Code/100 != 1 {
		return PhaseFirstByte, &ftp.ReplyError{Cmd: "STOR", Reply: pre}
	}
	if err := d.dataHandshake(c, dc, false, r); err != nil {
		return PhaseDataTLSHandshake, err
	}
	for size > 0 {
		n := int64(len(d.buf))
		if n > size {
			n = size
		}
		dc.SetWriteDeadline(time.Now().Add(d.a.timeout))
		w, err := dc.Write(d.buf[:n])
		size -= int64(w)
		if err != nil {
			return PhaseTransfer, err
		}
	}
	if err := endUpload(dc, d.a.timeout); err != nil {
		return PhaseTransfer, err
	}
	fin, err := c.read()
	if err != nil {
		return PhaseFinalReply, err
	}
	if fin.Code != 226 && fin.Code != 250 {
		return PhaseFinalReply, &ftp.ReplyError{Cmd: "STOR", Reply: fin}
	}
	return PhaseFinalReply, nil
}

// waitFile polls SIZE until name has size bytes (another shard uploads
// it), bounded by six step timeouts.
func (d *ftpDriver) waitFile(ctx context.Context, name string, size int64) error {
	deadline := time.Now().Add(6 * d.a.timeout)
	for {
		rep, err := d.c.cmd("SIZE " + name)
		if err != nil {
			return fmt.Errorf("%w: SIZE: %v", ErrUnreachable, err)
		}
		if rep.Code == 213 && rep.Text() == itoa(int(size)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("shard %s: %s (%d bytes) for RETR: shard 0 did not upload it within %v (SIZE: %s)", d.a.shard, name, size, 6*d.a.timeout, replyLine(rep))
		}
		if err := d.a.clock.Sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}
