//go:build !unix

package browsertest

import "os/exec"

func setGroup(cmd *exec.Cmd) {}
