package longpoll

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
)

// A token is "[node.]id.mac": id is 16 random bytes, and mac the
// HMAC-SHA256 of the node and the id under the server's key, both in
// unpadded base64url. The id makes it unguessable, the mac makes it the
// server's: a token is checked (in constant time) before any session is
// looked up.

var (
	errMalformed = errors.New("malformed token")
	errForged    = errors.New("token not signed by this server's key")
)

// newID returns a fresh session id.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign returns the token of session id on this node.
func (h *Handler) sign(id string) string {
	m := h.getMAC()
	defer h.putMAC(m)
	mac := base64.RawURLEncoding.EncodeToString(m.sum(h.node, id))
	if h.node == "" {
		return id + "." + mac
	}
	return h.node + "." + id + "." + mac
}

// macState is an HMAC-SHA256 under the Handler's key and the buffers of
// one token's check, kept in Handler.macs so that checking the token of
// every request allocates nothing.
type macState struct {
	h   hash.Hash
	in  []byte            // what is signed: node, 0, id
	tok []byte            // the token's mac, in base64
	got [sha256.Size]byte // the token's mac, decoded
	out [sha256.Size]byte
}

func (h *Handler) getMAC() *macState {
	if m, ok := h.macs.Get().(*macState); ok {
		return m
	}
	return &macState{h: hmac.New(sha256.New, h.key)}
}

func (h *Handler) putMAC(m *macState) {
	if cap(m.in) > 256 {
		m.in = nil // a long node name, which no token of this Handler has
	}
	h.macs.Put(m)
}

// sum returns the mac of node and id, in m.out.
func (m *macState) sum(node, id string) []byte {
	m.in = append(append(append(m.in[:0], node...), 0), id...)
	m.h.Reset()
	m.h.Write(m.in)
	return m.h.Sum(m.out[:0])
}

// verify checks token's signature and returns the node and session id it
// names.
func (h *Handler) verify(token string) (node, id string, err error) {
	// "id.mac" or "node.id.mac"
	rest, mac, ok := cutLast(token)
	if !ok {
		return "", "", errMalformed
	}
	node, id, ok = cutLast(rest)
	if !ok {
		node, id = "", rest
	} else if strings.IndexByte(node, '.') >= 0 {
		return "", "", errMalformed
	}
	if len(id) != 22 {
		return "", "", errMalformed
	}
	m := h.getMAC()
	defer h.putMAC(m)
	got := m.got[:]
	if base64.RawURLEncoding.DecodedLen(len(mac)) <= len(got) {
		m.tok = append(m.tok[:0], mac...)
		n, err := base64.RawURLEncoding.Decode(got, m.tok)
		if err != nil {
			return "", "", errMalformed
		}
		got = got[:n]
	} else if got, err = base64.RawURLEncoding.DecodeString(mac); err != nil {
		return "", "", errMalformed
	}
	if !hmac.Equal(got, m.sum(node, id)) {
		return "", "", errForged
	}
	return node, id, nil
}

// cutLast cuts s around its last '.'.
func cutLast(s string) (before, after string, found bool) {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}
