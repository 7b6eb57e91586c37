package wire

import (
	"encoding/binary"
	"math/bits"
)

// unmask XORs b with the masking key, b's first byte being byte off of
// the frame's payload (RFC 6455 section 5.3). It works eight bytes at a
// time: a byte at a time cost a 64 KiB message more than its read did.
func unmask(key [4]byte, off uint64, b []byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k = bits.RotateLeft32(k, -8*int(off&3)) // the key as it lines up with b[0]
	k8 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+32 <= len(b); i += 32 {
		c := b[i : i+32 : i+32]
		binary.LittleEndian.PutUint64(c, binary.LittleEndian.Uint64(c)^k8)
		binary.LittleEndian.PutUint64(c[8:], binary.LittleEndian.Uint64(c[8:])^k8)
		binary.LittleEndian.PutUint64(c[16:], binary.LittleEndian.Uint64(c[16:])^k8)
		binary.LittleEndian.PutUint64(c[24:], binary.LittleEndian.Uint64(c[24:])^k8)
	}
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k8)
	}
	for ; i < len(b); i++ {
		b[i] ^= byte(k >> (8 * (i & 3)))
	}
}
