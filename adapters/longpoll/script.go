package longpoll

import (
	_ "embed"
	"net/http"
)

//go:embed websock.js
var script []byte

// ScriptHandler serves websock.js, the browser client: a WebSocket-like
// object, WebSock, that uses a WebSocket and falls back to this
// transport when the WebSocket cannot open. It is plain JavaScript with
// no build step; load it with a script tag, and see the comment at its
// top for its API:
//
//	mux.Handle("GET /websock.js", longpoll.ScriptHandler())
//	mux.Handle("/chat/poll", h) // h from New
//
//	<script src="/websock.js"></script>
//	<script>
//	  const sock = new WebSock("wss://example.com/chat", {longPoll: "/chat/poll"});
//	</script>
func ScriptHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(script)
	})
}
