// Package xconnect lets a program run with Go's HTTP/2 server accepting
// extended CONNECT (RFC 8441), which WebSockets over HTTP/2 need. Go
// enables it only through the environment, as the program starts
// (GODEBUG=http2xconnect=1): neither a //go:debug directive nor os.Setenv
// will do, so a program that wants it runs itself again with the setting.
package xconnect

import (
	"errors"
	"os"
	"os/exec"
	"strings"
)

// Setting is the GODEBUG setting that enables extended CONNECT.
const Setting = "http2xconnect=1"

// Enabled reports whether the environment enables extended CONNECT.
func Enabled() bool {
	for _, s := range strings.Split(os.Getenv("GODEBUG"), ",") {
		if strings.TrimSpace(s) == Setting {
			return true
		}
	}
	return false
}

// Rerun runs the program again, with its arguments and standard streams
// and Setting added to GODEBUG, and returns its exit status.
func Rerun() (int, error) {
	godebug := os.Getenv("GODEBUG")
	if godebug != "" {
		godebug += ","
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug+Setting)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}
