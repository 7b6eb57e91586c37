//go:build unix

package gobws

import (
	"io"
	"os"
	"syscall"
)

// rawReads says that a connection with a file descriptor is read through
// syscall.RawConn (see reader).
const rawReads = true

// readFD reads from the non-blocking descriptor fd into p: errAgain when
// it has nothing yet, io.EOF when the peer closed its side.
func readFD(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errAgain
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
