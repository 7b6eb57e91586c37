package main

import "github.com/websock-go/websock/websock"

// echoAccept accepts every request with the echo handler.
func echoAccept(*websock.Request) (websock.Handler, error) {
	return websock.HandlerFunc(echo), nil
}

// echo sends each message back as the same type; pushing the received
// frame allocates nothing.
func echo(f websock.Frame) websock.Result { return websock.Push(f) }
