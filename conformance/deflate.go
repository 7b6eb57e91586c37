package conformance

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
)

// Client-side permessage-deflate (RFC 7692), for the compression cases.

// offerDeflate is the extension offer the client makes: no context
// takeover either way, which every library that compresses accepts.
const offerDeflate = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"

// deflateAgreed reports whether the server's response accepted
// permessage-deflate.
func deflateAgreed(ext string) bool {
	return strings.Contains(strings.ToLower(ext), "permessage-deflate")
}

// compress returns p as one compressed message payload (RFC 7692 section
// 7.2.1: the trailing 0x00 0x00 0xff 0xff removed).
func compress(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
}

// inflate decompresses a message payload, with dict as the server's
// previous output when it keeps context, and at most limit bytes.
func inflate(p, dict []byte, limit int64) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}))
	r := flate.NewReaderDict(src, dict)
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}
