//go:build !unix

package gobws

import "errors"

// rawReads says that connections are read through net.Conn only: direct
// reads of a descriptor are implemented on Unix systems.
const rawReads = false

func readFD(uintptr, []byte) (int, error) {
	return 0, errors.New("gobws: direct reads are not supported on this system")
}
