//go:build !unix

package adapters

// descriptorLimit reports that the descriptor limit is not known here: the
// default MaxConnections is then no cap.
func descriptorLimit() (uint64, bool) { return 0, false }
