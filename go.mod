module github.com/websock-go/websock

go 1.26.0

require github.com/gorilla/websocket v1.5.3

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/fasthttp/websocket v1.5.12 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/ws v1.5.0 // indirect
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/savsgio/gotils v0.0.0-20240704082632-aef3928b8a38 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.74.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	nhooyr.io/websocket v1.8.17 // indirect
)
