//go:build unix

package browsertest

import (
	"os/exec"
	"syscall"
)

// setGroup puts the browser in its own process group and makes the
// timeout kill the whole group (renderer and GPU helpers included).
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
