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
	if len(os.Args) > 1 && os.Args[1] == "run" {
		// Only run reloads; the other commands keep SIGHUP's default.
		p.Reload = hangups()
	}
	os.Exit(p.Run(ctx, stop, os.Args[1:]))
}

// hangups turns each SIGHUP into a request to reload the tenant files; a
// request not yet taken absorbs the next ones.
func hangups() <-chan struct{} {
	reload := make(chan struct{}, 1)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		for range ch {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	return reload
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
