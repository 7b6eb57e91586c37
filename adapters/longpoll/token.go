package longpoll

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
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
	mac := base64.RawURLEncoding.EncodeToString(h.mac(h.node, id))
	if h.node == "" {
		return id + "." + mac
	}
	return h.node + "." + id + "." + mac
}

func (h *Handler) mac(node, id string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(node))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return m.Sum(nil)
}

// verify checks token's signature and returns the node and session id it
// names.
func (h *Handler) verify(token string) (node, id string, err error) {
	parts := strings.Split(token, ".")
	switch len(parts) {
	case 2:
		id = parts[0]
	case 3:
		node, id = parts[0], parts[1]
	default:
		return "", "", errMalformed
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(id) != 22 {
		return "", "", errMalformed
	}
	if !hmac.Equal(mac, h.mac(node, id)) {
		return "", "", errForged
	}
	return node, id, nil
}
