// Command syncworker keeps Efecte ESM chat-session cards up to date from a
// chat platform. See README.md and SPEC §2 for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signals()
	p := &Program{Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(p.Run(ctx, stop, os.Args[1:]))
}

// signals turns the first SIGINT or SIGTERM into closing stop (finish the
// writes in flight, start nothing new) and the second into cancelling the
// context (stop at once).
func signals() (context.Context, <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ch
		close(stop)
		<-ch
		cancel()
	}()
	return ctx, stop
}
